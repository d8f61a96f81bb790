// One benchmark measurement in its own process, so peak RSS belongs to that task alone.
// Usage: node --import tsx scripts/bench-task.ts <parse|scan|lookup> <path> [key]
// Prints one JSON line: { ms, peakRssMb, ... }.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openModel } from '../main/formats/index.ts';
import { openCheckpoint, readCheckpointTensor } from '../main/formats/tensorbundle.ts';
import { scanModel } from '../main/analysis/scan.ts';
import { TOOL_VERSION } from '../main/version.ts';
import { SEVERITY_RANK } from '../shared/findings.ts';
import type { ModelIR } from '../shared/ir.ts';

function peakRssMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Math.round(Number(match[1]) / 1024) : Math.round(process.memoryUsage().rss / 1048576);
}

/** Nodes of every meta graph, its top-level graph and its function library. */
function nodeCount(model: ModelIR): number {
  return model.metaGraphs.reduce((n, m) => n + m.graph.nodes.length + m.graph.library.reduce((k, f) => k + f.nodes.length, 0), 0);
}

async function main(): Promise<void> {
  const [task, path, key] = process.argv.slice(2);
  if (!task || !path) throw new Error('usage: bench-task.ts <parse|scan|lookup> <path> [key]');
  const baseline = peakRssMb();
  if (task === 'parse') {
    const start = performance.now();
    const model = await openModel(path);
    const ms = performance.now() - start;
    console.log(JSON.stringify({ ms, nodes: nodeCount(model), peakRssMb: peakRssMb(), baselineRssMb: baseline }));
  } else if (task === 'scan') {
    const start = performance.now();
    const model = await openModel(path);
    const parsed = performance.now();
    const checkpoints = model.checkpoint ? [{ label: `${path}/variables/variables`, checkpoint: model.checkpoint }] : [];
    const report = await scanModel(model, { checkpoints, toolVersion: TOOL_VERSION });
    const end = performance.now();
    console.log(
      JSON.stringify({
        ms: end - start,
        parseMs: parsed - start,
        analyseMs: end - parsed,
        nodes: nodeCount(model),
        layers: model.keras?.layers.length ?? 0,
        findings: report.findings.length,
        mediumOrAbove: report.findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK.medium).length,
        peakRssMb: peakRssMb(),
      }),
    );
  } else if (task === 'lookup') {
    const ckpt = await openCheckpoint(path);
    const runs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      await readCheckpointTensor(ckpt, key!);
      runs.push(performance.now() - start);
    }
    runs.sort((a, b) => a - b);
    console.log(JSON.stringify({ ms: runs[Math.floor(runs.length / 2)], peakRssMb: peakRssMb(), entries: ckpt.entries.length }));
  } else throw new Error(`unknown task ${task}`);
}

await main();
