// Real Keras exports (keras.applications architectures with weights=None, and text models),
// written by test/fixtures/keras/export_applications.py in one Python process and cached like
// the TensorFlow venv: under $TFAUDIT_CACHE_DIR (default /var/cache/tfaudit)/keras-exports/<key>,
// the key hashing the generator script and the TensorFlow/Keras versions. Tests and the bench
// share it, so the minutes of exporting are paid once per machine and generator version.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './corpus.ts';
import { TF_PYTHON } from './tensorflow.ts';

export const KERAS_EXPORT_SCRIPT = join(REPO_ROOT, 'test', 'fixtures', 'keras', 'export_applications.py');

export interface KerasExport {
  /** MobileNetV2, MobileNetV2.keras, TextLSTM, ... */
  name: string;
  /** savedmodel: a model.export() folder; keras: a model.save() .keras archive. */
  kind: 'savedmodel' | 'keras';
  /** Absolute path of the folder or file. */
  path: string;
  architecture: string;
  /** Seconds the export took (in the run that filled the cache). */
  seconds: number;
}

export interface KerasExports {
  dir: string;
  tensorflow: string;
  keras: string;
  models: KerasExport[];
  /** Whether this call exported them (false: found in the cache). */
  generated: boolean;
}

const VERSIONS_PROBE = `
import importlib.metadata as md
def version(*names):
    for name in names:
        try:
            return md.version(name)
        except Exception:
            pass
    return "none"
print(version("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tf-nightly"), version("keras"))
`;

/** The cache root: $TFAUDIT_CACHE_DIR, else /var/cache/tfaudit when writable, else the temp dir. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TFAUDIT_CACHE_DIR) return resolve(env.TFAUDIT_CACHE_DIR);
  try {
    mkdirSync('/var/cache/tfaudit', { recursive: true });
    return '/var/cache/tfaudit';
  } catch {
    return join(tmpdir(), 'tfaudit-cache');
  }
}

/** TensorFlow and Keras versions of the venv, read from package metadata (no TensorFlow import). */
function installedVersions(python: string): { tensorflow: string; keras: string } {
  const probe = spawnSync(python, ['-I', '-c', VERSIONS_PROBE], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status !== 0) throw new Error(`${python} could not report its TensorFlow version: ${probe.stderr.trim().split('\n').pop() ?? ''}`);
  const [tensorflow = 'none', keras = 'none'] = probe.stdout.trim().split(/\s+/);
  return { tensorflow, keras };
}

export function kerasExportsKey(python: string = TF_PYTHON): string {
  const { tensorflow, keras } = installedVersions(python);
  return createHash('sha256').update(readFileSync(KERAS_EXPORT_SCRIPT)).update(`\0tensorflow ${tensorflow}\0keras ${keras}`).digest('hex').slice(0, 16);
}

function readManifest(dir: string, generated: boolean): KerasExports {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    tensorflow: string;
    keras: string;
    models: (Omit<KerasExport, 'path'> & { path: string })[];
  };
  const models = manifest.models.map((m) => ({ ...m, path: join(dir, m.path) }));
  for (const model of models) if (!existsSync(model.path)) throw new Error(`cached Keras export ${model.path} is missing: delete ${dir} to regenerate`);
  return { dir, tensorflow: manifest.tensorflow, keras: manifest.keras, models, generated };
}

/** A `<key>.partial-<pid>` folder or `<key>.lock` that a running process still holds. */
function heldByLiveProcess(base: string, name: string): boolean {
  const partial = /\.partial-(\d+)$/.exec(name);
  if (partial) return processAlive(Number(partial[1]));
  if (!name.endsWith('.lock')) return false;
  try {
    return processAlive(Number(readFileSync(join(base, name), 'utf8').trim()));
  } catch {
    return false;
  }
}

/**
 * The exports for this generator and TensorFlow version, exporting them first when the cache has
 * none. Written to a temporary sibling and renamed, so a run cut short never leaves a partial
 * cache; older keys are removed once a new one is complete (each is hundreds of MB).
 */
export function ensureKerasExports(python: string = TF_PYTHON, root: string = cacheRoot()): KerasExports {
  const base = join(root, 'keras-exports');
  const key = kerasExportsKey(python);
  const dir = join(base, key);
  if (existsSync(join(dir, 'manifest.json'))) return readManifest(dir, false);
  mkdirSync(base, { recursive: true });
  // test files run two at a time: the second to ask waits for the first's export, not a rerun
  const lock = join(base, `${key}.lock`);
  while (!takeLock(lock)) {
    if (existsSync(join(dir, 'manifest.json'))) return readManifest(dir, false);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
  try {
    if (existsSync(join(dir, 'manifest.json'))) return readManifest(dir, false);
    return exportInto(python, base, key, dir);
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Creates the lock file holding our pid; a lock whose process is gone is taken over. */
function takeLock(lock: string): boolean {
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    let owner = 0;
    try {
      owner = Number(readFileSync(lock, 'utf8').trim());
    } catch {
      return false; // released meanwhile: try again
    }
    // an empty lock is being written by its owner; only a dead owner's lock is removed
    if (owner > 0 && !processAlive(owner)) rmSync(lock, { force: true });
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exportInto(python: string, base: string, key: string, dir: string): KerasExports {
  const partial = join(base, `${key}.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  const run = spawnSync(python, [KERAS_EXPORT_SCRIPT, partial], {
    encoding: 'utf8',
    timeout: 20 * 60_000,
    maxBuffer: 64 << 20,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', CUDA_VISIBLE_DEVICES: '' },
  });
  if (run.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`exporting the Keras models failed (${run.signal ?? `exit ${run.status}`}): ${run.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
  try {
    renameSync(partial, dir);
  } catch (error) {
    // another process finished the same key first: keep theirs
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(dir, 'manifest.json'))) throw error;
    return readManifest(dir, false);
  }
  for (const name of readdirSync(base)) if (name !== key && name !== `${key}.lock` && !heldByLiveProcess(base, name)) rmSync(join(base, name), { recursive: true, force: true });
  return readManifest(dir, true);
}
