// Hand-built AuditView objects shaped like the analysis of crafted/P1_trojan_if_writefile, for
// unit tests of the renderer's pure view logic (the e2e test drives the real service).
import type { AuditView } from '../../shared/api.ts';
import type { Finding } from '../../shared/findings.ts';

export const MODEL = '/ws/P1_trojan_if_writefile';
export const OWN = `${MODEL}/variables/variables`;
export const ACTIVE = '/ws2/ckpt_active/ckpt';

export function writeFileFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    id: 'F1',
    rule: 'file-write',
    severity: 'critical',
    capability: 'file-write',
    op: 'WriteFile',
    node: 'WriteFile',
    function: '__inference_canary_40',
    metaGraph: 'serve',
    message: 'WriteFile writes /tmp/tfaudit_canary when mode > 0',
    evidence: ['mode (VarHandleOp)', '__inference_predict_60/Greater (Greater)', '__inference_predict_60/cond (If)', 'cond_true_51 (then_branch)', '__inference_canary_40/WriteFile (WriteFile)'],
    arguments: [{ input: 'filename', value: '/tmp/tfaudit_canary', expression: "Const('/tmp/tfaudit_canary')", classification: 'local-path' }],
    reachability: 'signature',
    entryPoints: ['serving_default'],
    trigger: {
      kind: 'variable',
      variables: ['mode/.ATTRIBUTES/VARIABLE_VALUE'],
      gates: [
        {
          function: '__inference_predict_60',
          node: 'cond',
          op: 'If',
          branch: 'then_branch',
          branchFunction: 'cond_true_51',
          predicate: { source: 'variable', variables: ['mode/.ATTRIBUTES/VARIABLE_VALUE'], inputs: [], nodes: ['__inference_predict_60/Greater (Greater)'], expression: 'Greater(ReadVariableOp(mode), 0)' },
        },
      ],
      activation: [
        { checkpoint: OWN, state: 'dormant', values: { 'mode/.ATTRIBUTES/VARIABLE_VALUE': '0' }, reason: 'Greater(0, 0) is false' },
        { checkpoint: ACTIVE, state: 'active', values: { 'mode/.ATTRIBUTES/VARIABLE_VALUE': '1' }, reason: 'Greater(1, 0) is true' },
      ],
    },
    figure: {
      nodes: [
        { id: 'v', label: 'mode/.ATTRIBUTES/VARIABLE_VALUE', kind: 'variable' },
        { id: 'p', label: 'Greater(ReadVariableOp(mode), 0)', kind: 'predicate' },
        { id: 'c', label: '__inference_predict_60/cond (If)', kind: 'control' },
        { id: 'b', label: 'then_branch: cond_true_51', kind: 'branch' },
        { id: 'k', label: '__inference_canary_40', kind: 'call' },
        { id: 'u', label: 'WriteFile', kind: 'unsafe', detail: '/tmp/tfaudit_canary' },
      ],
      edges: [
        { from: 'v', to: 'p' },
        { from: 'p', to: 'c', label: 'cond' },
        { from: 'c', to: 'b', label: 'true' },
        { from: 'b', to: 'k' },
        { from: 'k', to: 'u' },
      ],
    },
    recommendation: 'Do not load this model with a checkpoint that sets mode > 0.',
    ...overrides,
  };
}

export function p1View(findings: Finding[] = [writeFileFinding()]): AuditView {
  return {
    auditId: 'a1',
    summary: {
      path: MODEL,
      format: 'saved-model',
      files: [{ path: 'saved_model.pb', size: 12345, sha256: 'ab'.repeat(32) }],
      tensorflowVersion: '2.21.0',
      metaGraphs: [
        {
          tags: ['serve'],
          tensorflowVersion: '2.21.0',
          producer: 2100,
          signatures: [{ key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: {}, outputs: {} }],
          opCounts: { WriteFile: 1, If: 1, Greater: 1, ReadVariableOp: 3 },
          nodeCount: 40,
          functions: [],
          variables: [],
        },
      ],
      checkpoint: { prefix: OWN, version: 'v2', entries: [{ key: 'mode/.ATTRIBUTES/VARIABLE_VALUE', dtype: 'DT_INT32', shape: [], values: [0] }] },
      warnings: [],
    },
    report: {
      schemaVersion: 1,
      tool: { name: 'tfaudit', version: '0.1.0' },
      model: { path: MODEL, format: 'saved-model', files: [], tensorflowVersion: '2.21.0' },
      checkpoints: [{ path: OWN }, { path: ACTIVE }],
      findings,
      errors: [],
      analysis: { isolated: true, isolation: 'bubblewrap', opsAnalysed: 40, functionsAnalysed: 6, unknownSemantics: [], notes: [] },
    },
    checkpoints: [
      { id: 'own', label: OWN },
      { id: 'c1', label: ACTIVE },
    ],
    sandboxRuns: [],
    isolation: { isolated: true, description: 'bubblewrap' },
  };
}
