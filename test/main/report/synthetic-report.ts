// Synthetic scan reports and audit documents for the report renderers' tests: shaped like what
// the analysis emits for crafted case P1 (If on a variable → WriteFile), plus generated bulk.
import type { Finding, ScanReport, Severity } from '../../../shared/findings.ts';
import type { ModelSummary } from '../../../shared/summary.ts';
import type { SandboxRunReport } from '../../../shared/sandbox.ts';
import type { AuditDocument } from '../../../shared/report.ts';
import { buildFigure } from '../../../main/analysis/figure.ts';

export const MODEL_PATH = '/models/P1_trojan_if_writefile';
export const PB_SHA = 'a3f1c9e2b47d5086f1e2d3c4b5a69788a3f1c9e2b47d5086f1e2d3c4b5a69788';
export const DATA_SHA = '0b1c2d3e4f5061728394a5b6c7d8e9f00b1c2d3e4f5061728394a5b6c7d8e9f0';

export function writeFileFinding(id = 'F1', overrides: Partial<Finding> = {}): Finding {
  return {
    id,
    rule: 'variable-gated-file-write',
    severity: 'critical',
    capability: 'file-write',
    op: 'WriteFile',
    node: 'WriteFile',
    function: '__inference_canary_42',
    metaGraph: 'serve',
    message: "WriteFile writes '/tmp/tfaudit_canary' when variable 'mode' switches the If in __inference_predict_31 to then_branch",
    evidence: [
      'variables/mode (VarHandleOp)',
      '__inference_predict_31/ReadVariableOp (ReadVariableOp)',
      '__inference_predict_31/Greater (Greater)',
      '__inference_predict_31/cond (If)',
      'cond_true_17/PartitionedCall (PartitionedCall)',
      '__inference_canary_42/WriteFile (WriteFile)',
    ],
    arguments: [
      {
        input: 'filename',
        value: '/tmp/tfaudit_canary',
        expression: "Const('/tmp/tfaudit_canary')",
        classification: 'local-path',
      },
      { input: 'contents', value: 'pwned', expression: "Const('pwned')", classification: 'unknown' },
    ],
    reachability: 'signature',
    entryPoints: ['signature: serving_default', 'object: predict'],
    trigger: {
      kind: 'variable',
      variables: ['mode/.ATTRIBUTES/VARIABLE_VALUE'],
      gates: [
        {
          function: '__inference_predict_31',
          node: 'cond',
          op: 'If',
          branch: 'then_branch',
          branchFunction: 'cond_true_17',
          predicate: {
            source: 'variable',
            variables: ['mode/.ATTRIBUTES/VARIABLE_VALUE'],
            inputs: [],
            nodes: ['__inference_predict_31/Greater (Greater)', '__inference_predict_31/ReadVariableOp (ReadVariableOp)'],
            expression: 'Greater(ReadVariableOp(mode), 0)',
          },
        },
      ],
      activation: [
        {
          checkpoint: `${MODEL_PATH}/variables/variables`,
          state: 'dormant',
          values: { 'mode/.ATTRIBUTES/VARIABLE_VALUE': '0', 'Greater': 'false' },
          reason: 'Greater(0, 0) is false: else_branch is taken',
        },
        {
          checkpoint: `${MODEL_PATH}/ckpt_active/ckpt`,
          state: 'active',
          values: { 'mode/.ATTRIBUTES/VARIABLE_VALUE': '1', 'Greater': 'true' },
          reason: 'Greater(1, 0) is true: then_branch is taken',
        },
      ],
    },
    figure: {
      nodes: [
        { id: 'v', label: 'mode/.ATTRIBUTES/VARIABLE_VALUE', kind: 'variable' },
        { id: 'p', label: 'Greater(ReadVariableOp(mode), 0)', kind: 'predicate' },
        { id: 'c', label: '__inference_predict_31/cond (If)', kind: 'control' },
        { id: 'b', label: 'then_branch: cond_true_17', kind: 'branch' },
        { id: 'e', label: 'else_branch: cond_false_18', kind: 'branch' },
        { id: 'k', label: '__inference_canary_42', kind: 'call' },
        { id: 'u', label: "WriteFile('/tmp/tfaudit_canary')", kind: 'unsafe' },
      ],
      edges: [
        { from: 'v', to: 'p' },
        { from: 'p', to: 'c', label: 'cond' },
        { from: 'c', to: 'b', label: 'true' },
        { from: 'c', to: 'e', label: 'false' },
        { from: 'b', to: 'k' },
        { from: 'k', to: 'u' },
      ],
    },
    recommendation:
      'Do not load this model with checkpoints you did not produce; remove the WriteFile branch or pin mode to 0 and verify in the sandbox.',
    ...overrides,
  };
}

/** A time bomb: tf.timestamp() > 1.7e9 guarding the same write (trigger kind environment, issue 16). */
export function timeBombFinding(id = 'F2'): Finding {
  const base = writeFileFinding(id);
  const environment = ['the clock: Timestamp (__inference_predict_31/Timestamp (Timestamp))'];
  const gates: Finding['trigger']['gates'] = [{ ...base.trigger.gates[0], predicate: { source: 'environment', variables: [], inputs: [], environment, nodes: ['__inference_predict_31/Timestamp (Timestamp)'], expression: 'Greater(Timestamp(), 1.7e+09)' } }];
  return {
    ...base,
    figure: buildFigure({ gates, calls: [], unsafe: '__inference_canary_42/WriteFile (WriteFile)' }),
    rule: 'file-write/WriteFile',
    message: 'WriteFile (file-write) runs when a signature is called; decided at run time by the clock. Time bomb: true since 2023-11-14 22:13:20 UTC.',
    trigger: {
      kind: 'environment',
      variables: [],
      environment,
      gates,
      activation: [{ checkpoint: `${MODEL_PATH}/variables/variables`, state: 'active', values: {}, reason: 'time bomb: the clock gate is true now, true since 2023-11-14 22:13:20 UTC' }],
    },
  };
}

export function syntheticReport(findings: Finding[] = [writeFileFinding()]): ScanReport {
  return {
    schemaVersion: 1,
    tool: { name: 'tfaudit', version: '0.1.0' },
    model: {
      path: MODEL_PATH,
      format: 'saved-model',
      files: [
        { path: 'saved_model.pb', size: 48213, sha256: PB_SHA },
        { path: 'variables/variables.data-00000-of-00001', size: 220, sha256: DATA_SHA },
      ],
      tensorflowVersion: '2.21.0',
    },
    checkpoints: [{ path: `${MODEL_PATH}/variables/variables` }, { path: `${MODEL_PATH}/ckpt_active/ckpt` }],
    findings,
    errors: [],
    analysis: {
      isolated: true,
      isolation: 'parser worker with resource limits',
      opsAnalysed: 57,
      functionsAnalysed: 9,
      unknownSemantics: ['MyCustomOp'],
      notes: ['Nested GraphDefs: none found.'],
    },
  };
}

const SEVERITY_CYCLE: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** `count` findings with growing, long node names, to stress layout. */
export function bulkFindings(count: number): Finding[] {
  const out: Finding[] = [];
  for (let i = 1; i <= count; i++) {
    const longName = `model/block_${i}/` + 'very_long_scope_name_'.repeat(1 + (i % 5)) + `WriteFile_${i}`;
    out.push(
      writeFileFinding(`F${i}`, {
        severity: SEVERITY_CYCLE[i % SEVERITY_CYCLE.length],
        node: longName,
        message: `Finding number ${i}: ${longName} writes a file`,
      }),
    );
  }
  return out;
}

export function syntheticSummary(): ModelSummary {
  return {
    path: MODEL_PATH,
    format: 'saved-model',
    files: [
      { path: 'saved_model.pb', size: 48213, sha256: PB_SHA },
      { path: 'variables/variables.data-00000-of-00001', size: 220, sha256: DATA_SHA },
    ],
    tensorflowVersion: '2.21.0',
    metaGraphs: [
      {
        tags: ['serve'],
        tensorflowVersion: '2.21.0',
        producer: 2134,
        signatures: [
          {
            key: 'serving_default',
            methodName: 'tensorflow/serving/predict',
            inputs: { x: { name: 'serving_default_x:0', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [-1, 1] } } },
            outputs: { output_0: { name: 'StatefulPartitionedCall:0', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [-1, 1] } } },
          },
        ],
        opCounts: { WriteFile: 1, If: 1, ReadVariableOp: 3, Greater: 1, Const: 12, VarHandleOp: 3 },
        nodeCount: 57,
        functions: [{ name: '__inference_predict_31', nodeCount: 9 }],
        variables: [
          { name: 'mode', checkpointKey: 'mode/.ATTRIBUTES/VARIABLE_VALUE', dtype: 'DT_INT32', shape: [] },
          { name: 'a', checkpointKey: 'a/.ATTRIBUTES/VARIABLE_VALUE', dtype: 'DT_FLOAT', shape: [] },
        ],
      },
    ],
    checkpoint: {
      prefix: `${MODEL_PATH}/variables/variables`,
      version: 'v2',
      entries: [
        { key: 'mode/.ATTRIBUTES/VARIABLE_VALUE', dtype: 'DT_INT32', shape: [], values: [0] },
        { key: 'a/.ATTRIBUTES/VARIABLE_VALUE', dtype: 'DT_FLOAT', shape: [], values: [0.5] },
      ],
    },
    warnings: [],
  };
}

export function syntheticSandboxRun(): SandboxRunReport {
  return {
    runId: 'run-1',
    policy: {
      backend: 'bubblewrap',
      runner: 'tf-python',
      allowNetwork: false,
      modelPath: MODEL_PATH,
      checkpoint: `${MODEL_PATH}/ckpt_active/ckpt`,
      signature: 'serving_default',
      scratchDir: '/tmp/tfaudit-scratch',
      limits: { memoryMb: 2048, cpuSeconds: 60, wallSeconds: 120, fileSizeMb: 64, processes: 64 },
      readOnlyMounts: ['/opt/tfvenv'],
      rationale: ['file-write finding F1: writes are confined to the scratch directory'],
    },
    command: ['bwrap', '--unshare-all', '--ro-bind', MODEL_PATH, '/model', 'python3', 'run.py'],
    startedAt: '2026-01-02T03:04:05.000Z',
    exitCode: 0,
    signal: null,
    timedOut: false,
    wallSeconds: 4.2,
    cpuSeconds: 3.1,
    peakMemoryMb: 512,
    filesWritten: [{ path: '/tmp/tfaudit_canary', size: 5, change: 'created' }],
    syscalls: [{ kind: 'file', call: 'openat', target: '/tmp/tfaudit_canary', result: '3' }],
    notes: [],
    stdoutTail: '',
    stderrTail: '',
  };
}

export function syntheticDocument(report: ScanReport = syntheticReport()): AuditDocument {
  return {
    report,
    summary: syntheticSummary(),
    auditor: 'Ada Auditor',
    generatedAt: '2026-01-02T03:04:05.000Z',
    sandboxRuns: [syntheticSandboxRun()],
  };
}
