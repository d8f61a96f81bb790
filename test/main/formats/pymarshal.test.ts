// Marshal decoding of Keras Lambda bytecode: the P7 corpus lambdas (Python 3.11, base64), the
// dl4j_keras_lambda Keras 2.0 / Python 2 lambdas (raw_unicode_escape), crafted code objects of
// every layout, real Python output when an interpreter is present, hostile input and a fuzz run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { readKerasH5, readKerasV3 } from '../../../main/formats/keras.ts';
import { codeReferences, decodeMarshal, kerasCodeBytes, MarshalError, pythonVersionForMagic, type PyValue } from '../../../main/formats/pymarshal.ts';
import { crafted, real, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { base64Lines, findPython, marshal, pythonLambdaCode, rawUnicodeEscape } from './writers.ts';

function lambdaCodes(config: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const visit = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.class_name === 'Lambda') out[(o.config as { name: string }).name] = (o.config as { function: unknown }).function;
      Object.values(o).forEach(visit);
    }
  };
  visit(config);
  return out;
}

function decodeKeras(encoded: string) {
  const { bytes, encoding } = kerasCodeBytes(encoded);
  const result = decodeMarshal(bytes, { preferPy2: encoding === 'raw_unicode_escape' });
  return { ...result, encoding, refs: codeReferences(result.value) };
}

test('P7_keras_lambdas model.keras: postprocess imports subprocess and calls run; double is arithmetic', { skip: skipWithoutCorpus }, async () => {
  const model = await readKerasV3(crafted('P7_keras_lambdas', 'model.keras'));
  const fns = lambdaCodes(model.keras!.config) as Record<string, { config: { code: string } }>;
  const post = decodeKeras(fns.postprocess.config.code);
  assert.equal(post.encoding, 'base64');
  assert.match(post.pythonVersion!, /3\.11\+/);
  assert.deepEqual(post.refs.names, ['__import__', 'run']);
  assert.ok(post.refs.strings.includes('subprocess'));
  assert.ok(post.refs.strings.includes('true'));
  const double = decodeKeras(fns.double.config.code);
  assert.deepEqual(double.refs.names, []);
  assert.deepEqual(double.refs.varnames, ['x']);
  assert.equal(double.value.type, 'code');
  if (double.value.type === 'code') assert.ok(double.value.code.consts.some((c) => c.type === 'float' && c.value === 2));
});

test('dl4j_keras_lambda model_lambda.h5: Keras 2.0.9 raw_unicode_escape lambdas decode with the Python 2 layout', { skip: skipWithoutCorpus }, async () => {
  const model = await readKerasH5(real('dl4j_keras_lambda', 'model_lambda.h5'));
  const fns = lambdaCodes(model.keras!.config) as Record<string, [string, null, null]>;
  assert.deepEqual(Object.keys(fns).sort(), ['lambda_3', 'lambda_4']);
  for (const [code] of Object.values(fns)) {
    assert.equal(code.charCodeAt(0), 0x63);
    const d = decodeKeras(code);
    assert.equal(d.encoding, 'raw_unicode_escape');
    assert.match(d.pythonVersion!, /Python 2/);
    assert.equal(d.value.type, 'code');
    if (d.value.type !== 'code') continue;
    assert.equal(d.value.code.layout, '2.7');
    assert.equal(d.value.code.name, '<lambda>');
    assert.deepEqual(d.value.code.varnames, ['x']);
    assert.match(d.value.code.filename, /^<ipython-input-/);
  }
});

test('crafted code objects: every layout decodes with names, nested code and the version it suggests', () => {
  const inner = { code: { layout: '3.8-3.10' as const, names: ['system'], consts: [null, 'id'], name: 'helper' } };
  const cases = [
    { layout: '2.7' as const, expect: /Python 2/ },
    { layout: '3.0-3.7' as const, expect: /3\.0–3\.7/ },
    { layout: '3.8-3.10' as const, expect: /3\.8–3\.10/ },
    { layout: '3.11+' as const, expect: /3\.11\+/ },
  ];
  for (const c of cases) {
    const nested = c.layout === '3.8-3.10' ? [inner] : [];
    const bytes = marshal({ code: { layout: c.layout, names: ['os', 'getcwd'], consts: [null, 'os', 2.5, { tuple: [1, 'a'] }, ...nested], varnames: ['x', 'y'], firstlineno: 7 } }, c.layout === '2.7');
    const result = decodeMarshal(bytes, { preferPy2: c.layout === '2.7' });
    assert.equal(result.value.type, 'code', c.layout);
    if (result.value.type !== 'code') continue;
    assert.equal(result.value.code.layout, c.layout);
    assert.match(result.pythonVersion!, c.expect);
    assert.deepEqual(result.value.code.names, ['os', 'getcwd']);
    assert.deepEqual(result.value.code.varnames, ['x', 'y']);
    assert.equal(result.value.code.firstlineno, 7);
    const refs = codeReferences(result.value);
    assert.ok(refs.strings.includes('os') && refs.strings.includes('a'));
    if (nested.length) {
      assert.deepEqual(refs.functions, ['<lambda>', 'helper']);
      assert.ok(refs.names.includes('system'));
    }
  }
});

test('Python 2 IMPORT_NAME in variable-length bytecode is decoded to the module name', () => {
  // LOAD_CONST 1; LOAD_CONST 0; IMPORT_NAME 0 (os); STORE_FAST; LOAD_CONST; RETURN_VALUE
  const bytecode = new Uint8Array([0x64, 1, 0, 0x64, 0, 0, 108, 0, 0, 0x7d, 1, 0, 0x64, 0, 0, 0x53]);
  const bytes = marshal({ code: { layout: '2.7', bytecode, names: ['os'], consts: [null, -1] } }, true);
  const result = decodeMarshal(bytes, { preferPy2: true });
  assert.deepEqual(codeReferences(result.value).imports, ['os']);
});

test('references (FLAG_REF and TYPE_REF) resolve to the earlier object', () => {
  // tuple(ref-flagged 'abc', r 0): ('abc', 'abc')
  const bytes = new Uint8Array([0x28, 2, 0, 0, 0, 0xfa, 3, 0x61, 0x62, 0x63, 0x72, 1, 0, 0, 0]);
  // ref index 1: the tuple itself is not flagged, the string is slot 0; index 1 is out of range
  assert.throws(() => decodeMarshal(bytes), MarshalError);
  bytes[11] = 0;
  const value: PyValue = decodeMarshal(bytes).value;
  if (value.type !== 'tuple') return assert.fail(`expected a tuple, got ${value.type}`);
  assert.equal(value.items.length, 2);
  assert.equal(value.items[1], value.items[0]);
});

test('.pyc headers give the version from the magic number', () => {
  assert.equal(pythonVersionForMagic(3495), '3.11');
  assert.equal(pythonVersionForMagic(62211), '2.7');
  assert.equal(pythonVersionForMagic(3413), '3.8');
  const body = marshal({ code: { layout: '3.11+', names: ['print'] } });
  const header = new Uint8Array([0xa7, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const result = decodeMarshal(new Uint8Array([...header, ...body]));
  assert.equal(result.pythonVersion, 'Python 3.11');
  assert.match(result.versionEvidence!, /magic number 3495/);
});

test('Keras string encodings: base64 with line breaks and raw_unicode_escape round-trip', () => {
  const bytes = marshal({ code: { layout: '3.11+', names: ['eval'] } });
  assert.deepEqual(kerasCodeBytes(base64Lines(bytes)), { bytes, encoding: 'base64' });
  const py2 = marshal({ code: { layout: '2.7', names: ['eval'] } }, true);
  assert.deepEqual(kerasCodeBytes(rawUnicodeEscape(py2)), { bytes: py2, encoding: 'raw_unicode_escape' });
});

test('hostile marshal data ends in MarshalError: truncation, unknown codes, huge lengths, deep nesting', () => {
  const good = marshal({ code: { layout: '3.11+', names: ['os'] } });
  for (let cut = 0; cut < good.length; cut += 3) assert.throws(() => decodeMarshal(good.subarray(0, cut)), MarshalError, `cut ${cut}`);
  assert.throws(() => decodeMarshal(new Uint8Array([0x01])), /unknown marshal type code/);
  assert.throws(() => decodeMarshal(new Uint8Array([0x73, 0xff, 0xff, 0xff, 0x7f])), MarshalError);
  assert.throws(() => decodeMarshal(new Uint8Array([0x28, 0xff, 0xff, 0xff, 0x7f])), /item count|truncated/);
  const deep = new Uint8Array(2000 * 5 + 1);
  for (let i = 0; i < 2000; i++) deep.set([0x28, 1, 0, 0, 0], i * 5);
  deep[deep.length - 1] = 0x4e;
  assert.throws(() => decodeMarshal(deep), /nesting deeper/);
  assert.throws(() => decodeMarshal(new Uint8Array(20), { limits: { maxBytes: 10 } }), /exceeds/);
});

const python = findPython();

test('real Python 3 bytecode: names and constants of a malicious lambda are found, without running anything', { skip: python ? false : 'no Python interpreter (/usr/bin/python3, /opt/tfvenv/bin/python or TFAUDIT_TF_PYTHON) to compile test lambdas' }, () => {
  const evil = pythonLambdaCode(python!, 'lambda x: (__import__("os").system("id"), exec("import socket"), x)[2]');
  const refs = decodeKeras(evil.code).refs;
  assert.ok(refs.names.includes('__import__') && refs.names.includes('system') && refs.names.includes('exec'), refs.names.join(','));
  assert.ok(refs.strings.includes('os') && refs.strings.includes('import socket'));
  const benign = pythonLambdaCode(python!, 'lambda x: x * 2');
  const d = decodeKeras(benign.code);
  assert.deepEqual(d.refs.names, []);
  assert.match(d.pythonVersion!, Number(benign.version.split('.')[1]) >= 11 ? /3\.11\+/ : /3\./);
});

test('real Python 3 import statements: IMPORT_NAME operands are reported as imports', { skip: python ? false : 'no Python interpreter to compile test code' }, () => {
  const script = 'import base64,marshal\nsrc="def f(x):\\n    import os, subprocess\\n    from socket import create_connection\\n    return x\\n"\nc=compile(src,"<crafted>","exec")\nprint(base64.b64encode(marshal.dumps(c.co_consts[0])).decode())';
  const out = spawnSync(python!, ['-c', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(out.status, 0, out.stderr);
  const refs = decodeKeras(out.stdout.trim()).refs;
  assert.deepEqual([...refs.imports].sort(), ['os', 'socket', 'subprocess']);
  assert.ok(refs.names.includes('create_connection'));
});

test('fuzz: random and mutated marshal data never crashes the decoder (bounded run)', () => {
  const seeds = [
    marshal({ code: { layout: '3.11+', names: ['os', 'system'], consts: [null, 'id', { tuple: [1, 2.5] }] } }),
    marshal({ code: { layout: '2.7', names: ['eval'] } }, true),
    marshal({ code: { layout: '3.8-3.10', consts: [{ code: { layout: '3.8-3.10', names: ['x'] } }] } }),
  ];
  const deadline = Date.now() + 15_000;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.uint8Array({ maxLength: 64 }), (seed, edits, random) => {
      if (Date.now() > deadline) return;
      const data = seeds[seed].slice();
      for (const [pos, value] of edits) data[pos % data.length] = value;
      for (const input of [data, random]) {
        try {
          const result = decodeMarshal(input);
          codeReferences(result.value);
        } catch (error) {
          assert.ok(error instanceof MarshalError, String(error));
        }
      }
    }),
    { numRuns: 4000 },
  );
});

test('layout retries are bounded: deeply nested code objects that break late fail fast', () => {
  // 40 nested 3.11-looking code objects whose innermost exception table is missing.
  let inner = marshal({ code: { layout: '3.11+', names: ['x'] } });
  inner = inner.subarray(0, inner.length - 5);
  let data = inner;
  for (let i = 0; i < 40; i++) {
    const outer = marshal({ code: { layout: '3.11+', names: ['y'], consts: [null] } });
    // Splice the previous object in as the only constant: find the consts tuple `( 1 N`.
    const at = Buffer.from(outer).indexOf(Buffer.from([0x28, 1, 0, 0, 0, 0x4e]));
    data = new Uint8Array([...outer.subarray(0, at + 5), ...data, ...outer.subarray(at + 6)]);
  }
  const started = Date.now();
  assert.throws(() => decodeMarshal(data), MarshalError);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});
