// Registry-scale throughput (part of `npm run bench`, or alone: node --import tsx scripts/bench-registry.ts):
//  - one `tfaudit scan CORPUS --recursive` over ../shared/corpus/real: models per second and the
//    peak memory of the whole process tree (CLI + every worker, sampled from /proc);
//  - the same models audited one `tfaudit scan MODEL` process each (a sample of the corpus), for
//    the per-model ratio;
//  - the corpus replicated 4 times (hard links): memory must stay flat as models grow.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverModels } from '../main/service/registry-discovery.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'tfaudit.mjs');
const CORPUS = resolve(ROOT, '..', 'shared', 'corpus', 'real');
const WORK = join(ROOT, '.bench', 'registry');

function childrenOf(): Map<number, number[]> {
  const tree = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = tree.get(ppid) ?? [];
      list.push(Number(name));
      tree.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  return tree;
}

function rssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of a process and all its descendants, MB. */
function treeRssMb(pid: number): number {
  const tree = childrenOf();
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    total += rssKb(p);
    stack.push(...(tree.get(p) ?? []));
  }
  return total / 1024;
}

interface RunResult {
  seconds: number;
  peakTreeMb: number;
  code: number | null;
}

/** Runs tfaudit with args, sampling the tree's memory every 200 ms. */
function runSampled(args: string[]): Promise<RunResult> {
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let peak = 0;
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    const timer = setInterval(() => {
      peak = Math.max(peak, treeRssMb(child.pid!));
    }, 200);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== null && code > 2) console.error(stderr);
      done({ seconds: (performance.now() - started) / 1000, peakTreeMb: Math.round(peak), code });
    });
  });
}

export async function registryBench(say: (line: string) => void): Promise<void> {
  if (!existsSync(CORPUS)) {
    say('(registry benchmark skipped: ../shared/corpus/real is not present)');
    return;
  }
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const models = discoverModels(CORPUS).models;
  const cores = availableParallelism();
  say('## Registry audit: one batch run vs one `tfaudit scan` process per model (../shared/corpus/real)');
  say('| run | models | wall s | models/s | s per model | peak memory MB (all processes) |');
  say('|---|---|---|---|---|---|');
  const batchRuns: { label: string; jobs: number; result: RunResult }[] = [];
  for (const jobs of [...new Set([cores, 1])]) {
    const result = await runSampled(['scan', CORPUS, '--recursive', '--jobs', String(jobs), '--format', 'jsonl', '--output', join(WORK, `batch-${jobs}.jsonl`)]);
    batchRuns.push({ label: `batch, --jobs ${jobs}`, jobs, result });
    say(`| batch, --jobs ${jobs} | ${models.length} | ${result.seconds.toFixed(1)} | ${(models.length / result.seconds).toFixed(2)} | ${(result.seconds / models.length).toFixed(3)} | ${result.peakTreeMb} |`);
  }
  // every 4th model, one process each, one after another (as a shell loop would)
  const sample = models.filter((_, i) => i % 4 === 0);
  let loopSeconds = 0;
  let loopPeak = 0;
  for (const m of sample) {
    const r = await runSampled(['scan', m.path, '--format', 'json', ...m.checkpoints.flatMap((c) => ['--checkpoint', c])]);
    loopSeconds += r.seconds;
    loopPeak = Math.max(loopPeak, r.peakTreeMb);
  }
  const perProcess = loopSeconds / sample.length;
  say(`| one process per model (${sample.length} of ${models.length} models) | ${sample.length} | ${loopSeconds.toFixed(1)} | ${(sample.length / loopSeconds).toFixed(2)} | ${perProcess.toFixed(3)} | ${loopPeak} |`);
  for (const b of batchRuns) say(`\nPer model, the batch with --jobs ${b.jobs} is ${(perProcess / (b.result.seconds / models.length)).toFixed(1)}× faster than one process per model.`);

  say('');
  say('## Registry audit memory as the number of models grows (corpus replicated by hard links, no cache)');
  say('| copies | models | wall s | models/s | peak memory MB (all processes) |');
  say('|---|---|---|---|---|');
  for (const copies of [1, 4]) {
    const dir = join(WORK, `x${copies}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < copies; i++) {
      // hard links where the file system allows them (the same bytes, no copy), else a copy
      if (spawnSync('cp', ['-al', CORPUS, join(dir, `copy${i}`)]).status !== 0) cpSync(CORPUS, join(dir, `copy${i}`), { recursive: true });
    }
    const count = discoverModels(dir).models.length;
    const r = await runSampled(['scan', dir, '--recursive', '--jobs', String(cores), '--format', 'jsonl', '--output', join(WORK, `x${copies}.jsonl`)]);
    say(`| ${copies} | ${count} | ${r.seconds.toFixed(1)} | ${(count / r.seconds).toFixed(2)} | ${r.peakTreeMb} |`);
  }
  spawnSync('rm', ['-rf', join(WORK, 'x1'), join(WORK, 'x4')]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await registryBench((line) => console.log(line));
}
