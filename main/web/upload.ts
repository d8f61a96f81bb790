// The web host's private upload workspace: one mkdtemp (0700) directory per server, one
// sub-directory per upload batch, files stored under names checked against path traversal.
// Everything is deleted when the host closes (or the process exits).
import { mkdtempSync, mkdirSync, rmSync, readdirSync, createWriteStream, writeFileSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { expandCheckpointFolders } from '../service/checkpoint-paths.ts';

export interface UploadLimits {
  /** Largest single file, bytes. */
  maxFileBytes: number;
  /** Largest batch (all files of one drop), bytes. */
  maxBatchBytes: number;
  /** Most files in one batch. */
  maxFiles: number;
  /** Most path segments in a relative name. */
  maxDepth: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxFileBytes: 4 * 1024 ** 3,
  maxBatchBytes: 16 * 1024 ** 3,
  maxFiles: 10_000,
  maxDepth: 32,
};

export class UploadRejected extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 413 = 400,
  ) {
    super(message);
    this.name = 'UploadRejected';
  }
}

/**
 * The relative name a browser sent, checked and normalised to `a/b/c` (NFC, no `.` segments,
 * no empty segments). Rejects `..`, absolute paths, drive letters, backslashes, NUL and other
 * control characters rather than repairing them: a hostile name is an error, not a hint.
 */
export function safeRelativePath(name: string, maxDepth = DEFAULT_UPLOAD_LIMITS.maxDepth): string {
  if (typeof name !== 'string' || name.length === 0) throw new UploadRejected('empty file name');
  if (name.length > 4096) throw new UploadRejected('file name longer than 4096 characters');
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new UploadRejected(`file name ${JSON.stringify(name)} holds a control character`);
  if (name.includes('\\')) throw new UploadRejected(`file name ${JSON.stringify(name)} holds a backslash`);
  if (name.startsWith('/')) throw new UploadRejected(`file name ${JSON.stringify(name)} is absolute`);
  if (/^[A-Za-z]:/.test(name)) throw new UploadRejected(`file name ${JSON.stringify(name)} names a drive`);
  const segments = name
    .normalize('NFC')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) throw new UploadRejected(`file name ${JSON.stringify(name)} names no file`);
  if (segments.length > maxDepth) throw new UploadRejected(`file name ${JSON.stringify(name)} is nested deeper than ${maxDepth}`);
  for (const s of segments) {
    if (s === '..') throw new UploadRejected(`file name ${JSON.stringify(name)} climbs out of the upload (..)`);
    if (Buffer.byteLength(s) > 255) throw new UploadRejected(`file name ${JSON.stringify(name)} has a segment longer than 255 bytes`);
  }
  return segments.join('/');
}

interface Batch {
  dir: string;
  files: Set<string>;
  bytes: number;
}

export class UploadWorkspace {
  readonly root: string;
  private readonly batches = new Map<string, Batch>();
  private readonly artifacts = new Map<string, { path: string; name: string; type: string }>();
  private disposed = false;

  constructor(readonly limits: UploadLimits = DEFAULT_UPLOAD_LIMITS) {
    // mkdtemp creates the directory 0700: other local users cannot read uploaded models.
    this.root = realpathSync(mkdtempSync(join(tmpdir(), 'tfaudit-serve-')));
    mkdirSync(join(this.root, 'uploads'), { mode: 0o700 });
    mkdirSync(join(this.root, 'artifacts'), { mode: 0o700 });
  }

  newBatch(): string {
    this.assertLive();
    const id = 'u' + randomBytes(12).toString('hex');
    const dir = join(this.root, 'uploads', id);
    mkdirSync(dir, { mode: 0o700 });
    this.batches.set(id, { dir, files: new Set(), bytes: 0 });
    return id;
  }

  /** Streams one uploaded file into the batch, enforcing the per-file and per-batch limits. */
  async writeFile(batchId: string, relativeName: string, body: Readable, declaredLength: number | null): Promise<{ path: string; bytes: number }> {
    this.assertLive();
    const batch = this.batches.get(batchId);
    if (!batch) throw new UploadRejected(`unknown upload ${batchId}`, 404);
    const rel = safeRelativePath(relativeName, this.limits.maxDepth);
    if (batch.files.has(rel)) throw new UploadRejected(`${rel} was already uploaded in this batch`, 409);
    if (batch.files.size >= this.limits.maxFiles) throw new UploadRejected(`more than ${this.limits.maxFiles} files in one upload`, 413);
    if (declaredLength !== null && declaredLength > this.limits.maxFileBytes) throw new UploadRejected(`${rel} is larger than the ${this.limits.maxFileBytes}-byte limit per file`, 413);
    if (declaredLength !== null && batch.bytes + declaredLength > this.limits.maxBatchBytes) throw new UploadRejected(`the upload exceeds the ${this.limits.maxBatchBytes}-byte limit`, 413);

    const target = resolve(batch.dir, ...rel.split('/'));
    if (!target.startsWith(batch.dir + sep)) throw new UploadRejected(`${rel} resolves outside the upload`);
    const parts = rel.split('/');
    if (parts.length > 1) mkdirSync(resolve(batch.dir, ...parts.slice(0, -1)), { recursive: true, mode: 0o700 });
    batch.files.add(rel);

    let bytes = 0;
    try {
      await new Promise<void>((done, failed) => {
        // 'wx': never follow or overwrite something already there.
        const out = createWriteStream(target, { flags: 'wx', mode: 0o600 });
        const abort = (err: Error) => {
          body.unpipe(out);
          body.resume();
          out.destroy();
          failed(err);
        };
        body.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > this.limits.maxFileBytes) abort(new UploadRejected(`${rel} is larger than the ${this.limits.maxFileBytes}-byte limit per file`, 413));
          else if (batch.bytes + bytes > this.limits.maxBatchBytes) abort(new UploadRejected(`the upload exceeds the ${this.limits.maxBatchBytes}-byte limit`, 413));
        });
        body.on('error', abort);
        out.on('error', failed);
        out.on('finish', () => done());
        body.pipe(out);
      });
    } catch (err) {
      batch.files.delete(rel);
      rmSync(target, { force: true });
      throw err;
    }
    batch.bytes += bytes;
    return { path: target, bytes };
  }

  /**
   * Absolute paths of the batch's top-level entries, for AuditService.open/addCheckpoints: a
   * model folder or file stays as it is; a folder holding nothing but checkpoint files (a
   * dropped `ckpt_active/`) becomes those files, so the service sees checkpoint prefixes.
   */
  entries(batchId: string): string[] {
    const batch = this.batches.get(batchId);
    if (!batch) throw new UploadRejected(`unknown upload ${batchId}`, 404);
    const names = readdirSync(batch.dir).sort();
    if (names.length === 0) throw new UploadRejected(`upload ${batchId} holds no files`);
    return expandCheckpointFolders(names.map((n) => join(batch.dir, n)));
  }

  /** Keeps a generated file (the PDF) for download; returns its id. */
  storeArtifact(bytes: Uint8Array, name: string, type: string): string {
    this.assertLive();
    const id = 'a' + randomBytes(12).toString('hex');
    const path = join(this.root, 'artifacts', id);
    writeFileSync(path, bytes, { mode: 0o600 });
    this.artifacts.set(id, { path, name, type });
    return id;
  }

  readArtifact(id: string): { bytes: Buffer; name: string; type: string } | null {
    const a = this.artifacts.get(id);
    if (!a) return null;
    return { bytes: readFileSync(a.path), name: a.name, type: a.type };
  }

  /** Deletes the whole workspace. Synchronous so it also works from a process 'exit' handler. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    rmSync(this.root, { recursive: true, force: true });
  }

  private assertLive(): void {
    if (this.disposed) throw new UploadRejected('the workspace is closed', 409);
  }
}
