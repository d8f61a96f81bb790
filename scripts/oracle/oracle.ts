// `npm run oracle -- --count 5000 --seed 7`: TensorFlow as the oracle for the analysis engine, at
// any size. Generates (or reuses from the cache) random programs, runs them in TensorFlow inside
// bubblewrap, scans them, and prints the summary table and every soundness bug. Exit status 1
// when there is a soundness bug. See test/helpers/oracle.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeBug, ensurePrograms, judgeAll, runInTensorFlow, skipWithoutOracle, summarize, summaryTable, type TfRun } from '../../test/helpers/oracle.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '500' },
    seed: { type: 'string', default: '16' },
    jobs: { type: 'string', default: '2' },
    chunk: { type: 'string', default: '250' },
    json: { type: 'string' },
    'save-run': { type: 'string' },
    'reuse-run': { type: 'string' },
    'generate-only': { type: 'boolean', default: false },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
const jobs = Number(values.jobs);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed) || !Number.isInteger(jobs) || jobs < 1) {
  console.error('usage: npm run oracle -- [--count N] [--seed S] [--jobs J] [--chunk C] [--json out.json] [--save-run run.json] [--reuse-run run.json] [--generate-only]');
  process.exit(2);
}
const missing = skipWithoutOracle();
if (missing) {
  console.error(`oracle: cannot run: ${missing}`);
  process.exit(2);
}
const log = (s: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const started = Date.now();
const { dir, manifest, cached } = await ensurePrograms(seed, count, { jobs, log });
log(`${count} programs (seed ${seed}) ${cached ? 'from the cache' : 'generated'} in ${dir}`);
if (values['generate-only']) process.exit(0);
// --reuse-run: judge another build of the analysis against a TensorFlow run saved by --save-run.
const run: TfRun = values['reuse-run']
  ? (JSON.parse(readFileSync(values['reuse-run'], 'utf8')) as TfRun)
  : await runInTensorFlow(dir, manifest, { parallel: jobs, chunk: Number(values.chunk), log });
if (values['save-run']) writeFileSync(values['save-run'], JSON.stringify(run));
log(`TensorFlow ran them in ${run.seconds.toFixed(0)} s of sandboxed process time${values['reuse-run'] ? ' (saved run reused)' : ''}`);
const { judgements, scanErrors } = await judgeAll(dir, manifest, run, log);
const summary = summarize(manifest, run, judgements);
console.log(`\nTensorFlow oracle — seed ${seed}, ${count} programs, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
console.log(summaryTable(summary));
for (const [id, r] of Object.entries(run.programs)) if (r.error) console.log(`TF could not run ${id}: ${r.error}`);
for (const e of scanErrors.slice(0, 20)) console.log(`scan error: ${e}`);
if (summary.soundnessBugs.length) {
  console.log('\nSoundness bugs:');
  for (const j of summary.soundnessBugs) console.log(`  ${describeBug(j, dir)}`);
}
if (values.json) writeFileSync(values.json, JSON.stringify({ seed, count, dir, summary, judgements }, null, 1));
process.exit(summary.soundnessBugs.length ? 1 : 0);
