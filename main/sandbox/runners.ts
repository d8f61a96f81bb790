// Runner profiles: what runs inside the sandbox. Each resolves its runtime on the host first
// (mounted read-only inside) and builds the payload argv; a missing runtime is a message.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { realpathSync, existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseShellWords } from 'shell-quote';
import type { SandboxPolicy, SandboxRunner } from '../../shared/sandbox.ts';
import type { TensorInfoIR } from '../../shared/ir.ts';
import { findExecutable } from './backends.ts';
import { INSIDE, insideCheckpoint, insideModelPath, isSystemPath } from './policy.ts';

export class RunnerUnavailableError extends Error {
  constructor(readonly runner: SandboxRunner, message: string) {
    super(message);
    this.name = 'RunnerUnavailableError';
  }
}

export interface PythonRuntime {
  python: string;
  tensorflowVersion: string | null;
  /** Host paths to mount read-only (same path inside). */
  mounts: string[];
  binDir: string;
}

export interface RuntimeResolution {
  runner: SandboxRunner;
  /** Host paths the runner needs read-only inside the sandbox. */
  readOnlyMounts: string[];
  python?: PythonRuntime;
  program?: string;
  description: string;
}

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix + '/');
}

/** Smallest set of mounts covering the paths (and their symlink targets), minus system dirs. */
export function minimalMounts(paths: string[]): string[] {
  const all = new Set<string>();
  for (const path of paths) {
    if (!isAbsolute(path) || !existsSync(path)) continue;
    all.add(path);
    try {
      all.add(realpathSync(path));
    } catch {
      // dangling
    }
  }
  const sorted = [...all].filter((p) => !isSystemPath(p) && p !== '/').sort((a, b) => a.length - b.length);
  const chosen: string[] = [];
  for (const path of sorted) if (!chosen.some((c) => under(path, c))) chosen.push(path);
  return chosen;
}

// ---------------------------------------------------------------- Python + TensorFlow

const PROBE = `
import json, os, sys, importlib.util
spec = importlib.util.find_spec("tensorflow")
version = None
try:
    import importlib.metadata as md
    for dist in ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tf-nightly"):
        try:
            version = md.version(dist)
            break
        except Exception:
            pass
except Exception:
    pass
print(json.dumps({
    "tf": spec.origin if spec else None,
    "version": version,
    "prefixes": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix],
    "executable": sys.executable,
    "real": os.path.realpath(sys.executable),
    "path": [p for p in sys.path if p and os.path.isdir(p)],
}))
`;

function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' }, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.TFAUDIT_TF_PYTHON) out.push(env.TFAUDIT_TF_PYTHON);
  out.push('/opt/tfvenv/bin/python');
  const onPath = findExecutable('python3', env.PATH);
  if (onPath) out.push(onPath);
  return [...new Set(out)];
}

const pythonCache = new Map<string, PythonRuntime | string>();

/**
 * Finds a Python with TensorFlow importable. The probe uses importlib's find_spec (no TensorFlow
 * import on the host, which costs seconds); a broken install is reported by the run itself.
 */
export async function findTensorFlowPython(candidates: string[] = pythonCandidates()): Promise<PythonRuntime | { error: string }> {
  const problems: string[] = [];
  for (const python of candidates) {
    let cached = pythonCache.get(python);
    if (cached === undefined) {
      if (!existsSync(python)) cached = `${python}: not found`;
      else {
        const probe = await run(python, ['-I', '-c', PROBE], 20000);
        if (probe.code !== 0) cached = `${python}: probe failed (${probe.stderr.trim().split('\n').pop() ?? 'no output'})`;
        else {
          try {
            const info = JSON.parse(probe.stdout.trim().split('\n').pop()!) as {
              tf: string | null; version: string | null; prefixes: string[]; executable: string; real: string; path: string[];
            };
            if (!info.tf) cached = `${python}: no tensorflow module`;
            else {
              cached = {
                python,
                tensorflowVersion: info.version,
                binDir: dirname(python),
                mounts: minimalMounts([dirname(dirname(python)), ...info.prefixes, dirname(dirname(info.real)), ...info.path, dirname(info.tf)]),
              };
            }
          } catch {
            cached = `${python}: unreadable probe output`;
          }
        }
      }
      pythonCache.set(python, cached);
    }
    if (typeof cached !== 'string') return cached;
    problems.push(cached);
  }
  return {
    error:
      `No Python with TensorFlow found (${problems.join('; ')}). Install it (e.g. \`python3 -m venv /opt/tfvenv && /opt/tfvenv/bin/pip install tensorflow-cpu\`) ` +
      'or point TFAUDIT_TF_PYTHON at its python.',
  };
}

export const TF_RUNNER_FILE = 'tf_runner.py';

/** The Python program the tf-python runner runs inside the sandbox (config JSON in argv[1]). */
export const TF_RUNNER_SCRIPT = String.raw`
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
cfg = json.loads(sys.argv[1])
NONCE = cfg.get("nonce") or ""

def emit(event, **fields):
    fields["tfaudit"] = event
    fields["nonce"] = NONCE
    print(json.dumps(fields, default=str), flush=True)

def phase(name):
    # a stat the tracer sees: every later system call belongs to this phase
    try:
        os.stat("%s/%s/%s" % (cfg.get("phaseDir", "/.tfaudit-runner/phase"), NONCE, name))
    except OSError:
        pass

def fail(stage, error, code):
    emit("error", stage=stage, exception=type(error).__name__, message="%s: %s" % (type(error).__name__, error))
    sys.exit(code)

phase("loading")

try:
    import tensorflow as tf
except Exception as e:
    fail("import tensorflow", e, 3)
import numpy as np
emit("tensorflow", version=tf.__version__)

try:
    loaded = tf.saved_model.load(cfg["model"])
except Exception as first:
    try:
        loaded = tf.saved_model.load(cfg["model"], tags=["serve"])
    except Exception:
        fail("load", first, 4)
signatures = sorted(getattr(loaded, "signatures", {}).keys())
phase("loaded")
emit("loaded", signatures=signatures)

def summarize(value, limit=32):
    try:
        # np.asarray: a scalar string tensor's numpy() is plain bytes, not an array
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    except Exception:
        return repr(value)[:200]
    flat = array.reshape(-1).tolist()[:limit]
    flat = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in flat]
    return {"dtype": str(array.dtype), "shape": list(array.shape), "values": flat, "truncated": array.size > limit}

def resolve_path(root, path):
    node = root
    for part in path.split("/"):
        node = getattr(node, part, None)
        if node is None:
            return None
    return node

def bound_at(path):
    # The model's root tracked at this object path under a fresh root, as the analysis bound it.
    if not path:
        return tf.train.Checkpoint(root=loaded)
    inner = loaded
    for name in reversed(path[1:]):
        holder = tf.Module()
        holder._track_trackable(inner, name=name, overwrite=True)
        inner = holder
    return tf.train.Checkpoint(**{path[0]: inner})

def bound_root(prefix, reader, path):
    keys = [k for k in reader.get_variable_to_shape_map() if k.endswith("/.ATTRIBUTES/VARIABLE_VALUE")]
    status = bound_at(path).read(prefix)
    status.expect_partial()
    strip = "".join(p + "/" for p in path)
    verified = {}
    for key in keys:
        if not key.startswith(strip):
            continue
        variable = resolve_path(loaded, key[len(strip):-len("/.ATTRIBUTES/VARIABLE_VALUE")])
        if variable is not None and hasattr(variable, "numpy") and (variable.numpy() == reader.get_tensor(key)).all():
            verified[key] = summarize(variable, 8)
    return {"mode": "object-based", "root": "/".join(path) or "<root>", "keys": len(keys), "verified": verified, "bound_by": "analysis"}

def object_based(prefix, reader):
    keys = [k for k in reader.get_variable_to_shape_map() if k.endswith("/.ATTRIBUTES/VARIABLE_VALUE")]
    roots = [("", None)]
    try:
        from tensorflow.core.protobuf import trackable_object_graph_pb2
        graph = trackable_object_graph_pb2.TrackableObjectGraph()
        graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
        for child in graph.nodes[0].children:
            if getattr(loaded, child.local_name, None) is None:
                roots.append((child.local_name + "/", child.local_name))
    except Exception:
        pass
    best = None
    for strip, child in roots:
        checkpoint = tf.train.Checkpoint(loaded) if child is None else tf.train.Checkpoint(**{child: loaded})
        status = checkpoint.read(prefix)
        status.expect_partial()
        verified = {}
        for key in keys:
            if not key.startswith(strip):
                continue
            variable = resolve_path(loaded, key[len(strip):-len("/.ATTRIBUTES/VARIABLE_VALUE")])
            if variable is None or not hasattr(variable, "numpy"):
                continue
            stored = reader.get_tensor(key)
            if (variable.numpy() == stored).all():
                verified[key] = summarize(variable, 8)
        if best is None or len(verified) > len(best[1]):
            best = (child or "<root>", verified)
        if verified:
            break
    return {"mode": "object-based", "root": best[0], "keys": len(keys), "verified": best[1]}

def all_variables(root):
    found = list(getattr(root, "variables", []) or [])
    if not found:
        seen, stack = set(), [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, tf.Variable):
                found.append(node)
                continue
            try:
                children = node._trackable_children()
            except Exception:
                continue
            stack.extend(children.values())
    return found

def name_based(prefix, reader):
    restored = {}
    for variable in all_variables(loaded):
        name = variable.name.split(":")[0]
        if reader.has_tensor(name):
            variable.assign(reader.get_tensor(name))
            restored[name] = summarize(variable, 8)
    return {"mode": "name-based", "keys": len(reader.get_variable_to_shape_map()), "verified": restored}

def serving_tags(model):
    from tensorflow.core.protobuf import saved_model_pb2
    saved = saved_model_pb2.SavedModel()
    with open(os.path.join(model, "saved_model.pb"), "rb") as f:
        saved.ParseFromString(f.read())
    tag_sets = [list(m.meta_info_def.tags) for m in saved.meta_graphs]
    return next((t for t in tag_sets if "serve" in t), tag_sets[0] if tag_sets else ["serve"])

session = None

def session_restore(prefix, reader):
    # TF1 reference variables (VariableV2) have no Python objects after tf.saved_model.load:
    # the graph is loaded into a v1 Session and restored with a Saver, as TF1 serving does
    global session
    graph = tf.Graph()
    sess = tf.compat.v1.Session(graph=graph)
    with graph.as_default():
        meta = tf.compat.v1.saved_model.loader.load(sess, serving_tags(cfg["model"]), cfg["model"])
        present = [v for v in tf.compat.v1.global_variables() if reader.has_tensor(v.op.name)]
        if present:
            tf.compat.v1.train.Saver(var_list=present).restore(sess, prefix)
    verified = {}
    for variable in present:
        value = sess.run(variable)
        if (value == reader.get_tensor(variable.op.name)).all():
            verified[variable.op.name] = summarize(value, 8)
    session = (graph, sess, meta)
    return {"mode": "tf1-session", "keys": len(reader.get_variable_to_shape_map()), "verified": verified}

if cfg.get("checkpoint"):
    try:
        reader = tf.train.load_checkpoint(cfg["checkpoint"])
        if reader.has_tensor("_CHECKPOINTABLE_OBJECT_GRAPH") and cfg.get("checkpoint_root") is not None:
            result = bound_root(cfg["checkpoint"], reader, cfg["checkpoint_root"])
        elif reader.has_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"):
            result = object_based(cfg["checkpoint"], reader)
        else:
            result = name_based(cfg["checkpoint"], reader)
            if not result["verified"] and not all_variables(loaded):
                result = session_restore(cfg["checkpoint"], reader)
    except Exception as e:
        fail("restore checkpoint", e, 5)
    phase("restored")
    emit("restored", checkpoint=cfg["checkpoint"], **result)
    if not result["verified"]:
        emit("error", stage="restore checkpoint", message="no checkpoint value could be matched to a model variable")
        sys.exit(5)

key = cfg.get("signature") or ("serving_default" if "serving_default" in signatures else (signatures[0] if signatures else None))
if key not in signatures:
    emit("error", stage="signature", message="signature %r not in %s" % (key, signatures))
    sys.exit(6)

def session_call(key):
    graph, sess, meta = session
    signature = meta.signature_def[key]
    given = cfg.get("inputs") or {}
    try:
        unknown = sorted(set(given) - set(signature.inputs))
        if unknown:
            raise ValueError("inputs %s are not inputs of signature %r (it takes %s)" % (unknown, key, sorted(signature.inputs)))
        feeds, shown = {}, {}
        for name, info in signature.inputs.items():
            dtype = tf.as_dtype(info.dtype)
            shape = [1] if info.tensor_shape.unknown_rank else [1 if d.size < 0 else d.size for d in info.tensor_shape.dim]
            if name in given:
                value = given[name]
                if dtype == tf.string:
                    value = tf.nest.map_structure(lambda v: v.encode("utf-8") if isinstance(v, str) else v, value)
                array = np.array(value, dtype=object if dtype == tf.string else dtype.as_numpy_dtype)
            else:
                fill = b"x" if dtype == tf.string else (False if dtype == tf.bool else 1)
                array = np.full(shape, fill, dtype=object if dtype == tf.string else dtype.as_numpy_dtype)
            feeds[graph.get_tensor_by_name(info.name)] = array
            shown[name] = {"dtype": dtype.name, "shape": list(array.shape), "value": summarize(array, 16), "source": "given" if name in given else "synthesized"}
    except Exception as e:
        fail("inputs", e, 7)
    emit("calling", signature=key, inputs=shown)
    phase("calling")
    try:
        values = sess.run({k: graph.get_tensor_by_name(v.name) for k, v in signature.outputs.items()}, feeds)
    except Exception as e:
        phase("raised")
        fail("call", e, 7)
    phase("returned")
    emit("outputs", signature=key, outputs={k: summarize(v) for k, v in values.items()})
    sys.exit(0)

if session is not None:
    session_call(key)
function = loaded.signatures[key]

def make_input(spec):
    shape = [1] if spec.shape.rank is None else [1 if d is None else d for d in spec.shape.as_list()]
    if spec.dtype == tf.string:
        return tf.fill(shape, b"x"), shape
    if spec.dtype == tf.bool:
        return tf.zeros(shape, tf.bool), shape
    return tf.ones(shape, spec.dtype), shape

def given_input(spec, value):
    if spec.dtype == tf.string:
        value = tf.nest.map_structure(lambda v: v.encode("utf-8") if isinstance(v, str) else v, value)
    tensor = tf.constant(value, dtype=spec.dtype)
    return tensor, tensor.shape.as_list()

try:
    _, specs = function.structured_input_signature
    given = cfg.get("inputs") or {}
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise ValueError("inputs %s are not inputs of signature %r (it takes %s)" % (unknown, key, sorted(specs)))
    inputs, shown = {}, {}
    for name, spec in specs.items():
        source = "given" if name in given else "synthesized"
        inputs[name], shape = given_input(spec, given[name]) if name in given else make_input(spec)
        shown[name] = {"dtype": spec.dtype.name, "shape": shape, "value": summarize(inputs[name], 16), "source": source}
except Exception as e:
    fail("inputs", e, 7)
emit("calling", signature=key, inputs=shown)
phase("calling")
try:
    outputs = function(**inputs)
except Exception as e:
    phase("raised")
    fail("call", e, 7)
phase("returned")
if not isinstance(outputs, dict):
    outputs = {"output_0": outputs}
emit("outputs", signature=key, outputs={k: summarize(v) for k, v in outputs.items()})
`;

/**
 * `saved_model_cli --input_exprs` for a signature's inputs (unknown dims → 1, strings → b"x").
 * saved_model_cli evaluates them with ast.literal_eval, so they are plain nested list literals;
 * it converts them to the signature's dtypes itself.
 */
export function inputExprs(inputs: Record<string, TensorInfoIR>): string {
  const exprs: string[] = [];
  for (const [name, info] of Object.entries(inputs)) {
    const dims = !info.shape || info.shape.unknownRank ? [1] : info.shape.dims.map((d) => (d < 0 ? 1 : d));
    const dtype = info.dtype.replace(/^DT_/, '').replace(/_REF$/, '');
    const elements = dims.reduce((a, b) => a * b, 1);
    if (elements > 16384) {
      throw new RunnerUnavailableError('saved-model-cli', `input ${name} has ${elements} elements: too large to pass to saved_model_cli as a literal; use the tf-python runner`);
    }
    const scalar = dtype === 'STRING' ? 'b"x"' : dtype === 'BOOL' ? 'False' : /FLOAT|DOUBLE|HALF|COMPLEX/.test(dtype) ? '1.0' : '1';
    const build = (level: number): string => (level === dims.length ? scalar : `[${Array.from({ length: dims[level]! }, () => build(level + 1)).join(',')}]`);
    exprs.push(`${name}=${build(0)}`);
  }
  return exprs.join(';');
}

/** Splits a command string like a POSIX shell would (quotes, escapes), without running a shell. */
export function splitCommand(command: string): string[] {
  const words = parseShellWords(command, (name: string) => `$${name}`);
  const out: string[] = [];
  for (const word of words) {
    if (typeof word === 'string') out.push(word);
    else if ('op' in word && word.op === 'glob') out.push((word as { pattern: string }).pattern);
    else if ('comment' in word) break;
    else throw new Error(`shell operator ${JSON.stringify((word as { op: string }).op)} is not supported: the command runs without a shell`);
  }
  return out;
}

/** Finds what the runner needs on the host. */
export async function resolveRuntime(runner: SandboxRunner, command?: string[]): Promise<RuntimeResolution> {
  if (runner === 'tf-python' || runner === 'saved-model-cli') {
    const python = await findTensorFlowPython();
    if ('error' in python) throw new RunnerUnavailableError(runner, python.error);
    if (runner === 'saved-model-cli') {
      const cli = join(python.binDir, 'saved_model_cli');
      if (!existsSync(cli)) throw new RunnerUnavailableError(runner, `saved_model_cli not found next to ${python.python} (it ships with the tensorflow package)`);
      return { runner, readOnlyMounts: python.mounts, python, program: cli, description: `saved_model_cli (TensorFlow ${python.tensorflowVersion ?? '?'})` };
    }
    return { runner, readOnlyMounts: python.mounts, python, description: `${python.python} (TensorFlow ${python.tensorflowVersion ?? '?'})` };
  }
  if (runner === 'model-server') {
    const server = findExecutable('tensorflow_model_server');
    if (!server) {
      throw new RunnerUnavailableError(
        runner,
        'tensorflow_model_server not found on PATH: install TensorFlow Serving (Debian/Ubuntu: the tensorflow-model-server package from ' +
          'https://storage.googleapis.com/tensorflow-serving-apt) or choose the tf-python runner.',
      );
    }
    const real = realpathSync(server);
    return { runner, readOnlyMounts: minimalMounts([dirname(server), dirname(real)]), program: server, description: server };
  }
  const argv = command ?? [];
  if (argv.length === 0) throw new RunnerUnavailableError(runner, 'the custom runner needs --command');
  const program = argv[0]!.includes('/') ? argv[0]! : findExecutable(argv[0]!, '/usr/local/bin:/usr/bin:/bin');
  if (!program || !existsSync(program)) throw new RunnerUnavailableError(runner, `custom command: ${argv[0]} not found (inside the sandbox PATH is /usr/local/bin:/usr/bin:/bin)`);
  return { runner, readOnlyMounts: minimalMounts([program]), program, description: argv.join(' ') };
}

export interface PayloadOptions {
  /** The signature's inputs (dtypes/shapes) from the model IR, needed by saved-model-cli. */
  signatureInputs?: Record<string, TensorInfoIR>;
  /** Input values by name (nested lists, strings), used instead of synthesized ones (tf-python). */
  inputValues?: Record<string, unknown>;
  /** The run's nonce for the runner's events and phase markers (default: a fresh one). */
  nonce?: string;
}

/** Where runners touch their phase markers: `<dir>/<nonce>/<phase>` (never exists; the stat is traced). */
export const PHASE_DIR = `${INSIDE.runner}/phase`;

export function phaseMarkerPrefix(nonce: string): string {
  return `${PHASE_DIR}/${nonce}/`;
}

export interface Payload {
  argv: string[];
  env: Record<string, string>;
  /** Extra read-only binds (host → inside). */
  binds: { source: string; target: string }[];
  /** Generated files the argv refers to under INSIDE.runner. */
  files: { name: string; content: string }[];
  notes: string[];
  /** Proves a runner event or phase marker came from the runner, not from the model. */
  nonce: string;
}

const MODEL_SERVER_BASE = '/srv/tfaudit-model';

/** The argv run inside the sandbox for a policy, with the runtime resolved on the host. */
export function runnerPayload(policy: SandboxPolicy, runtime: RuntimeResolution, options: PayloadOptions = {}): Payload {
  const modelIsFile = (() => {
    try {
      return statSync(policy.modelPath).isFile();
    } catch {
      return false;
    }
  })();
  const model = insideModelPath(policy, modelIsFile);
  const notes: string[] = [];
  const nonce = options.nonce ?? randomBytes(12).toString('hex');
  if (options.inputValues && policy.runner !== 'tf-python') notes.push(`given input values are only used by the tf-python runner; ignored by ${policy.runner}`);
  if (policy.checkpoint && policy.runner !== 'tf-python') notes.push(`checkpoint ${policy.checkpoint} is only restored by the tf-python runner; ignored by ${policy.runner}`);
  switch (policy.runner) {
    case 'tf-python': {
      const config = {
        model, checkpoint: insideCheckpoint(policy)?.prefix ?? null, checkpoint_root: policy.checkpointRoot ?? null, signature: policy.signature,
        nonce, phaseDir: PHASE_DIR,
        ...(options.inputValues ? { inputs: options.inputValues } : {}),
      };
      return {
        argv: [runtime.python!.python, '-I', '-B', `${INSIDE.runner}/${TF_RUNNER_FILE}`, JSON.stringify(config)],
        env: { TF_CPP_MIN_LOG_LEVEL: '2', OMP_NUM_THREADS: '2' },
        binds: [],
        files: [{ name: TF_RUNNER_FILE, content: TF_RUNNER_SCRIPT }],
        notes,
        nonce,
      };
    }
    case 'saved-model-cli': {
      if (!policy.signature) throw new RunnerUnavailableError('saved-model-cli', 'saved-model-cli needs a signature; the model has none');
      if (!options.signatureInputs) throw new RunnerUnavailableError('saved-model-cli', `saved-model-cli needs the inputs of signature ${policy.signature}`);
      return {
        argv: [
          runtime.python!.python, '-I', '-B', runtime.program!, 'run', '--dir', model, '--tag_set', 'serve',
          '--signature_def', policy.signature, '--input_exprs', inputExprs(options.signatureInputs),
        ],
        env: { TF_CPP_MIN_LOG_LEVEL: '2' },
        binds: [],
        files: [],
        notes,
        nonce,
      };
    }
    case 'model-server':
      // TensorFlow Serving wants <base>/<version>/saved_model.pb: the model is bound again as version 1
      return {
        argv: [runtime.program!, '--port=8500', '--rest_api_port=0', '--model_name=model', `--model_base_path=${MODEL_SERVER_BASE}`],
        env: {},
        binds: [{ source: policy.modelPath, target: `${MODEL_SERVER_BASE}/1` }],
        files: [],
        notes: [...notes, 'tensorflow_model_server serves until the wall-time limit; the run ends by timeout'],
        nonce,
      };
    case 'custom':
      // a custom runner may mark its phases and events the same way (TFAUDIT_RUN_NONCE, TFAUDIT_PHASE_DIR)
      return {
        argv: [runtime.program!, ...(policy.command ?? []).slice(1)], env: { TFAUDIT_RUN_NONCE: nonce, TFAUDIT_PHASE_DIR: PHASE_DIR }, binds: [], files: [], notes, nonce,
      };
  }
}

