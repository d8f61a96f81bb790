// The audit PDF, read back with poppler (pdftotext, pdftoppm, pdfinfo) and ImageMagick: the
// synthetic P1-shaped audit (If on variable `mode` → WriteFile), a 500-finding report, and
// byte-identical output once generatedAt is pinned. Rendered files go to test-output/.
import { test } from 'node:test';
import { skipWithout } from '../../helpers/toolchain.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderAuditPdf } from '../../../main/report/pdf.ts';
import { PAGE } from '../../../main/report/pdf-content.ts';
import { crafted, REPO_ROOT, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { analyse } from '../../../main/worker/analyse.ts';
import { verdictSentence } from '../../../shared/report.ts';
import {
  bulkFindings,
  DATA_SHA,
  MODEL_PATH,
  PB_SHA,
  syntheticDocument,
  syntheticReport,
  timeBombFinding,
  writeFileFinding,
} from './synthetic-report.ts';

const OUT = join(REPO_ROOT, 'test-output', 'report');

const skipPoppler = skipWithout('poppler');
const skipImages = skipWithout('poppler', 'imagemagick');

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function savePdf(name: string, pdf: Buffer): string {
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, name);
  writeFileSync(path, pdf);
  return path;
}

function pdfText(path: string): string {
  return run('pdftotext', ['-layout', path, '-']);
}

function pageCount(path: string): number {
  return Number(/Pages:\s+(\d+)/.exec(run('pdfinfo', [path]))![1]);
}

interface Ink {
  /** Mean brightness, 1 = white. */
  mean: number;
  /** Darkest pixel, 1 = white. */
  min: number;
}

function ink(png: string): Ink {
  const [mean, min] = run('convert', [png, '-colorspace', 'Gray', '-format', '%[fx:mean] %[fx:minima]', 'info:']).split(' ').map(Number);
  return { mean, min };
}

/** A page is not blank when it has dark pixels (text) and is not all but white overall. */
function assertInked(page: Ink, what: string): void {
  assert.ok(page.min < 0.5 && page.mean < 0.999, `${what} looks blank: mean ${page.mean}, darkest ${page.min}`);
}

/** Renders pages first..last as PNGs and measures them. */
function renderPages(path: string, first: number, last: number, prefix: string, resolution = 30): Ink[] {
  run('pdftoppm', ['-r', String(resolution), '-png', '-f', String(first), '-l', String(last), path, join(OUT, prefix)]);
  return readdirSync(OUT)
    .filter((f) => f.startsWith(prefix + '-') && f.endsWith('.png'))
    .sort()
    .map((f) => ink(join(OUT, f)));
}

test('P1-shaped audit: findings, hashes, verdict, sections and page numbers are extractable text', { skip: skipPoppler }, async () => {
  const path = savePdf('p1-synthetic.pdf', await renderAuditPdf(syntheticDocument()));
  const text = pdfText(path);
  const flat = text.replace(/\s+/g, ' ');
  assert.ok(flat.includes('Unsafe: a checkpoint can activate file writes, and an examined checkpoint does.'));
  for (const sha of [PB_SHA, DATA_SHA]) assert.ok(text.includes(sha), `sha256 ${sha} on one line`);
  assert.ok(text.includes(MODEL_PATH));
  assert.ok(text.includes('Ada Auditor'));
  assert.ok(text.includes('2.21.0') && text.includes('2134'), 'TF version and producer');
  for (const section of ['Contents', 'Executive summary', 'Findings', 'Sandbox runs', 'Method and limits', 'Appendix'])
    assert.ok(text.includes(section), section);
  assert.ok(text.includes('F1 CRITICAL file-write: WriteFile'));
  assert.ok(text.includes('__inference_canary_42/WriteFile (WriteFile)'));
  assert.ok(text.includes('"/tmp/tfaudit_canary"'), 'resolved argument');
  assert.ok(text.includes('Greater(ReadVariableOp(mode), 0)'), 'predicate');
  assert.match(text, /DORMANT/);
  assert.match(text, /ACTIVE/);
  assert.ok(text.includes('cond_true_17/PartitionedCall (PartitionedCall)'), 'evidence chain');
  assert.ok(text.includes('UNSAFE OP') && text.includes('VARIABLE'), 'figure text is vector text');
  assert.ok(text.includes('bwrap --unshare-all'), 'sandbox command');
  assert.ok(text.includes('MyCustomOp'), 'unknown semantics in method and limits');
  assert.ok(text.includes('mode/.ATTRIBUTES/VARIABLE_VALUE'), 'appendix variables');
  const pages = pageCount(path);
  assert.ok(pages >= 6);
  assert.ok(text.includes(`Page 1 of ${pages}`) && text.includes(`Page ${pages} of ${pages}`));
  // The contents page names the page each section starts on.
  assert.match(text, /Executive summary\s+3\b/);
});

test('pages are not blank', { skip: skipImages }, async () => {
  const path = savePdf('p1-pages.pdf', await renderAuditPdf(syntheticDocument()));
  const pages = renderPages(path, 1, pageCount(path), 'p1-page');
  assert.equal(pages.length, pageCount(path));
  pages.forEach((page, i) => assertInked(page, `page ${i + 1}`));
  // Pages full of findings are well inked, not just a footer.
  assert.ok(pages[0].mean < 0.99 && pages[3].mean < 0.99, 'cover and first finding page');
  // Keep a sharper image of the first pages for people to look at.
  renderPages(path, 1, 4, 'p1-view', 80);
});

test('a blank page would be caught by the pixel check', { skip: skipImages }, () => {
  const blank = join(tempDir(), 'blank.png');
  run('convert', ['-size', '60x80', 'xc:white', blank]);
  assert.throws(() => assertInked(ink(blank), 'white page'), /looks blank/);
});

test('same document, same bytes; another date, other bytes', async () => {
  const a = await renderAuditPdf(syntheticDocument());
  const b = await renderAuditPdf(syntheticDocument());
  assert.ok(a.equals(b), 'byte-identical');
  assert.equal(a.subarray(0, 5).toString('latin1'), '%PDF-');
  const later = syntheticDocument();
  later.generatedAt = '2026-02-03T04:05:06.000Z';
  assert.ok(!a.equals(await renderAuditPdf(later)));
  assert.ok(a.includes(Buffer.from('D:20260102030405Z')), 'creation date pinned from generatedAt');
});

test('rejects an unparseable generatedAt instead of using the clock', async () => {
  const doc = syntheticDocument();
  doc.generatedAt = 'yesterday';
  await assert.rejects(renderAuditPdf(doc), /generatedAt/);
});

test('clean report without sandbox runs or auditor still renders every part', { skip: skipPoppler }, async () => {
  const doc = syntheticDocument(syntheticReport([]));
  doc.auditor = null;
  doc.sandboxRuns = [];
  const path = savePdf('clean.pdf', await renderAuditPdf(doc));
  const text = pdfText(path);
  assert.ok(text.includes('No unsafe capability found by static analysis.'));
  assert.ok(text.includes('The analysis reported no findings.'));
  assert.ok(!text.includes('Sandbox runs'));
  assert.ok(text.includes('____'), 'blank auditor line to sign');
  assert.ok(text.includes('The static verdict is not a proof of safety'));
});

test('hostile text: control, bidi and non-Latin characters do not break the document', { skip: skipPoppler }, async () => {
  const evil = writeFileFinding('F1', {
    node: 'evil\u202eexe.txt\u0000\u001b[31m',
    message: 'Привет 漢字 <b>&amp;</b> \ud800',
    evidence: ['a/b (Op)', 'ω/漢 (WriteFile)'],
  });
  const path = savePdf('hostile.pdf', await renderAuditPdf(syntheticDocument(syntheticReport([evil]))));
  const text = pdfText(path);
  assert.ok(text.includes('evil\\u{202e}exe.txt\\x00\\x1b[31m'));
  assert.ok(text.includes('Привет'), 'Cyrillic is drawn by Roboto');
  assert.ok(text.includes('\\u{6f22}\\u{5b57}'), 'characters Roboto cannot draw are escaped, not lost');
  assert.ok(text.includes('<b>&amp;</b>'));
  assert.ok(text.includes('\\u{3c9}/\\u{6f22} (WriteFile)'), 'monospace text outside Latin-1 is escaped');
});

test('500 findings render across many pages with long names wrapped', { skip: skipImages }, async () => {
  const doc = syntheticDocument(syntheticReport(bulkFindings(500)));
  const path = savePdf('500-findings.pdf', await renderAuditPdf(doc));
  const pages = pageCount(path);
  assert.ok(pages > 100, `pages ${pages}`);
  const text = pdfText(path);
  assert.ok(text.includes('F500 '), 'last finding present');
  assert.ok(text.includes(`Page ${pages} of ${pages}`));
  // Every finding heading made it (one per finding).
  assert.equal((text.match(/^\s*F\d+ (CRITICAL|HIGH|MEDIUM|LOW|INFO) file-write: WriteFile$/gm) ?? []).length, 500);
  // No text runs off the right edge: pdftotext -bbox gives word boxes; all inside the page.
  const bbox = run('pdftotext', ['-bbox', path, '-']);
  const xMax = Math.max(...[...bbox.matchAll(/xMax="([\d.]+)"/g)].map((m) => Number(m[1])));
  const xMin = Math.min(...[...bbox.matchAll(/xMin="([\d.]+)"/g)].map((m) => Number(m[1])));
  assert.ok(xMax <= PAGE.width - PAGE.margin + 0.5, `rightmost word at ${xMax}`);
  assert.ok(xMin >= PAGE.margin - 0.5, `leftmost word at ${xMin}`);
  for (const page of renderPages(path, 30, 32, 'bulk-page')) assert.ok(page.mean < 0.99, `bulk page mean ${page.mean}`);
});

const CRAFTED_CASES = ['P1_trojan_if_writefile', 'P2_tf1_switch_readfile', 'P3_case_exfil', 'P4_decoy_constant_pred', 'P5_tile_dos', 'P6_custom_op'];

for (const name of CRAFTED_CASES) {
  test(`crafted ${name}: the audit PDF carries its findings, hashes and verdict`, { skip: skipWithoutCorpus || skipImages }, async () => {
    const model = crafted(name);
    const extra = existsSync(crafted(name, 'ckpt_active', 'ckpt.index')) ? [crafted(name, 'ckpt_active', 'ckpt')] : [];
    const { summary, report } = await analyse({ model, checkpoints: extra });
    const pdf = await renderAuditPdf({ report, summary, auditor: null, generatedAt: '2026-01-01T00:00:00.000Z', sandboxRuns: [] });
    const path = savePdf(`${name}.pdf`, pdf);
    const text = pdfText(path);
    const flat = text.replace(/\s+/g, ' ');
    assert.ok(flat.includes(verdictSentence(report)), `verdict: ${verdictSentence(report)}`);
    assert.ok(report.model.files.length > 0);
    for (const file of report.model.files) assert.ok(text.includes(file.sha256), `sha256 of ${file.path}`);
    assert.ok(report.findings.length > 0);
    for (const f of report.findings) {
      assert.ok(flat.includes(`${f.id} ${f.severity.toUpperCase()} ${f.capability}: ${f.op}`), `heading of ${f.id}`);
    }
    const expect = JSON.parse(readFileSync(crafted(name, 'expect.json'), 'utf8')) as { must: { capability: string; activation: Record<string, string> }[] };
    for (const must of expect.must) {
      assert.ok(report.findings.some((f) => f.capability === must.capability), `${must.capability} finding reported`);
      if (Object.values(must.activation).includes('active') && extra.length > 0) {
        assert.match(text, /ACTIVE/);
        assert.ok(flat.includes('ckpt_active/ckpt'));
      }
    }
    for (const [i, page] of renderPages(path, 1, 4, `${name}-page`).entries()) assertInked(page, `${name} page ${i + 1}`);
  });
}

test('Dynamic confirmation: per finding and run, the verdict next to the static one; disagreements first', { skip: skipPoppler }, async () => {
  const doc = syntheticDocument();
  const active = {
    ...doc.sandboxRuns[0]!,
    checkpoint: `${MODEL_PATH}/ckpt_active/ckpt`,
    progress: { phases: ['loaded', 'calling', 'outputs'], signature: 'serving_default', called: true, returned: true, error: null },
    inputs: { x: { dtype: 'float32', shape: [1], value: { values: [1] }, source: 'synthesized' as const } },
    syscalls: [{ kind: 'file' as const, call: 'openat(write)', target: '/tmp/tfaudit_canary', result: 'ok', phase: 'calling' }],
  };
  // the own checkpoint run also wrote the canary: dormant but confirmed, a disagreement
  const own = { ...active, runId: 'run-own', checkpoint: `${MODEL_PATH}/variables/variables`, policy: { ...active.policy, checkpoint: null } };
  const text = pdfText(savePdf('dynamic-confirmation.pdf', await renderAuditPdf({ ...doc, sandboxRuns: [active, own] })));
  const flat = text.replace(/\s+/g, ' ');
  assert.ok(flat.includes('Dynamic confirmation'));
  assert.ok(flat.includes('Disagreements between the static analysis and the sandbox'));
  assert.match(flat, /F1 WriteFile: the analysis says it is dormant under \/models\/P1_trojan_if_writefile\/variables\/variables, but the run did it/);
  assert.match(flat, /Run 1 \(ckpt_active\/ckpt\)/);
  assert.match(flat, /F1 WriteFile \/tmp\/tfaudit_canary confirmed confirmed static: active static: dormant/);
  assert.ok(flat.includes('openat(write) /tmp/tfaudit_canary -> ok [during the signature call]'));
  assert.match(flat, /x: float32\[1\] synthesized/);
});

test('checkpoint coverage and an integrity finding are in the PDF text', { skip: skipPoppler }, async () => {
  const report = syntheticReport([]);
  report.checkpoints = [
    { path: '/runs/ckpt-2', given: '/runs', siblings: ['/runs/ckpt-1', '/runs/ckpt-2'], coverage: { method: 'object-graph', root: 'model', rootPath: ['model'], restoreCall: 'tf.train.Checkpoint(model=loaded).read(prefix).expect_partial()', matched: 1, total: 2, missing: ['flag/.ATTRIBUTES/VARIABLE_VALUE'], extra: ['save_counter/.ATTRIBUTES/VARIABLE_VALUE'], extraCount: 1, mismatches: [], refused: null, differentModel: false, candidates: 1, alternatives: [], notes: [] } },
  ];
  report.findings = [{
    id: 'F1', rule: 'integrity/checkpoint', severity: 'high', capability: 'integrity', op: 'checkpoint', node: '/runs/broken', function: null, metaGraph: null,
    message: 'Checkpoint /runs/broken fails its integrity checks (1 problem(s): /runs/broken.data-00000-of-00001: tensor "w": block crc32c mismatch).',
    evidence: ['/runs/broken.data-00000-of-00001: tensor "w": block crc32c mismatch'], arguments: [], reachability: 'load', entryPoints: [],
    trigger: { kind: 'none', variables: [], gates: [], activation: [{ checkpoint: '/runs/broken', state: 'unknown', values: {}, reason: 'crc' }] },
    figure: { nodes: [], edges: [] }, recommendation: 'Do not load this checkpoint.',
  }];
  const text = pdfText(savePdf('coverage.pdf', await renderAuditPdf(syntheticDocument(report)))).replace(/\s+/g, ' ');
  assert.match(text, /object graph, root model: 1 of 2 variables matched/);
  assert.match(text, /keep the model's own value/);
  assert.match(text, /block crc32c mismatch/);
});

test('a time bomb (environment trigger) is drawn and described as decided at run time', { skip: skipPoppler }, async () => {
  const path = savePdf('time-bomb.pdf', await renderAuditPdf(syntheticDocument(syntheticReport([timeBombFinding('F1')]))));
  const flat = pdfText(path).replace(/\s+/g, ' ');
  assert.ok(flat.includes('Unsafe: the run-time environment (clock, randomness or data read at run time) triggers file writes, and it does now.'), flat.slice(0, 2000));
  assert.ok(flat.includes('Decided at run time by: the clock: Timestamp'));
  assert.ok(flat.includes('source: environment'));
  assert.ok(flat.includes('RUN-TIME SOURCE'), 'figure node for the clock');
  assert.ok(flat.includes('true since 2023-11-14 22:13:20 UTC'));
});
