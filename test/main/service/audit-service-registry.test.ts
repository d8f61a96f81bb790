// The app's registry audit through the real AuditService (workers without the OS sandbox, to
// keep it light): a dropped folder of several models opens as a registry, a row opens its full
// audit, the registry PDF renders; one model or a TF1 training folder still opens as one model.
// Models from ../shared/corpus/real, copied into a temp folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { AuditService, registryFolder } from '../../../main/service/audit-service.ts';
import { isRegistryView, type AuditView } from '../../../shared/api.ts';

test('which dropped paths open as a registry', { skip: skipWithoutCorpus }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tfaudit-which-'));
  cpSync(real('serving_saved_model_half_plus_two_cpu', '00000123'), join(root, 'reg', 'a', '1'), { recursive: true });
  cpSync(real('serving_saved_model_half_plus_two_cpu', '00000123'), join(root, 'reg', 'a', '2'), { recursive: true });
  assert.equal(registryFolder([join(root, 'reg')]), join(root, 'reg'));
  assert.equal(registryFolder([join(root, 'reg', 'a', '1')]), null, 'one SavedModel');
  assert.equal(registryFolder([join(root, 'reg', 'a', '1'), join(root, 'reg', 'a', '2')]), null, 'several paths: the model and its checkpoints');
  // a TF1 training folder: graph.pbtxt and model.ckpt-1.meta beside a `checkpoint` state file
  const training = join(root, 'train');
  mkdirSync(training);
  cpSync(real('tf_profiler_ckpt_graph', 'graph.pbtxt'), join(training, 'graph.pbtxt'));
  cpSync(real('tfonnx_regression_checkpoint'), join(training, 'ckpt'), { recursive: true });
  spawnSync('sh', ['-c', `cp ${join(training, 'ckpt')}/model.meta ${training}/model.ckpt-1.meta && printf 'model_checkpoint_path: "model.ckpt-1"\\n' > ${training}/checkpoint`]);
  assert.equal(registryFolder([training]), null);
});

test('a folder of models opens as a registry; a row opens its full audit; the registry PDF renders', { skip: skipWithoutCorpus }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'tfaudit-app-registry-'));
  cpSync(real('tabuse_printv2_local_file'), join(root, 'printer'), { recursive: true });
  cpSync(real('serving_saved_model_half_plus_two_cpu', '00000123'), join(root, 'serving', '1'), { recursive: true });
  mkdirSync(join(root, 'keras'));
  cpSync(real('dl4j_keras_optimizer_adam', 'adam.h5'), join(root, 'keras', 'adam.h5'));
  const service = new AuditService({ isolation: 'off', workerMemoryMb: 1024 });
  const progress: string[] = [];
  service.onProgress((e) => progress.push(e.message));
  try {
    const opened = await service.open([root]);
    assert.ok(isRegistryView(opened));
    assert.deepEqual(opened.rows.map((r) => [r.rowId, r.path, r.status]), [['m1', 'keras/adam.h5', 'ok'], ['m2', 'printer', 'ok'], ['m3', 'serving/1', 'ok']]);
    assert.equal(opened.rows[1]!.maxSeverity, 'high');
    assert.equal(opened.totals.atOrAbove, 1);
    assert.ok(!('findings' in opened.rows[0]!), 'rows carry counts, not findings');
    assert.ok(progress.some((m) => /^3\/3 /.test(m)), progress.join('\n'));
    const audit = (await service.openRegistryModel(opened.registryId, 'm2')) as AuditView;
    assert.ok(audit.report.findings.some((f) => f.op === 'PrintV2' && f.severity === 'high'));
    assert.equal(service.get(audit.auditId).auditId, audit.auditId, 'the row is an open audit like any other');
    await assert.rejects(service.openRegistryModel(opened.registryId, 'm9'), /no row m9/);
    await assert.rejects(service.openRegistryModel('nope', 'm1'), /no open registry/);
    const pdf = await service.exportRegistryPdf(opened.registryId, 'Tester');
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const text = spawnSync('pdftotext', ['-', '-'], { input: pdf, encoding: 'utf8' }).stdout;
    assert.match(text, /1 of 3 model\(s\) audited|3 model\(s\) audited: 1 at or above high/);
  } finally {
    await service.dispose();
  }
});
