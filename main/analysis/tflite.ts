// Findings for TensorFlow Lite models. Flex ops (custom code `Flex<Op>`) run real TensorFlow
// kernels through the Flex delegate, so they go through the same capability catalogue as graph
// ops, with their NodeDef attrs and constant string inputs as arguments. Other custom ops need a
// kernel the application registers: the file ships no code, but the auditor must know which.
import type { NodeIR, TfliteIR, TfliteOperatorIR, ModelIR } from '../../shared/ir.ts';
import type { Figure, Finding, Reachability, ResolvedArgument, Severity } from '../../shared/findings.ts';
import { capabilityRules, flexToTensorFlowOp, type CapabilityRule } from './catalogue.ts';
import { isTensorFlowOp, registryOpDef } from './op-registry.ts';
import { classifyTarget } from './targets.ts';

/** Custom ops shipped with TFLite, TF Text, TFLite Support or MediaPipe: known kernels, no file access. */
const WELL_KNOWN_CUSTOM_OPS: Record<string, string> = {
  TFLite_Detection_PostProcess: 'SSD detection post-processing kernel shipped with TFLite',
  AudioSpectrogram: 'audio spectrogram kernel shipped with TFLite',
  Mfcc: 'MFCC kernel shipped with TFLite',
  ParseExample: 'tf.Example parsing kernel shipped with TFLite (tensorflow/lite/kernels/parse_example)',
  ParseExampleV2: 'tf.Example parsing kernel shipped with TFLite (tensorflow/lite/kernels/parse_example)',
  MaxPoolingWithArgmax2D: 'MediaPipe pooling kernel',
  MaxUnpooling2D: 'MediaPipe unpooling kernel',
  Convolution2DTransposeBias: 'MediaPipe transposed-convolution kernel',
  TransformLandmarks: 'MediaPipe landmark kernel',
  TransformTensorBilinear: 'MediaPipe tensor transform kernel',
  Landmarks2TransformMatrix: 'MediaPipe landmark kernel',
  SentencepieceTokenizeOp: 'SentencePiece tokenizer (TFLite Support)',
  TFSentencepieceTokenizeOp: 'SentencePiece tokenizer (TF Text)',
  SentencepieceDetokenizeOp: 'SentencePiece detokenizer (TFLite Support)',
  WhitespaceTokenizer: 'whitespace tokenizer (TF Text)',
  TFText_WhitespaceTokenizer: 'whitespace tokenizer (TF Text)',
  TFText_FastWordpieceTokenizer: 'WordPiece tokenizer (TF Text)',
  TFText_FastBertNormalizer: 'BERT normalizer (TF Text)',
  TFText_NgramsStringJoin: 'n-gram kernel (TF Text)',
  RaggedTensorToTensor: 'ragged-tensor kernel (TF Text / TFLite)',
  NumericVerify: 'TFLite quantisation debugging kernel',
  Irfft2d: 'inverse real FFT kernel shipped with TFLite',
  Roll: 'roll kernel shipped with TFLite',
  ImageProjectiveTransformV2: 'image transform kernel shipped with TFLite',
  ImageProjectiveTransformV3: 'image transform kernel shipped with TFLite',
  MultinomialV2: 'random sampling kernel',
  'Atan2': 'math kernel',
};

export function tfliteFindings(model: ModelIR): Finding[] {
  const tflite = model.tflite;
  if (!tflite) return [];
  const findings: Finding[] = [];
  const flexByOperator = new Map<string, NodeIR>();
  for (const f of tflite.flexNodes) flexByOperator.set(`${f.subgraph}:${f.operator}`, f.node);
  for (const sg of tflite.subgraphs) {
    for (const op of sg.operators) {
      if (!op.custom) continue;
      const node = flexByOperator.get(`${op.subgraph}:${op.index}`) ?? null;
      if (op.flexOp !== undefined) findings.push(...flexFindings(tflite, op, node));
      else findings.push(...customFindings(tflite, op, node));
    }
  }
  return findings;
}

function flexFindings(tflite: TfliteIR, op: TfliteOperatorIR, decoded: NodeIR | null): Finding[] {
  const tfOp = decoded?.op || flexToTensorFlowOp(op.opcode);
  const node: NodeIR = decoded ?? { name: operatorName(tflite, op), op: tfOp, inputs: [], device: '', attr: {} };
  if (!isTensorFlowOp(tfOp)) {
    return [
      finding(tflite, op, node, {
        rule: 'tflite-flex-unknown-op',
        severity: 'high',
        capability: 'custom-op',
        message: `Flex op ${op.opcode} runs "${tfOp}", which TensorFlow does not define: the Flex delegate needs a custom kernel linked into the application`,
        args: [],
        recommendation: 'Find out which library provides this kernel before running the model; TensorFlow itself has no op of this name.',
      }),
    ];
  }
  const rules = capabilityRules(node, registryOpDef(tfOp));
  return rules.map((rule) =>
    finding(tflite, op, node, {
      rule: `tflite-flex-${rule.capability}`,
      severity: rule.baseSeverity,
      capability: rule.capability,
      message: `Flex op ${op.opcode} runs the TensorFlow op ${tfOp} through the Flex delegate: ${rule.description}${describeArgs(ruleArguments(tflite, op, node, rule))}`,
      args: ruleArguments(tflite, op, node, rule),
      recommendation: 'The Flex delegate runs full TensorFlow kernels. Run the model only with the TFLite builtin op resolver (no Flex delegate), or in a sandbox, unless this op is expected.',
    }),
  );
}

function customFindings(tflite: TfliteIR, op: TfliteOperatorIR, decoded: NodeIR | null): Finding[] {
  const known = WELL_KNOWN_CUSTOM_OPS[op.opcode];
  if (isTensorFlowOp(op.opcode)) {
    // A TensorFlow op name used as a TFLite custom kernel (e.g. ParseExampleV2). The kernel is
    // the application's, but the op's TensorFlow semantics say what it may touch.
    const node: NodeIR = decoded ?? { name: operatorName(tflite, op), op: op.opcode, inputs: [], device: '', attr: {} };
    const rules = capabilityRules(node, registryOpDef(op.opcode));
    if (rules.length > 0) {
      return rules.map((rule) =>
        finding(tflite, op, node, {
          rule: `tflite-custom-${rule.capability}`,
          severity: 'medium',
          capability: rule.capability,
          message: `Custom op ${op.opcode} has the name of a TensorFlow op that ${rule.description.charAt(0).toLowerCase()}${rule.description.slice(1)} It runs only if the application registers a kernel under this name.`,
          args: ruleArguments(tflite, op, node, rule),
          recommendation: 'Check which kernel the application registers for this custom op before running the model.',
        }),
      );
    }
    return [
      finding(tflite, op, node, {
        rule: 'tflite-custom-op',
        severity: 'info',
        capability: 'custom-op',
        message: `Custom op ${op.opcode}: a TensorFlow op implemented as a TFLite custom kernel${known ? ` (${known})` : ''}; no file, network or process access`,
        args: [],
        recommendation: 'No action needed beyond making sure the kernel comes from TFLite or TensorFlow itself.',
        note: known ?? 'TensorFlow op name without the Flex prefix',
      }),
    ];
  }
  const node: NodeIR = { name: operatorName(tflite, op), op: op.opcode, inputs: [], device: '', attr: {} };
  if (known) {
    return [
      finding(tflite, op, node, {
        rule: 'tflite-custom-op',
        severity: 'low',
        capability: 'custom-op',
        message: `Custom op ${op.opcode}: ${known}; the application must register the kernel`,
        args: [],
        recommendation: 'Make sure the registered kernel is the official one.',
        note: known,
      }),
    ];
  }
  return [
    finding(tflite, op, node, {
      rule: 'tflite-custom-op',
      severity: 'medium',
      capability: 'custom-op',
      message: `Custom op "${op.opcode}" is neither a TFLite builtin nor a known custom kernel: it runs whatever native code the application registers under this name`,
      args: [],
      recommendation: 'Find out which kernel provides this op and review it before running the model.',
    }),
  ];
}

/** Path / URL arguments from NodeDef attrs and from constant string tensors feeding the op. */
function ruleArguments(tflite: TfliteIR, op: TfliteOperatorIR, node: NodeIR, rule: CapabilityRule): ResolvedArgument[] {
  const args: ResolvedArgument[] = [];
  for (const name of rule.targetAttrs) {
    const attr = node.attr[name];
    const values = attr ? attrStrings(attr) : [];
    for (const value of values) args.push(argument(`attr:${name}`, value, JSON.stringify(value)));
    if (!attr) args.push({ input: `attr:${name}`, value: null, expression: `attr ${name} not set`, classification: 'unknown' });
  }
  if (rule.targetInputs.length > 0) {
    const opDef = registryOpDef(node.op);
    const sg = tflite.subgraphs[op.subgraph];
    for (const input of rule.targetInputs) {
      const position = opDef ? opDef.inputArgs.findIndex((a) => a.name === input) : -1;
      const tensorIndex = position >= 0 ? op.inputs[position] : undefined;
      const tensor = tensorIndex !== undefined && tensorIndex >= 0 ? sg?.tensors[tensorIndex] : undefined;
      if (tensor?.stringValues && tensor.stringValues.length > 0) {
        for (const value of tensor.stringValues) args.push(argument(input, value, `constant tensor ${tensor.name}`));
      } else {
        args.push({
          input,
          value: null,
          expression: tensor ? `tensor ${tensor.name} (${tensor.type} [${tensor.shape.join(', ')}])${sg.inputs.includes(tensorIndex!) ? ', a subgraph input' : ''}` : `input ${input}`,
          classification: 'unknown',
        });
      }
    }
  }
  return args;
}

function attrStrings(attr: NodeIR['attr'][string]): string[] {
  const decode = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: false }).decode(b);
  if (attr.type === 's') return [decode(attr.s)];
  if (attr.type === 'list' && attr.list.s) return attr.list.s.map(decode);
  return [];
}

function argument(input: string, value: string, expression: string): ResolvedArgument {
  const info = classifyTarget(value);
  const arg: ResolvedArgument = { input, value, expression, classification: info.classification };
  if (info.note) arg.note = info.note;
  return arg;
}

function describeArgs(args: ResolvedArgument[]): string {
  const known = args.filter((a) => a.value !== null);
  return known.length ? ` (${known.map((a) => `${a.input} = ${JSON.stringify(a.value)}`).join(', ')})` : '';
}

function subgraphLabel(tflite: TfliteIR, index: number): string {
  return tflite.subgraphs[index]?.name || `subgraph${index}`;
}

function operatorName(tflite: TfliteIR, op: TfliteOperatorIR): string {
  const sg = tflite.subgraphs[op.subgraph];
  const firstOutput = op.outputs.find((t) => t >= 0);
  const outputName = firstOutput !== undefined ? sg?.tensors[firstOutput]?.name : undefined;
  return outputName || `${subgraphLabel(tflite, op.subgraph)}/op${op.index}`;
}

/** Subgraphs reached from signatures, or the main subgraph 0, and those they call. */
function reachability(tflite: TfliteIR, subgraph: number): { reachability: Reachability; entryPoints: string[] } {
  const signatures = tflite.signatureDefs.filter((s) => s.subgraph === subgraph).map((s) => s.key);
  if (signatures.length > 0) return { reachability: 'signature', entryPoints: signatures };
  if (subgraph === 0) return { reachability: 'graph', entryPoints: [subgraphLabel(tflite, 0)] };
  const callers = tflite.subgraphs.flatMap((sg, i) =>
    sg.operators.filter((o) => ['WHILE', 'IF', 'CALL', 'CALL_ONCE', 'STABLEHLO_WHILE', 'STABLEHLO_COMPOSITE'].includes(o.opcode)).map(() => i),
  );
  if (callers.length > 0) return { reachability: 'graph', entryPoints: [`called from ${[...new Set(callers)].map((i) => subgraphLabel(tflite, i)).join(', ')}`] };
  return { reachability: 'unknown', entryPoints: [] };
}

interface Draft {
  rule: string;
  severity: Severity;
  capability: Finding['capability'];
  message: string;
  args: ResolvedArgument[];
  recommendation: string;
  note?: string;
}

function finding(tflite: TfliteIR, op: TfliteOperatorIR, node: NodeIR, d: Draft): Finding {
  const sgName = subgraphLabel(tflite, op.subgraph);
  const reach = reachability(tflite, op.subgraph);
  const evidence = [`${sgName} (subgraph ${op.subgraph})`, `${sgName}/operator ${op.index} (${op.opcode})`];
  if (op.flexOp !== undefined || node.op !== op.opcode) evidence.push(`${sgName}/${node.name} (${node.op})`);
  for (const a of d.args) if (a.value !== null) evidence.push(`${a.input} = ${JSON.stringify(a.value)}`);
  const figure: Figure = {
    nodes: [
      { id: 'sg', label: `${sgName} (subgraph ${op.subgraph})`, kind: 'call' },
      { id: 'op', label: `${op.opcode} #${op.index}`, kind: 'unsafe', detail: node.op !== op.opcode ? `TensorFlow op ${node.op}` : undefined },
      ...d.args.filter((a) => a.value !== null).slice(0, 8).map((a, i) => ({ id: `a${i}`, label: `${a.input} = ${a.value}`, kind: 'constant' as const })),
    ],
    edges: [
      { from: 'sg', to: 'op', label: 'runs' },
      ...d.args.filter((a) => a.value !== null).slice(0, 8).map((_, i) => ({ from: `a${i}`, to: 'op', label: 'argument' })),
    ],
  };
  for (const n of figure.nodes) if (n.detail === undefined) delete n.detail;
  const details: Record<string, string> = {
    subgraph: String(op.subgraph),
    operator: String(op.index),
    customCode: op.opcode,
    tensorflowOp: node.op,
    nodeDef: op.flexOp !== undefined ? (node.attr && Object.keys(node.attr).length + node.inputs.length > 0 ? 'decoded from custom options' : 'not present') : '',
  };
  if (d.note) details.note = d.note;
  return {
    id: '',
    rule: d.rule,
    severity: d.severity,
    capability: d.capability,
    op: node.op || op.opcode,
    node: node.name,
    function: sgName,
    metaGraph: null,
    message: d.message,
    evidence,
    arguments: d.args,
    reachability: reach.reachability,
    entryPoints: reach.entryPoints,
    trigger: { kind: 'none', variables: [], gates: [], activation: [] },
    figure,
    recommendation: d.recommendation,
    details,
  };
}
