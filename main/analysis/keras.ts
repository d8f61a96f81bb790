// Findings for Keras models (.keras, legacy .h5, keras_metadata.pb): the ways a Keras config makes
// the loader run code or touch the world — Lambda bytecode, named functions and classes from
// arbitrary modules, keras.utils.get_file URLs, enable_unsafe_deserialization, TFSMLayer,
// lookup-layer vocabulary files, TorchModuleWrapper — each tied to the layer path that holds it
// and, when the file's Keras version is affected, to the CVE that makes it load despite safe_mode.
import type { KerasIR, KerasLayerIR, ModelIR } from '../../shared/ir.ts';
import type { Capability, Figure, FigureNode, Finding, ResolvedArgument, Severity } from '../../shared/findings.ts';
import { codeReferences, decodeMarshal, kerasCodeBytes, renderPyValue, type CodeReferences } from '../formats/pymarshal.ts';
import { classifyTarget } from './targets.ts';

// ------------------------------------------------------------------ what is dangerous

/** Modules whose functions reach the OS, the network, native code or the interpreter itself. */
const DANGEROUS_MODULES = new Set([
  'os', 'posix', 'nt', 'subprocess', 'commands', 'pty', 'shutil', 'socket', 'ssl', 'ctypes', 'cffi',
  'importlib', 'imp', 'builtins', '__builtin__', 'runpy', 'code', 'codeop', 'pickle', 'cPickle', '_pickle',
  'marshal', 'shelve', 'dill', 'joblib', 'multiprocessing', 'threading', 'signal', 'sys', 'urllib',
  'urllib2', 'urllib3', 'requests', 'http', 'httplib', 'ftplib', 'telnetlib', 'smtplib', 'poplib',
  'imaplib', 'webbrowser', 'asyncio', 'tempfile', 'glob', 'pathlib', 'io', 'zipfile', 'tarfile',
  'platform', 'getpass', 'pwd', 'resource', 'mmap', 'fcntl', 'paramiko', 'pexpect', 'sh',
]);

/** Names that execute code, start processes or load modules whatever module they come from. */
const EXEC_NAMES = new Set([
  'eval', 'exec', 'execfile', 'compile', '__import__', 'system', 'popen', 'popen2', 'popen3', 'Popen',
  'spawn', 'spawnl', 'spawnle', 'spawnlp', 'spawnv', 'spawnve', 'spawnvp', 'execl', 'execle', 'execlp',
  'execv', 'execve', 'execvp', 'fork', 'forkpty', 'check_output', 'check_call', 'getoutput',
  'getstatusoutput', 'run_module', 'run_path', 'import_module', 'load_module', 'loads', 'load',
  'create_connection', 'urlopen', 'urlretrieve', 'kill', 'remove', 'unlink', 'rmtree', 'rmdir',
  'CDLL', 'LoadLibrary', 'dlopen',
]);

/** Names that give indirect access to code, files or the interpreter state. */
const SUSPICIOUS_NAMES = new Set([
  'open', 'file', 'getattr', 'setattr', 'delattr', 'globals', 'locals', 'vars', '__builtins__',
  '__subclasses__', '__globals__', '__code__', '__class__', '__bases__', '__mro__', '__dict__',
  '__reduce__', 'reload', 'input', 'raw_input', 'breakpoint', 'environ', 'getenv', 'putenv', 'chmod',
  'chown', 'write', 'writelines', 'read', 'readlines', 'listdir', 'walk', 'scandir', 'connect', 'send',
  'sendall', 'recv', 'bind', 'listen', 'get_file',
]);

const FRAMEWORK_MODULE = /^(keras|keras_core|keras_hub|keras_nlp|keras_cv|tf_keras|tensorflow|tensorflow_text|tensorflow_hub|numpy|jax|torch)(\.|$)/;

const LOOKUP_LAYERS = new Set(['StringLookup', 'IntegerLookup', 'TextVectorization', 'IndexLookup', 'Hashing']);

// Keras class names that are part of Keras itself; configs from Keras 1/2 carry no `module`, so a
// class outside this list is a custom object that the loader must supply.
const KERAS_CLASSES = new Set(
  (
    'Model Functional Sequential InputLayer Input Dense Activation Dropout Flatten Reshape Permute RepeatVector Lambda ' +
    'ActivityRegularization Masking SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout AlphaDropout ' +
    'Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose SeparableConv1D SeparableConv2D DepthwiseConv1D ' +
    'DepthwiseConv2D Convolution1D Convolution2D Convolution3D Deconvolution2D Deconvolution3D AtrousConvolution1D ' +
    'AtrousConvolution2D ConvLSTM1D ConvLSTM2D ConvLSTM3D Cropping1D Cropping2D Cropping3D UpSampling1D UpSampling2D UpSampling3D ' +
    'ZeroPadding1D ZeroPadding2D ZeroPadding3D MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D ' +
    'AveragePooling3D MaxPool1D MaxPool2D MaxPool3D AvgPool1D AvgPool2D AvgPool3D GlobalMaxPooling1D GlobalMaxPooling2D ' +
    'GlobalMaxPooling3D GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D GlobalMaxPool1D GlobalMaxPool2D ' +
    'GlobalMaxPool3D GlobalAvgPool1D GlobalAvgPool2D GlobalAvgPool3D LocallyConnected1D LocallyConnected2D Embedding ' +
    'SimpleRNN GRU LSTM SimpleRNNCell GRUCell LSTMCell StackedRNNCells RNN Bidirectional TimeDistributed Wrapper CuDNNGRU CuDNNLSTM ' +
    'Add Subtract Multiply Average Maximum Minimum Concatenate Dot Merge BatchNormalization LayerNormalization GroupNormalization ' +
    'UnitNormalization RMSNormalization SpectralNormalization Normalization LeakyReLU PReLU ELU ThresholdedReLU Softmax ReLU ' +
    'Attention AdditiveAttention MultiHeadAttention GroupedQueryAttention EinsumDense Identity Rescaling Resizing CenterCrop ' +
    'RandomCrop RandomFlip RandomTranslation RandomRotation RandomZoom RandomHeight RandomWidth RandomContrast RandomBrightness ' +
    'Discretization CategoryEncoding Hashing HashedCrossing StringLookup IntegerLookup TextVectorization ' +
    'TFSMLayer TorchModuleWrapper JaxLayer FlaxLayer InputSpec ' +
    'GlorotUniform GlorotNormal HeUniform HeNormal LecunUniform LecunNormal Orthogonal Identity Zeros Ones Constant ' +
    'RandomUniform RandomNormal TruncatedNormal VarianceScaling IdentityInitializer STFTInitializer ' +
    'L1 L2 L1L2 OrthogonalRegularizer MaxNorm MinMaxNorm NonNeg UnitNorm RadialConstraint ' +
    'Adam AdamW Adamax Adadelta Adagrad Adafactor Ftrl Lion Nadam RMSprop SGD LossScaleOptimizer ' +
    'ExponentialDecay PiecewiseConstantDecay PolynomialDecay InverseTimeDecay CosineDecay CosineDecayRestarts ' +
    'DTypePolicy FloatDTypePolicy QuantizedDTypePolicy QuantizedFloat8DTypePolicy Policy ' +
    'Mean MeanMetricWrapper Sum Accuracy BinaryAccuracy CategoricalAccuracy SparseCategoricalAccuracy TopKCategoricalAccuracy ' +
    'SparseTopKCategoricalAccuracy AUC Precision Recall MeanSquaredError MeanAbsoluteError MeanAbsolutePercentageError ' +
    'MeanSquaredLogarithmicError CategoricalCrossentropy SparseCategoricalCrossentropy BinaryCrossentropy BinaryFocalCrossentropy ' +
    'CategoricalFocalCrossentropy Hinge SquaredHinge CategoricalHinge Huber LogCosh KLDivergence Poisson CosineSimilarity ' +
    'MeanIoU IoU OneHotIoU OneHotMeanIoU F1Score FBetaScore R2Score RootMeanSquaredError TruePositives TrueNegatives ' +
    'FalsePositives FalseNegatives LossFunctionWrapper __tuple__ __numpy__ __bytes__ __tensor__ __keras_tensor__ __typespec__ ' +
    'TensorShape TensorSpec Sequence function'
  ).split(/\s+/),
);

// ------------------------------------------------------------------ CVE table

interface Cve {
  id: string;
  /** Affected Keras versions: [from inclusive, to exclusive]. */
  from: string;
  to: string;
  summary: string;
}

const CVES = {
  lambdaNoSafeMode: { id: 'CVE-2024-3660', from: '0', to: '2.13.0', summary: 'Lambda bytecode is deserialised with no safe_mode (Keras before 2.13)' },
  moduleInjection: { id: 'CVE-2025-1550', from: '3.0.0', to: '3.9.0', summary: 'config.json can name any module and function, imported and called despite safe_mode' },
  getFile: { id: 'CVE-2025-8747', from: '3.0.0', to: '3.11.0', summary: 'keras.utils.get_file reachable from config.json despite safe_mode' },
  unsafeToggle: { id: 'CVE-2025-9906', from: '3.0.0', to: '3.11.0', summary: 'config.json can call keras.config.enable_unsafe_deserialization() and then load Lambda bytecode' },
  h5Lambda: { id: 'CVE-2025-9905', from: '3.0.0', to: '3.11.3', summary: 'safe_mode is silently ignored for legacy HDF5 files, so their Lambda bytecode runs' },
  vocabulary: { id: 'CVE-2025-12058', from: '0', to: '3.12.0', summary: 'StringLookup/IntegerLookup vocabulary paths are read (or fetched) at load despite safe_mode' },
  tfsm: { id: 'CVE-2026-1462', from: '0', to: '3.13.2', summary: 'TFSMLayer loads an external SavedModel during deserialisation despite safe_mode' },
} satisfies Record<string, Cve>;

function parseVersion(text: string): number[] | null {
  const match = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)] : null;
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** True when the Keras version that wrote the file lies in the CVE's affected range. */
export function versionAffected(version: string | null, cve: Cve): boolean {
  const v = version ? parseVersion(version) : null;
  if (!v) return false;
  return compareVersions(v, parseVersion(cve.from)!) >= 0 && compareVersions(v, parseVersion(cve.to)!) < 0;
}

function affectedRange(cve: Cve): string {
  return cve.from === '0' ? `Keras < ${cve.to}` : `Keras ${cve.from} – < ${cve.to}`;
}

// ------------------------------------------------------------------ walking

interface Context {
  model: ModelIR;
  keras: KerasIR;
  layers: KerasLayerIR[];
  findings: Finding[];
  seen: Set<string>;
}

interface Site {
  /** Config path of the object that carries the problem. */
  path: string;
  /** The layer holding it (innermost), if any. */
  layer: KerasLayerIR | null;
  /** Enclosing layers, outermost first (the innermost is `layer`). */
  chain: KerasLayerIR[];
  /** Name of the innermost serialized object with a name (the layer even in copies of the config). */
  owner: string;
}

const MAX_WALK = 5_000_000;
const MAX_DEPTH = 400;

export function kerasFindings(model: ModelIR): Finding[] {
  const keras = model.keras;
  if (!keras) return [];
  const ctx: Context = { model, keras, layers: keras.layers, findings: [], seen: new Set() };
  for (const root of walkRoots(keras)) walk(ctx, root.value, root.base);
  return ctx.findings;
}

/** The config itself, plus layers of keras_metadata.pb nodes that the root config does not hold. */
function walkRoots(keras: KerasIR): { value: unknown; base: string }[] {
  const roots: { value: unknown; base: string }[] = [];
  const rootBase = keras.layers.some((l) => l.path === 'root' || l.path.startsWith('root#')) ? 'root' : '';
  if (keras.config !== null && keras.config !== undefined) roots.push({ value: keras.config, base: rootBase });
  const covered = (path: string) => roots.some((r) => r.base === path || (r.base === '' ? !path.includes('#') && !/^root(\.|$)/.test(path) : path.startsWith(`${r.base}#`)));
  for (const layer of keras.layers) {
    if (covered(layer.path)) continue;
    const value: Record<string, unknown> = { class_name: layer.className, config: layer.config };
    if (layer.module) value.module = layer.module;
    if (layer.registeredName) value.registered_name = layer.registeredName;
    roots.push({ value, base: layer.path });
  }
  return roots;
}

/**
 * Child path inside a config. keras_metadata.pb layers are addressed `node.path#json.path`, so a
 * key directly under a node root (a walk base that is not '') is joined with '#'.
 */
function join(path: string, key: string | number, nodeRoot = false): string {
  const step = typeof key === 'number' ? `[${key}]` : key;
  if (path === '') return step;
  if (nodeRoot) return `${path}#${step}`;
  return typeof key === 'number' ? `${path}${step}` : `${path}.${step}`;
}

function walk(ctx: Context, root: unknown, base: string): void {
  const stack: { value: unknown; path: string; depth: number; parent: Record<string, unknown> | null; key: string; owner: string }[] = [
    { value: root, path: base, depth: 0, parent: null, key: '', owner: '' },
  ];
  let steps = 0;
  while (stack.length > 0 && steps++ < MAX_WALK) {
    const { value, path, depth, parent, key, owner: outer } = stack.pop()!;
    if (depth > MAX_DEPTH) continue;
    if (typeof value === 'string') {
      inspectString(ctx, value, path, parent, key, outer);
      continue;
    }
    if (Array.isArray(value)) {
      // Keras 2 function tuples: [code, defaults, closure] sit in `function`/`output_shape`.
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: join(path, i, path === base && base !== ''), depth: depth + 1, parent, key, owner: outer });
      continue;
    }
    if (!isObject(value)) continue;
    const atNodeRoot = path === base && base !== '';
    const configPath = join(path, 'config', atNodeRoot);
    const inner = value.config;
    const owner = typeof value.class_name === 'string' && isObject(inner) && typeof inner.name === 'string' ? inner.name : outer;
    inspectObject(ctx, value, path, configPath, owner);
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i];
      stack.push({ value: value[k], path: join(path, k, atNodeRoot), depth: depth + 1, parent: value, key: k, owner });
    }
  }
}

function siteOf(ctx: Context, path: string, owner: string): Site {
  const chain = ctx.layers
    .filter((l) => isAncestorPath(l.path, path))
    .sort((a, b) => a.path.length - b.path.length);
  const layer = chain[chain.length - 1] ?? null;
  return { path, layer, chain, owner: owner || layer?.name || '' };
}

function isAncestorPath(ancestor: string, path: string): boolean {
  if (ancestor === path) return true;
  if (ancestor === '') return !/^root(\.|#|$)/.test(path) || path === '';
  return path.startsWith(ancestor) && /^[.#[]/.test(path.slice(ancestor.length));
}

// ------------------------------------------------------------------ checks

function inspectObject(ctx: Context, value: Record<string, unknown>, path: string, configPath: string, owner: string): void {
  const className = typeof value.class_name === 'string' ? value.class_name : null;
  const config = value.config;
  const module = typeof value.module === 'string' ? value.module : null;
  const registered = typeof value.registered_name === 'string' ? value.registered_name : null;

  if (className === '__lambda__' && isObject(config) && typeof config.code === 'string') {
    lambdaBytecode(ctx, owner, config.code, join(configPath, 'code'), 'Keras 3 __lambda__ config');
  }
  if (className === null) return;

  // Keras 1/2 Lambda: function_type says how `function` is stored.
  if (isObject(config)) {
    for (const [field, typeField, moduleField] of [['function', 'function_type', 'module'], ['output_shape', 'output_shape_type', 'output_shape_module'], ['mask', 'mask_type', 'mask_module']] as const) {
      const kind = config[typeField];
      const fn = config[field];
      if (kind === 'lambda') {
        const code = Array.isArray(fn) ? fn[0] : fn;
        if (typeof code === 'string') lambdaBytecode(ctx, owner, code, Array.isArray(fn) ? join(join(configPath, field), 0) : join(configPath, field), 'Keras 1/2 function tuple');
      } else if (kind === 'function' && typeof fn === 'string') {
        namedFunction(ctx, owner, typeof config[moduleField] === 'string' ? (config[moduleField] as string) : null, fn, join(configPath, field), className);
      }
    }
  }

  // Keras 3 serialized functions and classes: {module, class_name, config, registered_name}.
  if (className === 'function' && typeof config === 'string') {
    namedFunction(ctx, owner, module, config, path, 'function');
  } else if (module !== null && !FRAMEWORK_MODULE.test(module)) {
    externalClass(ctx, owner, module, className, registered, path);
  } else if (registered !== null && registered.includes('>') && !/^keras/i.test(registered)) {
    externalClass(ctx, owner, module, className, registered, path);
  } else if (module === null && !KERAS_CLASSES.has(className.slice(className.indexOf('>') + 1)) && !className.startsWith('__') && isObject(config)) {
    customClass(ctx, owner, className, path);
  }

  if (className === 'TFSMLayer') tfsmLayer(ctx, owner, config, path);
  if (className === 'TorchModuleWrapper') torchModule(ctx, owner, config, path);
  if (LOOKUP_LAYERS.has(className) && isObject(config)) {
    for (const field of ['vocabulary', 'idf_weights', 'stop_words']) {
      const target = config[field];
      if (typeof target === 'string' && target.trim() !== '') vocabularyFile(ctx, owner, className, field, target, join(configPath, field));
    }
  }
}

function inspectString(ctx: Context, value: string, path: string, parent: Record<string, unknown> | null, key: string, owner: string): void {
  if (/enable_unsafe_deserialization/.test(value)) unsafeToggle(ctx, owner, value, path);
  // A function reference (`config`/`class_name`/`function`), not a layer that happens to be named so.
  if (/(^|\.)get_file$/.test(value) && ['config', 'class_name', 'registered_name', 'function', 'module'].includes(key)) getFile(ctx, owner, parent, path);
  else if (/^(https?|ftp):\/\//i.test(value) && key !== 'vocabulary') urlInConfig(ctx, owner, value, path);
}

// ------------------------------------------------------------------ individual rules

function lambdaBytecode(ctx: Context, owner: string, encoded: string, path: string, how: string): void {
  const site = siteOf(ctx, path, owner);
  const version = ctx.keras.kerasVersion;
  let refs: CodeReferences | null = null;
  let pythonVersion = 'unknown';
  let decodeError: string | null = null;
  let encoding = '';
  try {
    const code = kerasCodeBytes(encoded);
    encoding = code.encoding;
    const decoded = decodeMarshal(code.bytes, { preferPy2: code.encoding === 'raw_unicode_escape' });
    refs = codeReferences(decoded.value);
    pythonVersion = decoded.pythonVersion ? `${decoded.pythonVersion}${decoded.versionEvidence ? ` (${decoded.versionEvidence})` : ''}` : 'unknown';
    if (decoded.value.type !== 'code') decodeError = `marshal data holds a ${decoded.value.type} (${renderPyValue(decoded.value)}), not a code object`;
  } catch (error) {
    decodeError = error instanceof Error ? error.message : String(error);
  }
  const rating = refs ? rateReferences(refs) : { severity: 'high' as Severity, reasons: [`bytecode could not be decoded (${decodeError}): treat it as arbitrary code`], dangerous: [] as string[] };
  if (refs && decodeError) rating.reasons.push(decodeError);
  const cve = lambdaCve(ctx);
  const describeRefs = refs ? bytecodeSummary(refs) : `undecodable bytecode (${decodeError})`;
  const layerName = site.owner || '(unnamed)';
  const message =
    rating.dangerous.length > 0
      ? `Lambda layer "${layerName}" carries Python bytecode that references ${rating.dangerous.join(', ')}: it runs when Keras rebuilds the model`
      : refs
        ? `Lambda layer "${layerName}" carries Python bytecode (${refs.names.length ? `names ${refs.names.join(', ')}` : 'no global names'}); it runs when Keras rebuilds the model`
        : `Lambda layer "${layerName}" carries Python bytecode that could not be decoded`;
  add(ctx, {
    rule: 'keras-lambda-bytecode',
    severity: rating.severity,
    capability: 'python-code',
    site,
    message,
    last: `bytecode: ${describeRefs}`,
    referenced: refs ? [...refs.imports.map((m) => `import ${m}`), ...refs.names, ...refs.strings.filter((s) => s.length <= 60).map((s) => JSON.stringify(s))] : [],
    details: {
      kerasVersion: version ?? 'unknown',
      pythonVersion,
      encoding: `${encoding || 'unknown'} (${how})`,
      names: refs?.names.join(', ') ?? '',
      imports: refs?.imports.join(', ') ?? '',
      strings: refs?.strings.slice(0, 20).map((s) => JSON.stringify(s.slice(0, 80))).join(', ') ?? '',
      functions: refs?.functions.join(', ') ?? '',
      filenames: refs?.filenames.join(', ') ?? '',
      rating: rating.reasons.join('; '),
      ...cve,
    },
    recommendation:
      rating.severity === 'low'
        ? 'The bytecode only does arithmetic on its input, but it is still Python that Keras executes. Prefer rebuilding the layer in code; load with safe_mode=True (the default for .keras), which refuses Lambda bytecode.'
        : 'Do not load this model outside a sandbox. The Lambda bytecode runs with the privileges of the loading process; Keras ≥ 2.13 refuses it with safe_mode=True for .keras files, but legacy .h5 files ignore safe_mode before Keras 3.11.3.',
    key: `lambda|${layerName}|${encoded.length > 4096 ? encoded.slice(0, 4096) + encoded.length : encoded}`,
  });
}

/** Rates a Lambda by what its bytecode names: process/OS/network access above plain arithmetic. */
export function rateReferences(refs: CodeReferences): { severity: Severity; reasons: string[]; dangerous: string[] } {
  const reasons: string[] = [];
  const dangerous: string[] = [];
  const modules = new Set<string>();
  for (const m of refs.imports) modules.add(m.split('.')[0]);
  // __import__('subprocess') / importlib.import_module('os') name the module in a string constant.
  for (const s of refs.strings) {
    const top = s.split('.')[0];
    if (DANGEROUS_MODULES.has(top) && /^[A-Za-z_][\w.]*$/.test(s)) modules.add(top);
  }
  for (const n of refs.names) if (DANGEROUS_MODULES.has(n)) modules.add(n);
  const dangerousModules = [...modules].filter((m) => DANGEROUS_MODULES.has(m));
  const execNames = refs.names.filter((n) => EXEC_NAMES.has(n));
  const suspicious = refs.names.filter((n) => SUSPICIOUS_NAMES.has(n));
  const shellStrings = refs.strings.filter((s) => /(^|[\s;|&`$(])(sh|bash|cmd|powershell|curl|wget|nc|python[0-9.]*|rm|chmod)(\s|$)|\/bin\/|\/etc\/|\.ssh|https?:\/\//.test(s));
  for (const m of dangerousModules) dangerous.push(`module ${m}`);
  for (const n of execNames) dangerous.push(n);
  for (const n of suspicious) dangerous.push(n);
  for (const s of shellStrings.slice(0, 5)) dangerous.push(JSON.stringify(s.slice(0, 60)));
  let severity: Severity = 'low';
  if (dangerousModules.length > 0 || execNames.length > 0) {
    severity = 'critical';
    reasons.push(`references ${[...dangerousModules.map((m) => `module ${m}`), ...execNames].join(', ')}`);
  } else if (suspicious.length > 0 || shellStrings.length > 0) {
    severity = 'high';
    reasons.push(`references ${[...suspicious, ...shellStrings.map((s) => JSON.stringify(s.slice(0, 40)))].join(', ')}`);
  } else if (refs.codeObjects > 1 && refs.names.some((n) => !/^(tf|K|keras|backend|ops|np|numpy|math|jnp|jax|torch)$/.test(n) && !isMathName(n))) {
    severity = 'medium';
    reasons.push(`nested code objects and names ${refs.names.join(', ')}`);
  } else {
    reasons.push(refs.names.length ? `only framework/arithmetic names: ${refs.names.join(', ')}` : 'no global names: arithmetic on its arguments only');
  }
  return { severity, reasons, dangerous };
}

function isMathName(name: string): boolean {
  return /^(abs|min|max|sum|pow|round|len|range|float|int|bool|tuple|list|dict|zip|map|square|sqrt|exp|log|mean|reduce_\w+|concat\w*|stack|reshape|transpose|expand_dims|squeeze|cast|clip\w*|relu|sigmoid|tanh|softmax|matmul|dot|l2_normalize|shape|ndim|dtype|sin|cos|maximum|minimum|where|gather|slice|split|tile|ones_like|zeros_like|ones|zeros|cumsum|argmax|argmin|add|multiply|subtract|divide|batch_dot|epsilon|float32|int32|int64|constant|identity|nn|math|backend|image|resize\w*|random\w*|one_hot|repeat_elements|permute_dimensions|flatten|batch_flatten|pad\w*)$/.test(name);
}

function bytecodeSummary(refs: CodeReferences): string {
  const parts: string[] = [];
  if (refs.imports.length) parts.push(`imports ${refs.imports.join(', ')}`);
  const importedByString = refs.strings.filter((s) => DANGEROUS_MODULES.has(s.split('.')[0]) && /^[A-Za-z_][\w.]*$/.test(s));
  if (refs.names.includes('__import__') && importedByString.length) parts.push(`imports ${importedByString.join(', ')} via __import__`);
  const calls = refs.names.filter((n) => n !== '__import__');
  if (calls.length) parts.push(`uses ${calls.join(', ')}`);
  const strings = refs.strings.filter((s) => !importedByString.includes(s));
  if (strings.length) parts.push(`constants ${strings.slice(0, 6).map((s) => JSON.stringify(s.slice(0, 40))).join(', ')}`);
  if (parts.length === 0) parts.push(`arithmetic only on ${refs.varnames.join(', ') || 'its arguments'}`);
  return parts.join('; ');
}

function lambdaCve(ctx: Context): Record<string, string> {
  const version = ctx.keras.kerasVersion;
  const v = version ? parseVersion(version) : null;
  if (v && v[0] < 3 && versionAffected(version, CVES.lambdaNoSafeMode)) return cveDetails(CVES.lambdaNoSafeMode, version);
  if (ctx.model.format === 'keras-h5' && versionAffected(version, CVES.h5Lambda)) return cveDetails(CVES.h5Lambda, version);
  if (hasUnsafeToggle(ctx.keras.config) && versionAffected(version, CVES.unsafeToggle)) return cveDetails(CVES.unsafeToggle, version);
  const note =
    ctx.model.format === 'keras-h5'
      ? 'legacy HDF5: Keras < 3.11.3 ignores safe_mode for this file (CVE-2025-9905); later versions refuse it with safe_mode=True'
      : 'Keras ≥ 2.13 refuses Lambda bytecode with safe_mode=True; it runs with safe_mode=False or on older Keras (CVE-2024-3660)';
  return { cve: '', safeMode: note };
}

function cveDetails(cve: Cve, version: string | null): Record<string, string> {
  return { cve: cve.id, affectedVersions: affectedRange(cve), cveSummary: cve.summary, safeMode: `written by Keras ${version ?? 'unknown'}, inside the affected range` };
}

function maybeCve(ctx: Context, cve: Cve): Record<string, string> {
  if (versionAffected(ctx.keras.kerasVersion, cve)) return cveDetails(cve, ctx.keras.kerasVersion);
  return { cve: '', relatedCve: `${cve.id} (${affectedRange(cve)}): ${cve.summary}` };
}

function hasUnsafeToggle(config: unknown): boolean {
  try {
    return JSON.stringify(config).includes('enable_unsafe_deserialization');
  } catch {
    return false;
  }
}

function namedFunction(ctx: Context, owner: string, module: string | null, fn: string, path: string, holder: string): void {
  const site = siteOf(ctx, path, owner);
  const qualified = module ? `${module}.${fn}` : fn;
  const top = (module ?? '').split('.')[0];
  let severity: Severity;
  let why: string;
  const builtin = top === 'builtins' || top === '__builtin__';
  if (builtin && !EXEC_NAMES.has(fn) && !SUSPICIOUS_NAMES.has(fn)) {
    severity = 'low';
    why = `${qualified} is a Python builtin with no access to files, processes or code`;
  } else if (DANGEROUS_MODULES.has(top) || EXEC_NAMES.has(fn) || builtin) {
    severity = 'critical';
    why = `${qualified} reaches the operating system or the interpreter`;
  } else if (module === '__main__') {
    severity = 'high';
    why = `Keras looks ${fn} up in the loading program's __main__: whatever function of that name the victim's script defines (or a later-injected one) runs`;
  } else if (module && FRAMEWORK_MODULE.test(module)) {
    if (/get_file|enable_unsafe_deserialization/.test(fn)) return; // reported by their own rules
    severity = 'info';
    why = `${qualified} is a function of the framework itself`;
  } else if (!module) {
    severity = 'medium';
    why = `function ${fn} with no module: resolved from Keras's registry or the loader's custom_objects`;
  } else {
    severity = 'high';
    why = `Keras imports module ${module} (running its top-level code) and calls ${fn}`;
  }
  if (severity === 'info') return;
  add(ctx, {
    rule: 'keras-named-function',
    severity,
    capability: 'python-code',
    site,
    message: `${holder === 'function' ? 'Serialized function' : `${holder} layer "${site.owner}"`} refers to the Python function ${qualified}: ${why}`,
    last: `function ${qualified}`,
    referenced: [qualified],
    details: { kerasVersion: ctx.keras.kerasVersion ?? 'unknown', module: module ?? '', function: fn, pythonVersion: '', ...(module && ctx.model.format === 'keras-v3' ? maybeCve(ctx, CVES.moduleInjection) : { cve: '' }) },
    recommendation: 'Do not load the model unless the named function is your own code. Keras resolves the module and function by name at load time; a module outside Keras/TensorFlow/NumPy means code you did not review.',
    key: `function|${site.owner || path}|${qualified}`,
  });
}

function externalClass(ctx: Context, owner: string, module: string | null, className: string, registered: string | null, path: string): void {
  const site = siteOf(ctx, path, owner);
  const top = (module ?? '').split('.')[0];
  const dangerous = DANGEROUS_MODULES.has(top) || top === 'builtins';
  const label = `${module ?? '?'}.${className}${registered && registered !== className ? ` (registered as ${registered})` : ''}`;
  add(ctx, {
    rule: 'keras-external-class',
    severity: dangerous ? 'critical' : 'medium',
    capability: 'python-code',
    site,
    message: dangerous
      ? `Config names ${label}: Keras imports ${module} and instantiates ${className} from it`
      : `Custom object ${label} from outside Keras: the loading process must supply (import) this class, and its code runs at load`,
    last: `class ${label}`,
    referenced: [label],
    details: {
      kerasVersion: ctx.keras.kerasVersion ?? 'unknown',
      module: module ?? '',
      className,
      registeredName: registered ?? '',
      pythonVersion: '',
      note: dangerous ? '' : 'the file carries no code for this class; what runs is whatever the loader has registered under this name',
      ...(ctx.model.format === 'keras-v3' ? maybeCve(ctx, CVES.moduleInjection) : { cve: '' }),
    },
    recommendation: dangerous
      ? 'Do not load this model: the config instantiates an object from a module that reaches the operating system or the interpreter.'
      : 'Load only if the custom class is code you reviewed and pass it explicitly through custom_objects; otherwise rebuild the model from its weights.',
    key: `class|${site.owner || path}|${label}`,
  });
}

function customClass(ctx: Context, owner: string, className: string, path: string): void {
  const site = siteOf(ctx, path, owner);
  add(ctx, {
    rule: 'keras-custom-object',
    severity: 'low',
    capability: 'python-code',
    site,
    message: `Class "${className}" is not part of Keras: loading needs custom code from the loading process (the file carries none)`,
    last: `custom class ${className}`,
    referenced: [className],
    details: { kerasVersion: ctx.keras.kerasVersion ?? 'unknown', className, pythonVersion: '', cve: '' },
    recommendation: 'Check that the custom class passed through custom_objects is code you reviewed.',
    key: `custom|${site.owner || path}|${className}`,
  });
}

function tfsmLayer(ctx: Context, owner: string, config: unknown, path: string): void {
  const site = siteOf(ctx, path, owner);
  const filepath = isObject(config) && typeof config.filepath === 'string' ? config.filepath : null;
  const args = filepath !== null ? [argument('config.filepath', filepath)] : [];
  add(ctx, {
    rule: 'keras-tfsmlayer',
    severity: 'high',
    capability: 'file-read',
    site,
    message: `TFSMLayer "${site.owner}" loads the external SavedModel ${filepath !== null ? JSON.stringify(filepath) : '(path not given)'}: its graph (and any ops in it) run as part of this model`,
    last: `SavedModel ${filepath ?? '?'}`,
    referenced: filepath !== null ? [filepath] : [],
    arguments: args,
    details: { kerasVersion: ctx.keras.kerasVersion ?? 'unknown', filepath: filepath ?? '', pythonVersion: '', ...maybeCve(ctx, CVES.tfsm) },
    recommendation: 'Audit the referenced SavedModel as well, or refuse the model: Keras < 3.13.2 loads it even with safe_mode=True.',
    key: `tfsm|${site.owner || path}|${filepath}`,
  });
}

function torchModule(ctx: Context, owner: string, config: unknown, path: string): void {
  const site = siteOf(ctx, path, owner);
  const hasModule = isObject(config) && config.module !== undefined;
  add(ctx, {
    rule: 'keras-torch-module',
    severity: 'critical',
    capability: 'python-code',
    site,
    message: `TorchModuleWrapper "${site.owner}" restores a pickled PyTorch module${hasModule ? ' stored in its config' : ''}: unpickling runs arbitrary Python`,
    last: 'pickled torch.nn.Module (torch.load)',
    referenced: ['torch.load', 'pickle'],
    details: { kerasVersion: ctx.keras.kerasVersion ?? 'unknown', pythonVersion: '', cve: '' },
    recommendation: 'Do not load this model outside a sandbox: the wrapped PyTorch module is a pickle, which executes code when deserialised.',
    key: `torch|${site.owner || path}`,
  });
}

function vocabularyFile(ctx: Context, owner: string, className: string, field: string, target: string, path: string): void {
  const site = siteOf(ctx, path, owner);
  const info = classifyTarget(target);
  const remote = ['http', 'cloud-storage', 'grpc', 'network-address'].includes(info.classification);
  add(ctx, {
    rule: 'keras-vocabulary-file',
    severity: info.classification === 'sensitive-path' || remote ? 'high' : 'medium',
    capability: remote ? 'network' : 'file-read',
    site,
    message: `${className} "${site.owner}" reads its ${field} from ${JSON.stringify(target)}, outside the model archive, when the model is loaded`,
    last: `${field} ${target}`,
    referenced: [target],
    arguments: [argument(`config.${field}`, target)],
    details: { kerasVersion: ctx.keras.kerasVersion ?? 'unknown', pythonVersion: '', ...maybeCve(ctx, CVES.vocabulary) },
    recommendation: 'A vocabulary saved by Keras lives inside the archive (assets/); a path or URL here makes the loader read that file or fetch that address. Remove it or load in a sandbox.',
    key: `vocab|${site.owner || path}|${field}|${target}`,
  });
}

function getFile(ctx: Context, owner: string, parent: Record<string, unknown> | null, path: string): void {
  const site = siteOf(ctx, path, owner);
  const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
  // The URL sits beside the function reference, or in the arguments of the layer that calls it.
  let urls = parent ? collectStrings(parent).filter(isUrl) : [];
  if (urls.length === 0 && site.layer) urls = collectStrings(site.layer.config).filter(isUrl);
  add(ctx, {
    rule: 'keras-get-file',
    severity: 'high',
    capability: 'network',
    site,
    message: `Config calls keras.utils.get_file${urls.length ? ` with ${urls.map((u) => JSON.stringify(u)).join(', ')}` : ''}: the loader downloads (and may extract) a file`,
    last: `get_file(${urls.join(', ')})`,
    referenced: urls,
    arguments: urls.map((u) => argument('origin', u)),
    details: { kerasVersion: ctx.keras.kerasVersion ?? 'unknown', pythonVersion: '', ...maybeCve(ctx, CVES.getFile) },
    recommendation: 'Refuse the model: a config that calls get_file downloads attacker-chosen content at load time (safe_mode is bypassed before Keras 3.11.0).',
    key: `getfile|${site.owner || path}|${urls.join(',')}`,
  });
}

function urlInConfig(ctx: Context, owner: string, url: string, path: string): void {
  const site = siteOf(ctx, path, owner);
  if (site.layer && collectStrings(site.layer.config).some((v) => /(^|\.)get_file$/.test(v))) return; // the get_file finding names it
  add(ctx, {
    rule: 'keras-url',
    severity: 'low',
    capability: 'network',
    site,
    message: `Config holds the URL ${JSON.stringify(url)}: check which layer or function uses it`,
    last: `URL ${url}`,
    referenced: [url],
    arguments: [argument(path, url)],
    details: { kerasVersion: ctx.keras.kerasVersion ?? 'unknown', pythonVersion: '', cve: '' },
    recommendation: 'Keras itself never stores URLs in a model config; find out what reads this one.',
    key: `url|${site.owner || path}|${url}`,
  });
}

function unsafeToggle(ctx: Context, owner: string, value: string, path: string): void {
  const site = siteOf(ctx, path, owner);
  add(ctx, {
    rule: 'keras-unsafe-deserialization',
    severity: 'critical',
    capability: 'python-code',
    site,
    message: `Config refers to ${value}: it switches off safe_mode while the model loads, so later Lambda bytecode and arbitrary objects are accepted`,
    last: value,
    referenced: [value],
    details: { kerasVersion: ctx.keras.kerasVersion ?? 'unknown', pythonVersion: '', ...maybeCve(ctx, CVES.unsafeToggle) },
    recommendation: 'Refuse the model: no legitimate model disables Keras safe mode from inside its own config.',
    key: `toggle|${site.owner || path}|${value}`,
  });
}

// ------------------------------------------------------------------ finding assembly

interface Draft {
  rule: string;
  severity: Severity;
  capability: Capability;
  site: Site;
  message: string;
  /** Last evidence line (what the layer references). */
  last: string;
  referenced: string[];
  arguments?: ResolvedArgument[];
  details: Record<string, string>;
  recommendation: string;
  key: string;
}

function add(ctx: Context, d: Draft): void {
  if (ctx.seen.has(d.key)) return;
  ctx.seen.add(d.key);
  const chain = d.site.chain;
  const label = (l: KerasLayerIR) => l.name || (l.path === '' || l.path === 'root' ? 'model' : l.path);
  const evidence: string[] = [];
  for (let i = 0; i < chain.length; i++) {
    const parent = i === 0 ? 'model' : label(chain[i - 1]);
    evidence.push(i === 0 ? `${label(chain[i])} (${chain[i].className})` : `${parent}/${label(chain[i])} (${chain[i].className})`);
  }
  if (d.site.layer === null) evidence.push(`config ${d.site.path || '(root)'}`);
  evidence.push(d.last);
  const nodeName = chain.map(label).join('/') || d.site.path;
  const layerClass = d.site.layer?.className ?? 'config';
  const finding: Finding = {
    id: '',
    rule: d.rule,
    severity: d.severity,
    capability: d.capability,
    op: layerClass,
    node: nodeName,
    function: null,
    metaGraph: null,
    message: d.message,
    evidence,
    arguments: d.arguments ?? [],
    reachability: 'load',
    entryPoints: ['keras.models.load_model'],
    trigger: { kind: 'none', variables: [], gates: [], activation: [] },
    figure: figureFor(chain, d),
    recommendation: d.recommendation,
    details: {
      layerPath: d.site.path,
      layerClass,
      format: ctx.model.format,
      ...Object.fromEntries(Object.entries(d.details).filter(([k, v]) => v !== undefined && (v !== '' || k === 'cve')).map(([k, v]) => [k, k === 'cve' && v === '' ? 'none' : v])),
    },
  };
  ctx.findings.push(finding);
}

function figureFor(chain: KerasLayerIR[], d: Draft): Figure {
  const nodes: FigureNode[] = [];
  const edges: Figure['edges'] = [];
  chain.forEach((layer, i) => {
    const last = i === chain.length - 1;
    nodes.push({ id: `l${i}`, label: `${layer.name || 'model'} (${layer.className})`, kind: last ? 'unsafe' : 'call', detail: layer.path || '(root)' });
    if (i > 0) edges.push({ from: `l${i - 1}`, to: `l${i}`, label: 'contains' });
  });
  if (chain.length === 0) nodes.push({ id: 'l0', label: d.site.path || '(root)', kind: 'unsafe' });
  const anchor = `l${Math.max(0, chain.length - 1)}`;
  d.referenced.slice(0, 12).forEach((name, i) => {
    nodes.push({ id: `r${i}`, label: name.length > 60 ? `${name.slice(0, 57)}…` : name, kind: 'constant' });
    edges.push({ from: anchor, to: `r${i}`, label: 'references' });
  });
  return { nodes, edges };
}

function argument(input: string, value: string): ResolvedArgument {
  const info = classifyTarget(value);
  const arg: ResolvedArgument = { input, value, expression: JSON.stringify(value), classification: info.classification };
  if (info.note) arg.note = info.note;
  return arg;
}

function collectStrings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 20 || out.length > 100) return out;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out, depth + 1);
  else if (isObject(value)) for (const v of Object.values(value)) collectStrings(v, out, depth + 1);
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
