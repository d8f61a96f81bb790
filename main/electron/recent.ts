// The recent-files list behind File ▸ Open Recent, kept in userData/recent.json. Main holds the
// paths; the renderer only ever sees and names entries by index.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';

export const MAX_RECENT = 10;

export class RecentFiles {
  private items: string[];

  constructor(private readonly file: string) {
    this.items = RecentFiles.load(file);
  }

  private static load(file: string): string[] {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!Array.isArray(parsed)) return [];
      return parsed.filter((p): p is string => typeof p === 'string' && isAbsolute(p) && !p.includes('\0')).slice(0, MAX_RECENT);
    } catch {
      return [];
    }
  }

  list(): string[] {
    return [...this.items];
  }

  at(index: number): string | null {
    return this.items[index] ?? null;
  }

  /** Moves `path` to the front (deduplicated), trims to MAX_RECENT, persists. */
  add(path: string): void {
    this.items = [path, ...this.items.filter((p) => p !== path)].slice(0, MAX_RECENT);
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file, JSON.stringify(this.items, null, 2), { mode: 0o600 });
    } catch {
      // A read-only profile loses the list, not the app.
    }
  }

  clear(): void {
    this.items = [];
    try {
      writeFileSync(this.file, '[]', { mode: 0o600 });
    } catch {
      // as above
    }
  }
}
