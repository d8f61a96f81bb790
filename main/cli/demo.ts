// `tfaudit demo`: writes the built-in trojaned SavedModel and its malicious checkpoint, then
// audits them exactly as `tfaudit scan MODEL --checkpoint CKPT --pdf` would.
import { reportDate } from '../report/date.ts';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { runAnalysisWorker } from '../service/worker-client.ts';
import { renderTextReport } from '../report/text.ts';

export async function runDemo(dirOption: string | undefined): Promise<void> {
  const dir = dirOption ? resolve(dirOption) : mkdtempSync(join(tmpdir(), 'tfaudit-demo-'));
  mkdirSync(dir, { recursive: true });
  // Loaded on use: the model writer brings the protobuf schema, which no other command needs here.
  const { writeDemoTrojan } = await import('../demo/trojan.ts');
  const { model, maliciousCheckpoint } = await writeDemoTrojan(dir);
  process.stdout.write(`Wrote the example trojaned SavedModel to ${model}\nand a malicious checkpoint to ${maliciousCheckpoint}\n\n`);
  process.stdout.write(`$ tfaudit scan ${model} --checkpoint ${maliciousCheckpoint} --pdf ${join(dir, 'audit.pdf')}\n\n`);
  const { report, summary } = await runAnalysisWorker({ model, checkpoints: [maliciousCheckpoint] });
  process.stdout.write(`${renderTextReport(report, { color: process.stdout.isTTY === true })}\n`);
  const pdfPath = join(dir, 'audit.pdf');
  const { renderAuditPdf } = await import('../report/pdf.ts');
  writeFileSync(pdfPath, await renderAuditPdf({ report, summary, auditor: null, generatedAt: reportDate(), sandboxRuns: [] }));
  process.stdout.write(`\nPDF audit report: ${pdfPath}\n`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('write the built-in trojaned SavedModel plus a malicious checkpoint, and audit them')
    .option('--dir <dir>', 'where to write the example (default: a new temp folder)')
    .action(async (opts: { dir?: string }) => runDemo(opts.dir));
}
