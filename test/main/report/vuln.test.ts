// Vulnerability report draft for the synthetic P1-shaped finding (If on variable `mode` →
// WriteFile('/tmp/tfaudit_canary'), active under ckpt_active/ckpt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderVulnReport, defaultFindingId, codeSpan, mdText } from '../../../main/report/vuln.ts';
import { syntheticDocument, syntheticReport, writeFileFinding, MODEL_PATH, PB_SHA, DATA_SHA } from './synthetic-report.ts';

const SECTIONS = [
  '## Type of issue',
  '## Affected source and locations',
  '## Configuration needed to reproduce',
  '## Step-by-step reproduction',
  '## Proof of concept',
  '## Impact',
];

test('has every section TensorFlow asks reporters for, in order', () => {
  const md = renderVulnReport(syntheticDocument(), 'F1');
  let at = -1;
  for (const s of SECTIONS) {
    const i = md.indexOf(`\n${s}\n`);
    assert.ok(i > at, `${s} after the previous section`);
    at = i;
  }
  assert.match(md, /^# Draft vulnerability report: file writes in model `P1_trojan_if_writefile`/);
});

test('fills the sections from the finding', () => {
  const md = renderVulnReport(syntheticDocument(), 'F1');
  assert.ok(md.includes('**Arbitrary file write from a model.**'));
  assert.ok(md.includes('CWE-73'));
  assert.ok(md.includes('Unsafe op: `WriteFile` at node `__inference_canary_42/WriteFile` in meta graph `serve`'));
  assert.ok(md.includes(`| \`saved_model.pb\` | 48213 | \`${PB_SHA}\` |`));
  assert.ok(md.includes(DATA_SHA));
  assert.ok(md.includes('TensorFlow version recorded in the model: `2.21.0` (GraphDef producer 2134)'));
  assert.ok(md.includes(`Checkpoint that triggers it: \`${MODEL_PATH}/ckpt_active/ckpt\``));
  assert.ok(md.includes('`mode/.ATTRIBUTES/VARIABLE_VALUE` = `1`'));
  assert.ok(md.includes(`tfaudit sandbox ${MODEL_PATH} --checkpoint ${MODEL_PATH}/ckpt_active/ckpt`));
  assert.ok(md.includes(`tfaudit scan ${MODEL_PATH} --checkpoint ${MODEL_PATH}/ckpt_active/ckpt`));
  assert.ok(md.includes("saved_model_cli run --dir /tmp/poc_model --tag_set serve --signature_def serving_default --input_exprs 'x=np.zeros((1,1),dtype=np.float32)'"));
  assert.ok(md.includes('### Recorded sandbox runs'));
  assert.ok(md.includes('file created: `/tmp/tfaudit_canary` (5 bytes)'));
  assert.ok(md.includes('→ __inference_canary_42/WriteFile (WriteFile)'), 'evidence chain');
  assert.ok(md.includes('`Greater(ReadVariableOp(mode), 0)`'));
  assert.ok(md.includes('| `filename` | `"/tmp/tfaudit_canary"` | local-path |'));
  assert.ok(md.includes('**dormant**') && md.includes('**active**'));
  assert.ok(md.includes('creates or overwrites files on the host'), 'impact in plain words');
  assert.ok(md.includes('Whoever can supply or replace the checkpoint'));
});

test('dormant-only and unconditional findings say what it takes to trigger them', () => {
  const dormant = writeFileFinding('F1');
  dormant.trigger.activation = dormant.trigger.activation.filter((a) => a.state === 'dormant');
  const md = renderVulnReport(syntheticDocument(syntheticReport([dormant])), 'F1');
  assert.ok(md.includes('No examined checkpoint activates it'));
  assert.ok(md.includes(`tfaudit sandbox ${MODEL_PATH}\n`), 'no --checkpoint when none triggers');
  const plain = writeFileFinding('F1', { trigger: { kind: 'none', variables: [], gates: [], activation: [] } });
  const md2 = renderVulnReport(syntheticDocument(syntheticReport([plain])), 'F1');
  assert.ok(md2.includes('loading the model and running the entry point is enough'));
  assert.ok(md2.includes('Anyone who loads and runs the model triggers it.'));
});

test('a finding that runs at load is reproduced by loading the model', () => {
  const atLoad = writeFileFinding('F1', { reachability: 'load', entryPoints: ['init: __saved_model_init_op'] });
  const md = renderVulnReport(syntheticDocument(syntheticReport([atLoad])), 'F1');
  assert.ok(md.includes(`python3 -c 'import tensorflow as tf; tf.saved_model.load("/tmp/poc_model")'`));
  assert.ok(!md.includes('saved_model_cli run'));
});

test('default finding is the most severe; unknown ids are refused', () => {
  const doc = syntheticDocument(syntheticReport([writeFileFinding('F1', { severity: 'low' }), writeFileFinding('F2', { severity: 'high' })]));
  assert.equal(defaultFindingId(doc), 'F2');
  assert.equal(defaultFindingId(syntheticDocument(syntheticReport([]))), null);
  assert.throws(() => renderVulnReport(doc, 'F9'), /No finding "F9".*F1, F2/);
});

test('hostile names cannot inject Markdown, HTML or escapes', () => {
  const evil = writeFileFinding('F1', {
    node: 'x`](http://evil)<img src=x onerror=alert(1)>',
    message: '[click](http://evil) <script>alert(1)</script> \u001b[2J',
  });
  const md = renderVulnReport(syntheticDocument(syntheticReport([evil])), 'F1');
  assert.ok(!md.includes('\u001b'));
  assert.ok(md.includes('``__inference_canary_42/x`](http://evil)<img src=x onerror=alert(1)>``'), 'node stays inside a longer code span');
  assert.ok(md.includes('\\[click\\](http://evil) \\<script\\>'));
  assert.equal(codeSpan('`a`'), '`` `a` ``');
  assert.equal(mdText('a|b'), 'a\\|b');
});

test('the confirmed sandbox run is the proof of concept; the run under the own checkpoint is the contrast', () => {
  const doc = syntheticDocument();
  const confirmed = {
    ...doc.sandboxRuns[0]!,
    checkpoint: `${MODEL_PATH}/ckpt_active/ckpt`,
    progress: { phases: ['tensorflow', 'loaded', 'restored', 'calling', 'outputs'], signature: 'serving_default', called: true, returned: true, error: null },
    inputs: { x: { dtype: 'float32', shape: [1], value: { values: [1] }, source: 'synthesized' as const } },
    syscalls: [{ kind: 'file' as const, call: 'openat(write)', target: '/tmp/tfaudit_canary', result: 'ok', phase: 'calling' }],
  };
  const own = {
    ...confirmed, runId: 'run-own', checkpoint: `${MODEL_PATH}/variables/variables`, filesWritten: [], syscalls: [],
    policy: { ...confirmed.policy, checkpoint: null },
  };
  const md = renderVulnReport({ ...doc, sandboxRuns: [own, confirmed] }, 'F1');
  const poc = md.split('## Proof of concept')[1]!;
  assert.match(poc, /^\s*Confirmed in the sandbox: run `run-1` \(bubblewrap, runner tf-python, network blocked\) restored `\/models\/P1_trojan_if_writefile\/ckpt_active\/ckpt`, called signature `serving_default`/);
  assert.ok(poc.includes('openat(write) /tmp/tfaudit_canary → ok [during the signature call]'));
  assert.match(poc, /Under `\/models\/P1_trojan_if_writefile\/variables\/variables` the same run did not do it: `the signature serving_default returned; no write to \/tmp\/tfaudit_canary was observed`/);
  assert.match(md, /- this finding: \*\*not-observed\*\*/);
  assert.match(md, /tfaudit sandbox \/models\/P1_trojan_if_writefile --checkpoint \/models\/P1_trojan_if_writefile\/ckpt_active\/ckpt --compare \/models\/P1_trojan_if_writefile\/variables\/variables/);
  // without a confirming run there is no dynamic proof
  assert.doesNotMatch(renderVulnReport({ ...doc, sandboxRuns: [own] }, 'F1'), /Confirmed in the sandbox/);
});

test('a known-vulnerability finding: the advisory, the runtime and the data credit, no gate talk', () => {
  const finding = writeFileFinding('F1', {
    rule: 'known-vulnerability/StringNGrams',
    capability: 'known-vulnerability',
    op: 'StringNGrams',
    node: 'StringNGrams',
    severity: 'high',
    trigger: { kind: 'input', variables: [], gates: [], activation: [] },
    arguments: [],
    message: 'StringNGrams on TensorFlow 2.4.1: 1 known kernel vulnerability (heap-out-of-bounds; CVE-2021-29542).',
    recommendation: 'Serve this model on TensorFlow 2.4.2 or later.',
    advisories: [{ id: 'PYSEC-2021-470', aliases: ['CVE-2021-29542', 'GHSA-4hrh-9vmp-2jgg'], class: 'heap-out-of-bounds', fixedIn: '2.4.2', url: 'https://github.com/tensorflow/tensorflow/security/advisories/GHSA-4hrh-9vmp-2jgg' }],
  });
  const report = syntheticReport([finding]);
  report.analysis.tensorflowRuntime = '2.4.1';
  const md = renderVulnReport(syntheticDocument(report), 'F1');
  assert.match(md, /Known TensorFlow kernel vulnerability reachable through the model/);
  assert.match(md, /TensorFlow release serving the model: `2\.4\.1`/);
  assert.match(md, /Advisory `PYSEC-2021-470` \(`CVE-2021-29542`, `GHSA-4hrh-9vmp-2jgg`\): heap-out-of-bounds, fixed in `2\.4\.2`/);
  assert.match(md, /Data: PyPA Advisory Database, CC BY 4\.0/);
  assert.match(md, /--tf-runtime 2\.4\.1/);
  assert.doesNotMatch(md, /gated by control flow|select the branch above/);
});
