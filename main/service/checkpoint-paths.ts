// Dropped or uploaded paths as the audit service wants them: a folder holding nothing but
// checkpoint files becomes those files (checkpoint prefixes). Both hosts use it.
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/** A TensorFlow checkpoint shard or index (`prefix.index`, `prefix.data-00000-of-00001`). */
const CHECKPOINT_FILE = /\.(index|data-\d{5}-of-\d{5})$/;

/** Files under `dir` (symlinks not followed), or null past `limit` entries: then it is no checkpoint folder. */
function listFiles(dir: string, limit: number, depth = 0): string[] | null {
  if (depth > 8) return null;
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) {
      const inner = listFiles(join(dir, e.name), limit - out.length, depth + 1);
      if (inner === null) return null;
      out.push(...inner);
    } else if (e.isFile()) out.push(join(dir, e.name));
    if (out.length > limit) return null;
  }
  return out;
}

/**
 * Dropped paths as the service wants them: a model folder or file stays as it is; a folder
 * holding nothing but checkpoint files (a dropped `ckpt_active/`) becomes those files, so the
 * service sees checkpoint prefixes. Used for uploads and for Electron drops alike.
 */
export function expandCheckpointFolders(paths: string[]): string[] {
  return paths.flatMap((path) => {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      return [path]; // the service reports what cannot be read
    }
    if (!isDir) return [path];
    const files = listFiles(path, 2000);
    const onlyCheckpoints = files !== null && files.length > 0 && files.every((f) => CHECKPOINT_FILE.test(f) || basename(f) === 'checkpoint');
    return onlyCheckpoints ? files.filter((f) => CHECKPOINT_FILE.test(f)) : [path];
  });
}
