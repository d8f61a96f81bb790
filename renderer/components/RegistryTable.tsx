// The registry view: one row per model of an opened folder, with its verdict, worst severity
// and counts, sortable by any column; a row opens the model's full audit.
import type { Severity } from '../../shared/findings.ts';
import { SEVERITIES } from '../../shared/findings.ts';
import { rowVerdict, sortedRows, useWorkbench, type RegistrySortKey } from '../store.ts';
import { SeverityBadge, onActivate } from './common.tsx';

const COLUMNS: { key: RegistrySortKey; label: string }[] = [
  { key: 'verdict', label: 'Verdict' },
  { key: 'path', label: 'Model' },
  { key: 'format', label: 'Format' },
  { key: 'worst', label: 'Worst' },
  { key: 'findings', label: 'Findings' },
  { key: 'seconds', label: 'Seconds' },
];

const SHORT: Record<Severity, string> = { critical: 'C', high: 'H', medium: 'M', low: 'L', info: 'I' };

export function RegistrySummary() {
  const registry = useWorkbench((s) => s.registry)!;
  const t = registry.totals;
  const level = t.atOrAbove > 0 ? 'unsafe' : t.errors > 0 ? 'warning' : 'clean';
  return (
    <section className={`verdict verdict-${level}`} data-testid="registry-verdict" data-level={level} aria-label="Registry verdict">
      <div className="verdict-mark" aria-hidden="true">
        {level === 'unsafe' ? '!' : level === 'clean' ? '✓' : '?'}
      </div>
      <div>
        <div className="verdict-headline">
          {t.atOrAbove} of {t.models} models at or above {registry.failOn}
        </div>
        <div className="verdict-detail">
          {t.errors > 0 ? `${t.errors} could not be read and must be treated as unsafe until they are. ` : ''}
          {SEVERITIES.map((s) => `${t.bySeverity[s]} worst ${s}`).join(', ')}
        </div>
      </div>
      <div className="verdict-isolation muted small" title={registry.isolation.description}>
        {registry.isolation.isolated ? 'Parsed in an OS sandbox' : 'Parsed in separate workers (no OS sandbox)'}
      </div>
    </section>
  );
}

export function RegistryTable() {
  const registry = useWorkbench((s) => s.registry)!;
  const sort = useWorkbench((s) => s.registrySort);
  const sortRegistry = useWorkbench((s) => s.sortRegistry);
  const openRow = useWorkbench((s) => s.openRegistryRow);
  const rows = sortedRows(registry, sort);
  return (
    <main className="panel" data-testid="registry">
      <table className="findings registry">
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c.key} aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                <button type="button" className="th-sort" onClick={() => sortRegistry(c.key)} data-sort={c.key}>
                  {c.label}
                  {sort.key === c.key ? (sort.descending ? ' ▾' : ' ▴') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const verdict = rowVerdict(row, registry.failOn);
            const total = SEVERITIES.reduce((n, s) => n + row.counts[s], 0);
            return (
              <tr
                key={row.rowId}
                data-row={row.rowId}
                data-verdict={verdict}
                tabIndex={0}
                className="clickable"
                onClick={() => void openRow(row.rowId)}
                onKeyDown={onActivate(() => void openRow(row.rowId))}
                title={row.status === 'error' ? row.errors.map((e) => e.message).join('\n') : `Open the full audit of ${row.path}`}
              >
                <td>
                  <span className={`state state-${verdict === 'unsafe' ? 'active' : verdict === 'clean' ? 'dormant' : 'unknown'}`}>{verdict}</span>
                </td>
                <td className="mono">{row.path}</td>
                <td>{row.format}</td>
                <td>{row.maxSeverity ? <SeverityBadge severity={row.maxSeverity} /> : row.status === 'error' ? '–' : 'none'}</td>
                <td className="mono small">
                  {total} ({SEVERITIES.filter((s) => row.counts[s] > 0).map((s) => `${row.counts[s]}${SHORT[s]}`).join(' ') || '0'})
                </td>
                <td className="mono small">{row.seconds.toFixed(2)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </main>
  );
}
