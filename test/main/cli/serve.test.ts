// `tfaudit serve` as a user runs it: prints a tokened loopback URL, refuses requests without
// the token, refuses non-loopback binds, and deletes its upload workspace on SIGTERM/SIGINT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/corpus.ts';

const BIN = join(REPO_ROOT, 'bin', 'tfaudit.mjs');

function startServe(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'serve', '--no-open', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<{ url: string; workspace: string }>((resolve, reject) => {
    const timer = setInterval(() => {
      const url = /at (http:\/\/\S+)/.exec(out)?.[1];
      const workspace = /uploads kept in (\S+),/.exec(out)?.[1];
      if (url && workspace) {
        clearInterval(timer);
        resolve({ url, workspace });
      }
    }, 50);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`serve exited early: ${out}${err}`));
    });
  });
  return { child, ready, exited, output: () => out + err };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`serve prints a tokened 127.0.0.1 URL, answers 401 without it, cleans up on ${signal}`, { timeout: 60_000 }, async () => {
    const serve = startServe([]);
    const { url, workspace } = await serve.ready;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    assert.ok(existsSync(workspace));
    const bare = url.replace(/\?.*$/, '');
    assert.equal((await fetch(bare)).status, 401);
    const first = await fetch(url, { redirect: 'manual' });
    assert.equal(first.status, 303);
    assert.match(first.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict/);
    serve.child.kill(signal);
    assert.equal(await serve.exited, 0, serve.output());
    assert.equal(existsSync(workspace), false, 'workspace left behind');
  });
}

test('serve refuses to bind anything but loopback', { timeout: 60_000 }, async () => {
  const serve = startServe(['--host', '0.0.0.0']);
  serve.ready.catch(() => undefined);
  const code = await serve.exited;
  assert.notEqual(code, 0);
  assert.match(serve.output(), /loopback only/);
});
