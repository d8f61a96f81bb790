// Turning a drop (or a file input) into a flat list of files with relative paths. In the
// browser a dropped folder must be walked through webkitGetAsEntry(); Electron resolves the
// dropped folder itself in the preload, so there the top-level items are passed as they are.

const relativePaths = new WeakMap<File, string>();

/** Records the path a file had inside a dropped folder. */
export function rememberRelativePath(file: File, path: string): void {
  relativePaths.set(file, path);
}

/** The path a file is uploaded under: from a folder walk, `webkitRelativePath`, or its name. */
export function relativePathOf(file: File): string {
  return relativePaths.get(file) || file.webkitRelativePath || file.name;
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

async function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries returns batches (100 in Chromium) until an empty one.
  for (;;) {
    const batch = await readEntries(reader);
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, out: File[], limit: number): Promise<void> {
  if (out.length >= limit) throw new Error(`more than ${limit} files dropped`);
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await entryFile(entry as FileSystemFileEntry);
    rememberRelativePath(file, path);
    out.push(file);
  } else if (entry.isDirectory) {
    for (const child of await readAllEntries(entry as FileSystemDirectoryEntry)) await walk(child, path, out, limit);
  }
}

/** Files of a drop, folders walked (web), or the dropped items themselves (Electron). */
export async function collectDroppedFiles(data: DataTransfer, host: 'electron' | 'web', limit = 10_000): Promise<File[]> {
  if (host === 'electron') return Array.from(data.files);
  const entries = Array.from(data.items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry());
  if (entries.length === 0 || entries.some((e) => e === null)) return Array.from(data.files);
  const out: File[] = [];
  for (const entry of entries) await walk(entry!, '', out, limit);
  return out;
}
