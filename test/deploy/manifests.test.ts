// The cluster and CI recipes for registry audits: deploy/kubernetes/scan-job.yaml (an Indexed
// Job, one shard per pod, then a merge), deploy/ci/github-actions-registry-scan.yml (a matrix of
// shards) and the Dockerfile. YAML is parsed with Debian's python3 and PyYAML (Debian: python3-yaml); the
// pods' shell scripts are run with a stand-in `tfaudit` that records its arguments, so the shard
// arithmetic is checked as the pods would compute it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT } from '../helpers/corpus.ts';
import { skipWithout } from '../helpers/toolchain.ts';

const skipWithoutYaml = skipWithout('python3-yaml');

function parseYamlDocuments(file: string): any[] {
  const script = 'import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))';
  const run = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** Runs a pod's `sh -c` script with a recording `tfaudit` on PATH; returns the recorded calls. */
function runScript(script: string, env: Record<string, string>, results: string): string[][] {
  const bin = mkdtempSync(join(tmpdir(), 'tfaudit-fake-bin-'));
  const log = join(bin, 'calls.jsonl');
  writeFileSync(join(bin, 'tfaudit'), `#!/bin/sh\nnode -e 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2))+"\\n")' ${log} "$@"\nexit \${FAKE_EXIT:-1}\n`);
  chmodSync(join(bin, 'tfaudit'), 0o755);
  const patched = script.replaceAll('/results', results);
  const run = spawnSync('/bin/sh', ['-c', patched], { encoding: 'utf8', env: { PATH: `${bin}:${process.env.PATH}`, ...env }, timeout: 20_000 });
  assert.equal(run.status, 0, `${run.stderr}\n${patched}`);
  return readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
}

test('the Kubernetes Indexed Job runs shard index+1 of N in each pod and the merge waits for all N', { skip: skipWithoutYaml }, () => {
  const [scan, merge] = parseYamlDocuments(join(REPO_ROOT, 'deploy', 'kubernetes', 'scan-job.yaml'));
  assert.equal(scan.kind, 'Job');
  assert.equal(scan.apiVersion, 'batch/v1');
  assert.equal(scan.spec.completionMode, 'Indexed');
  const n = scan.spec.completions as number;
  assert.ok(n >= 2);
  assert.equal(scan.spec.parallelism, n);
  const pod = scan.spec.template.spec;
  assert.equal(pod.restartPolicy, 'Never');
  const container = pod.containers[0];
  const models = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/models');
  assert.equal(models.readOnly, true, 'the registry is mounted read-only');
  assert.equal(pod.volumes.find((v: { name: string }) => v.name === models.name).persistentVolumeClaim.readOnly, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.equal(pod.securityContext.seccompProfile.type, 'Unconfined', 'bubblewrap needs user namespaces');

  const results = mkdtempSync(join(tmpdir(), 'tfaudit-k8s-results-'));
  const shards: string[] = [];
  for (let index = 0; index < n; index++) {
    const [call] = runScript(container.args[0], { JOB_COMPLETION_INDEX: String(index), TFAUDIT_JOBS: '2', FAKE_EXIT: String(index % 3) }, results);
    assert.equal(call![0], 'scan');
    assert.equal(call![call!.indexOf('--shard') + 1], `${index + 1}/${n}`);
    assert.ok(call!.includes('--recursive'));
    assert.equal(call![call!.indexOf('--format') + 1], 'jsonl');
    shards.push(call![call!.indexOf('--resume') + 1]!);
  }
  assert.deepEqual(shards, Array.from({ length: n }, (_, i) => join(results, `shard-${i + 1}.jsonl`)));
  assert.equal(readdirSync(results).filter((f) => f.endsWith('.done')).length, n, 'exit 0/1/2 are verdicts: every pod succeeds');

  assert.equal(merge.kind, 'Job');
  const mergeContainer = merge.spec.template.spec.containers[0];
  assert.equal(mergeContainer.env.find((e: { name: string }) => e.name === 'SHARDS').value, String(n));
  const calls = runScript(mergeContainer.args[0], { SHARDS: String(n), FAKE_EXIT: '0' }, results);
  assert.ok(calls.length >= 1);
  for (const call of calls) {
    assert.equal(call[0], 'merge');
    assert.deepEqual(call.filter((a) => a.endsWith('.jsonl')), shards);
  }
});

test('the CI workflow runs one matrix job per shard 1..N and merges them', { skip: skipWithoutYaml }, () => {
  const [workflow] = parseYamlDocuments(join(REPO_ROOT, 'deploy', 'ci', 'github-actions-registry-scan.yml'));
  const n = Number(workflow.env.SHARDS);
  assert.deepEqual(workflow.jobs.scan.strategy.matrix.shard, Array.from({ length: n }, (_, i) => i + 1));
  const audit = workflow.jobs.scan.steps.find((s: { run?: string }) => s.run?.includes('--recursive'));
  assert.match(audit.run, /--shard "\$\{\{ matrix\.shard \}\}\/\$\{\{ env\.SHARDS \}\}"/);
  assert.deepEqual(workflow.jobs.merge.needs, 'scan');
  const merge = workflow.jobs.merge.steps.find((s: { run?: string }) => s.run?.includes(' merge '));
  assert.match(merge.run, /merge shards\/shard-\*\.jsonl/);
  assert.ok(workflow.jobs.merge.steps.some((s: { uses?: string }) => s.uses?.startsWith('github/codeql-action/upload-sarif')));
});

test('the Dockerfile is Debian with Node and bubblewrap, runs the CLI unprivileged and documents the sandbox flags', () => {
  const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
  assert.ok(froms.length >= 1 && froms.every((f) => /^node:\d+-(bookworm|trixie)/.test(f)), `Debian-based Node images: ${froms}`);
  assert.match(text, /apt-get install[^\n]*bubblewrap/);
  assert.match(text, /^USER node$/m);
  assert.match(text, /^ENTRYPOINT \["tfaudit"\]$/m);
  for (const flag of ['seccomp=unconfined', 'apparmor=unconfined', 'systempaths=unconfined']) assert.ok(text.includes(flag), flag);
  assert.doesNotMatch(text, /^[^#]*--privileged/m);
  for (const dir of ['bin', 'main', 'shared']) assert.match(text, new RegExp(`^COPY ${dir} `, 'm'));
});
