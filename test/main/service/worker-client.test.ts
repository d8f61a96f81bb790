// runAnalysisWorker (main/service/worker-client.ts) against a stand-in worker script (no model
// involved): a plain worker gets this process's environment less NODE_EXTRA_CA_CERTS (Node reads
// that file at every start, and the worker opens no TLS connection); once the worker has answered,
// the calling process is free to end (a CLI does not wait for the worker's own exit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runAnalysisWorker, DEFAULT_WORKER_OPTIONS } from '../../../main/service/worker-client.ts';
import { PROTOCOL_PREFIX } from '../../../main/worker/protocol.ts';
import { REPO_ROOT, tempDir } from '../../helpers/corpus.ts';

/** A worker that answers with its own environment, then lingers `lingerMs` before exiting. */
function fakeWorker(lingerMs: number): string {
  const file = join(tempDir('tfaudit-fake-worker-'), 'worker.mjs');
  writeFileSync(
    file,
    `process.stdin.resume();
process.stdin.on('end', () => {
  const env = { ca: process.env.NODE_EXTRA_CA_CERTS ?? null, mark: process.env.TFAUDIT_TEST_MARK ?? null };
  process.stdout.write(${JSON.stringify(PROTOCOL_PREFIX)} + JSON.stringify({ type: 'result', result: { summary: { env } } }) + '\\n');
  setTimeout(() => process.exit(0), ${lingerMs});
});
`,
  );
  return file;
}

test('a plain worker inherits the environment without NODE_EXTRA_CA_CERTS', async () => {
  const saved = { ca: process.env.NODE_EXTRA_CA_CERTS, mark: process.env.TFAUDIT_TEST_MARK };
  process.env.NODE_EXTRA_CA_CERTS = '/nonexistent/ca.pem';
  process.env.TFAUDIT_TEST_MARK = 'kept';
  try {
    const result = (await runAnalysisWorker({ model: REPO_ROOT, checkpoints: [], mode: 'inspect' }, { ...DEFAULT_WORKER_OPTIONS, isolation: 'off', entry: fakeWorker(0) })) as unknown as { summary: { env: { ca: string | null; mark: string | null } } };
    assert.deepEqual(result.summary.env, { ca: null, mark: 'kept' });
  } finally {
    for (const [name, value] of [['NODE_EXTRA_CA_CERTS', saved.ca], ['TFAUDIT_TEST_MARK', saved.mark]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test('the caller can end as soon as the worker has answered, without waiting for the worker to exit', () => {
  const worker = fakeWorker(20_000);
  const caller = join(tempDir('tfaudit-caller-'), 'caller.mts');
  writeFileSync(
    caller,
    `import { runAnalysisWorker, DEFAULT_WORKER_OPTIONS } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'main', 'service', 'worker-client.ts')).href)};
const result = await runAnalysisWorker({ model: ${JSON.stringify(REPO_ROOT)}, checkpoints: [], mode: 'inspect' }, { ...DEFAULT_WORKER_OPTIONS, isolation: 'off', entry: ${JSON.stringify(worker)} });
process.stdout.write(JSON.stringify(result));
`,
  );
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', caller], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(JSON.parse(run.stdout).summary.env, run.stdout);
  assert.ok(Date.now() - started < 15_000, `the caller waited ${Date.now() - started} ms, i.e. for the lingering worker`);
});
