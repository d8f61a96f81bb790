// Checkpoints: the bar that selects which checkpoint the verdicts are computed under, and the
// panel with the variables that drive predicates, their values per checkpoint side by side.
import { SEVERITY_RANK, type CheckpointReport } from '../../shared/findings.ts';
import { coverageSummary } from '../../shared/report.ts';
import { useWorkbench } from '../store.ts';
import { displayCheckpoint, drivingVariables, findingState } from '../verdict.ts';
import { SeverityBadge, StateBadge } from './common.tsx';

export function CheckpointBar() {
  const view = useWorkbench((s) => s.view)!;
  const checkpointId = useWorkbench((s) => s.checkpointId);
  const selectCheckpoint = useWorkbench((s) => s.selectCheckpoint);
  const addCheckpointDialog = useWorkbench((s) => s.addCheckpointDialog);
  if (view.checkpoints.length === 0) {
    // Keras and TFLite files keep their weights inside: no TensorFlow checkpoint drives them.
    if (view.summary.format === 'keras-v3' || view.summary.format === 'keras-h5' || view.summary.format === 'tflite') return null;
    return (
      <div className="ckpt-bar">
        <span className="muted small">No checkpoint: variable-driven branches cannot be decided.</span>
        <button type="button" className="btn small" onClick={() => void addCheckpointDialog()}>
          Add checkpoint…
        </button>
      </div>
    );
  }
  return (
    <div className="ckpt-bar">
      <span className="ckpt-label" id="ckpt-bar-label">
        Checkpoint
      </span>
      <div className="segmented" role="radiogroup" aria-labelledby="ckpt-bar-label">
        {view.checkpoints.map((c) => (
          <button
            key={c.id}
            type="button"
            role="radio"
            aria-checked={c.id === checkpointId}
            className={c.id === checkpointId ? 'on' : ''}
            title={c.label}
            data-testid={`checkpoint-${c.id}`}
            onClick={() => selectCheckpoint(c.id)}
          >
            {displayCheckpoint(c, view)}
            {c.id === 'own' && <span className="muted small"> (own)</span>}
          </button>
        ))}
      </div>
      <button type="button" className="btn small ghost" onClick={() => void addCheckpointDialog()}>
        + Add checkpoint…
      </button>
    </div>
  );
}

export function CheckpointPanel() {
  const view = useWorkbench((s) => s.view)!;
  const checkpointId = useWorkbench((s) => s.checkpointId);
  const selectCheckpoint = useWorkbench((s) => s.selectCheckpoint);
  const rows = drivingVariables(view);
  // Findings a checkpoint can switch: unconditional ones (trigger 'none') read the same under all.
  const gated = view.report.findings.filter((f) => f.trigger.kind !== 'none').sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);

  if (view.checkpoints.length === 0) {
    // Keras and TFLite files keep their weights inside: no TensorFlow checkpoint drives them.
    if (view.summary.format === 'keras-v3' || view.summary.format === 'keras-h5' || view.summary.format === 'tflite') return null;
    return (
      <div className="empty-panel">
        <h2>No checkpoint loaded</h2>
        <p className="muted">This model has no variables/ folder. Add a checkpoint (its .index and .data files) to see which branches its values switch on.</p>
      </div>
    );
  }

  return (
    <div className="ckpt-panel">
      <p className="muted">
        Select a column to make it the checkpoint every verdict is computed under. Values are what the analysis read from each checkpoint for the variables
        that feed branch predicates.
      </p>
      <div className="table-wrap">
        <table className="grid compare" aria-label="Variables per checkpoint">
          <thead>
            <tr>
              <th scope="col">Variable (checkpoint key)</th>
              <th scope="col">Drives</th>
              {view.checkpoints.map((c) => (
                <th key={c.id} scope="col" className={c.id === checkpointId ? 'col-selected' : ''}>
                  <button type="button" className="th-sort" aria-pressed={c.id === checkpointId} onClick={() => selectCheckpoint(c.id)} title={c.label}>
                    {displayCheckpoint(c, view)}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={2 + view.checkpoints.length} className="muted center">
                  No predicate reads a variable: the checkpoint cannot switch any finding on or off.
                </td>
              </tr>
            )}
            {rows.map((r) => {
              const distinct = new Set(Object.values(r.values)).size > 1;
              return (
                <tr key={r.key}>
                  <th scope="row" className="mono">
                    {r.key}
                  </th>
                  <td className="mono small">{r.findings.join(', ')}</td>
                  {view.checkpoints.map((c) => (
                    <td key={c.id} className={`mono${c.id === checkpointId ? ' col-selected' : ''}${distinct ? ' differs' : ''}`} data-testid={`value-${c.id}-${r.key}`}>
                      {r.values[c.id] ?? <span className="muted">—</span>}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
          {gated.length > 0 && (
            <tbody className="verdict-rows">
              <tr className="section-row">
                <th colSpan={2 + view.checkpoints.length}>Verdict per checkpoint</th>
              </tr>
              {gated.map((f) => (
                <tr key={f.id}>
                  <th scope="row">
                    <SeverityBadge severity={f.severity} /> <span className="mono">{f.id}</span> <span className="mono strong">{f.op}</span>
                  </th>
                  <td className="small">{f.capability}</td>
                  {view.checkpoints.map((c) => (
                    <td key={c.id} className={c.id === checkpointId ? 'col-selected' : ''}>
                      <StateBadge state={findingState(f, c)} quiet={f.severity === 'info'} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          )}
        </table>
      </div>
      <CheckpointCoverageList entries={view.report.checkpoints} />
    </div>
  );
}

/** How each checkpoint binds to the model: matched root, N of M, missing, extra, refused, integrity. */
export function CheckpointCoverageList({ entries }: { entries: CheckpointReport[] }) {
  const shown = entries.filter((e) => e.coverage);
  if (shown.length === 0) return null;
  return (
    <section className="ckpt-coverage" aria-label="Checkpoint coverage">
      <h3>How each checkpoint binds to the model</h3>
      <ul>
        {shown.map((e) => {
          const c = e.coverage!;
          const alarm = !!c.integrity || !!c.refused || c.differentModel || (c.values?.notCompared ?? 0) > 0;
          return (
            <li key={e.path} data-testid="checkpoint-coverage" className={alarm ? 'alarm' : ''}>
              <div className="mono strong">{e.path}</div>
              <div className="small">{coverageSummary(e)}</div>
              {(c.missing.length > 0 || c.extraCount > 0 || c.mismatches.length > 0) && (
                <details className="small">
                  <summary>
                    {c.missing.length} missing, {c.extraCount} extra, {c.mismatches.length} mismatched
                  </summary>
                  {c.mismatches.map((m) => (
                    <div key={m.variable} className="mono">
                      {m.variable} ← {m.checkpointKey}: {m.reason}
                    </div>
                  ))}
                  {c.missing.map((k) => (
                    <div key={k} className="mono">
                      missing {k} (keeps the model's own value)
                    </div>
                  ))}
                  {c.extra.map((k) => (
                    <div key={k} className="mono muted">
                      extra {k}
                    </div>
                  ))}
                </details>
              )}
              {c.values && (c.values.changed > 0 || c.values.notCompared > 0) && (
                <details className="small" data-testid="checkpoint-values">
                  <summary>
                    {c.values.changed} changed, {c.values.unchanged} unchanged, {c.values.notCompared} not compared
                  </summary>
                  {c.values.changedWeights.map((w) => (
                    <div key={w.variable} className="mono">
                      changed {w.variable}: {w.elementsChanged} of {w.elements} values, max |Δ| {w.maxAbsDiff === null ? 'non-finite' : w.maxAbsDiff}
                    </div>
                  ))}
                  {c.values.notComparedWeights.map((w) => (
                    <div key={w.variable} className="mono">
                      not compared {w.variable}: {w.reason}
                    </div>
                  ))}
                </details>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
