// Proves path / URL / address classification on the values the real TensorAbuse models use
// (/etc/passwd, ./test.txt, file:///tmp/payload, grpc://0.0.0.0:1111, see PROVENANCE.md) and
// on the sensitive locations an auditor must see named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyTarget } from '../../../main/analysis/targets.ts';

const modelDir = '/models/resnet';
const cls = (value: string): string => classifyTarget(value, { modelDir }).classification;

test('values from the TensorAbuse corpus', () => {
  assert.equal(cls('/etc/passwd'), 'sensitive-path');
  assert.match(classifyTarget('/etc/passwd').note ?? '', /accounts/);
  assert.equal(cls('./test.txt'), 'local-path');
  assert.match(classifyTarget('./test.txt').note ?? '', /relative/);
  assert.equal(cls('file:///tmp/payload'), 'file-url');
  assert.equal(cls('file://./payload'), 'file-url');
  assert.equal(cls('grpc://0.0.0.0:1111'), 'grpc');
  assert.equal(cls('localhost:5050'), 'network-address');
  assert.equal(cls('127.0.0.1:50051'), 'network-address');
  assert.equal(cls('[::1]:8470'), 'network-address');
});

test('sensitive locations are named with the reason', () => {
  const cases: [string, RegExp][] = [
    ['/etc/shadow', /password hashes/],
    ['/home/alice/.ssh/id_rsa', /SSH/],
    ['~/.ssh/authorized_keys', /SSH/],
    ['/root/notes.txt', /root/],
    ['/proc/self/environ', /environment/],
    ['/dev/zero', /device/],
    ['/var/run/docker.sock', /Docker/],
    ['/home/bob/.bashrc', /shell start-up/],
    ['/home/bob/.profile', /shell start-up/],
    ['/opt/app/lib/util.py', /Python code/],
    ['/opt/app/cache/mod.pyc', /Python code/],
    ['/opt/plugins/libevil.so', /native library/],
    ['/etc/crontab', /scheduled/],
    ['/home/carol/.aws/credentials', /credentials/],
    ['/etc/hosts', /system configuration/],
    ['/home/dave/data.csv', /home directory/],
  ];
  for (const [value, note] of cases) {
    const info = classifyTarget(value, { modelDir });
    assert.equal(info.classification, 'sensitive-path', value);
    assert.match(info.note ?? '', note, value);
  }
});

test('path traversal and glob patterns are called out', () => {
  const traversal = classifyTarget('/tmp/work/../../etc/hosts');
  assert.equal(traversal.classification, 'sensitive-path');
  assert.match(traversal.note ?? '', /traversal/);
  const climbing = classifyTarget('data/../../../x');
  assert.equal(climbing.classification, 'sensitive-path');
  assert.match(climbing.note ?? '', /traversal/);
  const glob = classifyTarget('/tmp/*.txt');
  assert.equal(glob.classification, 'local-path');
  assert.match(glob.note ?? '', /glob/);
  assert.equal(classifyTarget('/home/*').classification, 'sensitive-path');
  assert.equal(classifyTarget('/').classification, 'sensitive-path');
});

test("the model's own files: variables/ and saved_model.pb are tampering targets", () => {
  const vars = classifyTarget('/models/resnet/variables/variables.index', { modelDir });
  assert.equal(vars.classification, 'model-own-files');
  assert.match(vars.note ?? '', /checkpoint/);
  const graph = classifyTarget('/models/resnet/saved_model.pb', { modelDir });
  assert.equal(graph.classification, 'model-own-files');
  assert.match(graph.note ?? '', /graph/);
  assert.equal(classifyTarget('/models/resnet/assets/vocab.txt', { modelDir }).classification, 'model-own-files');
  assert.equal(classifyTarget('assets/vocab.txt', { modelDir }).classification, 'model-own-files');
  assert.equal(classifyTarget('/models/resnet2/variables/x', { modelDir }).classification, 'local-path', 'sibling folder is not the model');
  assert.equal(classifyTarget('/models/resnet/variables/variables.index', {}).classification, 'local-path');
  assert.equal(classifyTarget('file:///models/resnet/variables/variables.index', { modelDir }).classification, 'model-own-files');
});

test('remote filesystems and URLs', () => {
  assert.equal(cls('gs://bucket/exfil'), 'cloud-storage');
  assert.match(classifyTarget('gs://bucket/exfil').note ?? '', /Google Cloud Storage/);
  assert.equal(cls('s3://bucket/key'), 'cloud-storage');
  assert.equal(cls('hdfs://namenode:8020/x'), 'cloud-storage');
  assert.equal(cls('http://example.com/x'), 'http');
  assert.equal(cls('https://example.com/upload'), 'http');
  assert.equal(cls('grpcs://example.com:443'), 'grpc');
  assert.equal(cls('ram://scratch/x'), 'local-path');
  assert.equal(cls('weird://thing'), 'unknown');
  assert.equal(cls(''), 'unknown');
  assert.equal(cls('/tmp/out.txt'), 'local-path');
  assert.equal(cls('file:///etc/passwd'), 'sensitive-path');
});

test('Windows paths use the same rules; UNC shares are network', () => {
  const ssh = classifyTarget('C:\\Users\\bob\\.ssh\\id_rsa');
  assert.equal(ssh.classification, 'sensitive-path');
  assert.match(ssh.note ?? '', /SSH/);
  assert.equal(classifyTarget('D:/data/train.csv').classification, 'local-path');
  assert.equal(classifyTarget('\\\\fileserver\\share\\x').classification, 'network-address');
  assert.match(classifyTarget('\\\\fileserver\\share\\x').note ?? '', /fileserver/);
});

test('never throws and always answers with a known classification (fuzz)', () => {
  const known = new Set(['local-path', 'sensitive-path', 'model-own-files', 'file-url', 'grpc', 'cloud-storage', 'http', 'network-address', 'unknown']);
  const parts = fc.constantFrom('/', '\\', '..', '.', '~', ':', '//', 'file://', 'grpc://', 'gs://', '*', 'etc', 'home', 'variables', 'a', ' ', '%00', '[::1]', '0');
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.array(parts, { maxLength: 30 }).map((p) => p.join(''))), fc.option(fc.constantFrom('/m', '/', 'rel/dir', 'C:\\m')), (value, modelDir) => {
      const info = classifyTarget(value, { modelDir });
      assert.ok(known.has(info.classification), info.classification);
    }),
    { numRuns: 2000 },
  );
});
