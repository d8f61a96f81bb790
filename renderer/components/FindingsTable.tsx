// The findings table: sortable, filterable by severity, capability and text; each row expands
// to the evidence chain (variable → predicate → control flow → branch → unsafe op).
import { Fragment, useMemo, useState } from 'react';
import { ADVISORY_DATA_CREDIT, CAPABILITIES, SEVERITIES, type Capability, type Finding } from '../../shared/findings.ts';
import type { CheckpointRef, AuditView } from '../../shared/api.ts';
import { selectedCheckpoint, useWorkbench } from '../store.ts';
import { activationFor, displayPath, filterFindings, findingState, sandboxVerdict, SANDBOX_LABEL, sortFindings, type SortKey } from '../verdict.ts';
import { SeverityBadge, StateBadge, onActivate } from './common.tsx';

const COLUMNS: { key: SortKey | null; label: string; className?: string }[] = [
  { key: null, label: '', className: 'col-caret' },
  { key: 'severity', label: 'Severity', className: 'col-sev' },
  { key: 'id', label: 'ID', className: 'col-id' },
  { key: 'capability', label: 'Capability', className: 'col-cap' },
  { key: 'op', label: 'Op', className: 'col-op' },
  { key: null, label: 'Where' },
  { key: 'state', label: 'Under checkpoint', className: 'col-state' },
  { key: 'reachability', label: 'Reached by', className: 'col-reach' },
  { key: null, label: 'Sandbox', className: 'col-sandbox' },
];

export function FindingsTable() {
  const view = useWorkbench((s) => s.view)!;
  const checkpoint = useWorkbench((s) => selectedCheckpoint(s));
  const filter = useWorkbench((s) => s.filter);
  const sort = useWorkbench((s) => s.sort);
  const expanded = useWorkbench((s) => s.expanded);
  const selected = useWorkbench((s) => s.findingId);
  const toggleExpanded = useWorkbench((s) => s.toggleExpanded);
  const sortBy = useWorkbench((s) => s.sortBy);
  const toggleSeverity = useWorkbench((s) => s.toggleSeverity);
  const setCapabilities = useWorkbench((s) => s.setCapabilities);
  const setText = useWorkbench((s) => s.setText);

  const all = view.report.findings;
  const rows = useMemo(() => sortFindings(filterFindings(all, filter), sort.key, sort.descending, checkpoint), [all, filter, sort, checkpoint]);
  const bySeverity = useMemo(() => Object.fromEntries(SEVERITIES.map((s) => [s, all.filter((f) => f.severity === s).length])), [all]);
  const capabilitiesPresent = CAPABILITIES.filter((c) => all.some((f) => f.capability === c));

  if (all.length === 0) {
    return (
      <div className="empty-panel">
        <h2>No findings</h2>
        <p className="muted">
          No op in the graph or its function library reads or writes files, opens connections, starts processes, runs Python or exhausts resources.
          Check <em>Model overview</em> for files that could not be read.
        </p>
      </div>
    );
  }

  return (
    <div className="findings">
      <div className="toolbar" role="toolbar" aria-label="Filter findings">
        <div className="chip-group" role="group" aria-label="Severity">
          {SEVERITIES.map((s) => (
            <button
              key={s}
              type="button"
              className={`chip chip-${s}${filter.severities.includes(s) ? ' on' : ''}`}
              aria-pressed={filter.severities.includes(s)}
              disabled={bySeverity[s] === 0}
              onClick={() => toggleSeverity(s)}
            >
              {s} <span className="count">{bySeverity[s]}</span>
            </button>
          ))}
        </div>
        <label className="field">
          <span>Capability</span>
          <select
            aria-label="Filter by capability"
            value={filter.capabilities[0] ?? ''}
            onChange={(e) => setCapabilities(e.currentTarget.value ? [e.currentTarget.value as Capability] : [])}
          >
            <option value="">All</option>
            {capabilitiesPresent.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <input className="search" type="search" placeholder="Filter by op, node, function, message…" aria-label="Filter findings by text" value={filter.text} onChange={(e) => setText(e.currentTarget.value)} />
        <span className="muted small">
          {rows.length} of {all.length}
        </span>
      </div>
      <div className="table-wrap">
        <table className="grid" aria-label="Findings">
          <thead>
            <tr>
              {COLUMNS.map((c, i) => (
                <th key={i} className={c.className} aria-sort={c.key && sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : undefined} scope="col">
                  {c.key ? (
                    <button type="button" className="th-sort" onClick={() => sortBy(c.key!)}>
                      {c.label}
                      <span className="sort-mark" aria-hidden="true">
                        {sort.key === c.key ? (sort.descending ? '▾' : '▴') : ''}
                      </span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((f) => {
              const open = expanded.includes(f.id);
              const state = findingState(f, checkpoint);
              return (
                <Fragment key={f.id}>
                  <tr
                    className={`row sev-row-${f.severity}${open ? ' open' : ''}${selected === f.id ? ' selected' : ''}`}
                    tabIndex={0}
                    aria-expanded={open}
                    data-testid={`finding-${f.id}`}
                    onClick={() => toggleExpanded(f.id)}
                    onKeyDown={onActivate(() => toggleExpanded(f.id))}
                  >
                    <td className="col-caret" aria-hidden="true">
                      {open ? '▾' : '▸'}
                    </td>
                    <td>
                      <SeverityBadge severity={f.severity} />
                    </td>
                    <td className="mono">{f.id}</td>
                    <td>{f.capability}</td>
                    <td className="mono strong">{f.op}</td>
                    <td className="where">
                      <div className="mono ellipsis" title={`${f.function ?? '(graph)'}/${f.node}`}>
                        {f.function ? `${f.function}/` : ''}
                        {f.node}
                      </div>
                      <div className="msg ellipsis" title={f.message}>
                        {f.message}
                      </div>
                    </td>
                    <td>
                      <StateBadge state={state} quiet={f.severity === 'info'} />
                    </td>
                    <td className="muted">{f.reachability}</td>
                    <td>
                      <SandboxBadge finding={f} runs={view.sandboxRuns} checkpoint={checkpoint} />
                    </td>
                  </tr>
                  {open && (
                    <tr className="detail-row">
                      <td colSpan={COLUMNS.length}>
                        <FindingDetail finding={f} view={view} checkpoint={checkpoint} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
            {rows.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length} className="muted center">
                  No finding matches the filters.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function SandboxBadge({ finding, runs, checkpoint }: { finding: Finding; runs: AuditView['sandboxRuns']; checkpoint: CheckpointRef | null }) {
  const { verdict, evidence, elsewhere } = sandboxVerdict(finding, runs, checkpoint);
  const title = [...evidence, ...elsewhere].join('\n') || 'No sandbox run under this checkpoint yet';
  return (
    <span className={`verdict verdict-${verdict}`} title={title} data-sandbox={verdict}>
      {SANDBOX_LABEL[verdict]}
    </span>
  );
}

function FindingDetail({ finding, view, checkpoint }: { finding: Finding; view: AuditView; checkpoint: CheckpointRef | null }) {
  const selectFinding = useWorkbench((s) => s.selectFinding);
  const planSandbox = useWorkbench((s) => s.planSandbox);
  const api = useWorkbench((s) => s.api);
  const [report, setReport] = useState<string | null>(null);
  const activation = activationFor(finding, checkpoint);
  const gates = finding.trigger.gates;
  return (
    <div className="detail" data-testid={`finding-detail-${finding.id}`}>
      <p className="detail-message">{finding.message}</p>
      <div className="detail-grid">
        <section>
          <h4>Evidence chain</h4>
          <ol className="chain" aria-label="Evidence chain">
            {finding.evidence.map((step, i) => (
              <li key={i} className={i === finding.evidence.length - 1 ? 'chain-unsafe' : undefined}>
                <code>{step}</code>
              </li>
            ))}
          </ol>
        </section>
        <section>
          <h4>Trigger</h4>
          {gates.length === 0 ? (
            <p className="muted">Not behind any branch: runs whenever {finding.entryPoints.length ? finding.entryPoints.join(', ') : 'the graph'} runs.</p>
          ) : (
            <ul className="gates">
              {gates.map((g, i) => (
                <li key={i}>
                  <code>{g.predicate.expression || g.node}</code> must take <strong>{g.branch}</strong> of <code>{g.op}</code> {g.function ? <span className="muted">in {g.function}</span> : null}
                  {g.branchFunction && <div className="muted small">branch calls {g.branchFunction}</div>}
                </li>
              ))}
            </ul>
          )}
          {finding.trigger.environment?.length ? (
            <p className="environment" data-testid="trigger-environment">
              <strong>Decided at run time by</strong> {finding.trigger.environment.join('; ')}: nothing in the model, its checkpoint or the caller decides it.
            </p>
          ) : null}
          {finding.trigger.selfWritten?.length ? (
            <p className="self-written" data-testid="trigger-self-written">
              <strong>The model writes</strong> {finding.trigger.selfWritten.join('; ')} itself: a checkpoint value holds only until the first write.
            </p>
          ) : null}
          {checkpoint && (
            <p className="activation">
              Under <strong>{displayPath(checkpoint.label, view.report.model.path)}</strong>: <StateBadge state={findingState(finding, checkpoint)} />{' '}
              {activation?.reason && <span className="muted">{activation.reason}</span>}
            </p>
          )}
          {activation && Object.keys(activation.values).length > 0 && (
            <table className="kv">
              <tbody>
                {Object.entries(activation.values).map(([k, v]) => (
                  <tr key={k}>
                    <th className="mono">{k}</th>
                    <td className="mono">{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section>
          <h4>Arguments</h4>
          {finding.arguments.length === 0 ? (
            <p className="muted">None resolved.</p>
          ) : (
            <table className="kv">
              <tbody>
                {finding.arguments.map((a, i) => (
                  <tr key={i}>
                    <th className="mono">{a.input}</th>
                    <td>
                      <code>{a.value ?? a.expression}</code> <span className={`tag tag-${a.classification}`}>{a.classification}</span>
                      {a.note && <div className="muted small">{a.note}</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {finding.advisories && finding.advisories.length > 0 && (
            <>
              <h4>Advisories</h4>
              <table className="kv" data-testid="advisories">
                <tbody>
                  {finding.advisories.map((a) => (
                    <tr key={a.id}>
                      <th className="mono">{a.id}</th>
                      <td>
                        <span className="tag">{a.class}</span> {a.fixedIn ? <>fixed in {a.fixedIn}</> : <>no fix recorded</>}
                        <div className="muted small mono wrap-any">{[...a.aliases, a.url].join(' · ')}</div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p className="muted small">{ADVISORY_DATA_CREDIT}</p>
            </>
          )}
          <h4>Recommendation</h4>
          <p>{finding.recommendation}</p>
          <p className="muted small">
            Rule <code>{finding.rule}</code>
            {finding.entryPoints.length > 0 && <> · reached from {finding.entryPoints.join(', ')}</>}
            {finding.metaGraph && <> · meta graph {finding.metaGraph}</>}
          </p>
        </section>
      </div>
      <div className="detail-actions">
        {finding.figure.nodes.length > 0 && (
          <button type="button" className="btn" onClick={() => selectFinding(finding.id, 'branch')}>
            Open branch view
          </button>
        )}
        <button
          type="button"
          className="btn"
          onClick={() => {
            selectFinding(finding.id, 'sandbox');
            void planSandbox(finding.id, {});
          }}
        >
          Confirm in sandbox…
        </button>
        <button
          type="button"
          className="btn ghost"
          aria-expanded={report !== null}
          onClick={async () => {
            if (report !== null) return setReport(null);
            try {
              setReport((await api.vulnReport(view.auditId, finding.id)).markdown);
            } catch (err) {
              setReport(`Could not draft the report: ${err instanceof Error ? err.message : String(err)}`);
            }
          }}
        >
          {report === null ? 'Draft vulnerability report' : 'Hide vulnerability report'}
        </button>
      </div>
      {report !== null && <textarea className="vuln-report mono" readOnly aria-label="Vulnerability report (Markdown)" value={report} onFocus={(e) => e.currentTarget.select()} rows={14} />}
    </div>
  );
}
