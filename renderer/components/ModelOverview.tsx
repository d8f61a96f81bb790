// Model overview: format, TensorFlow version, signatures, op histogram, files and hashes,
// what could not be read, and how the analysis was isolated.
import { useMemo } from 'react';
import { useWorkbench } from '../store.ts';
import { formatBytes } from './common.tsx';
import { displayPath } from '../verdict.ts';

export function ModelOverview() {
  const view = useWorkbench((s) => s.view)!;
  const { summary, report } = view;
  const histogram = useMemo(() => {
    const counts = new Map<string, number>();
    for (const mg of summary.metaGraphs) for (const [op, n] of Object.entries(mg.opCounts)) counts.set(op, (counts.get(op) ?? 0) + n);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }, [summary]);
  const flagged = new Set(report.findings.filter((f) => f.severity !== 'info').map((f) => f.op));
  const max = histogram[0]?.[1] ?? 1;
  const signatures = summary.metaGraphs.flatMap((mg) => mg.signatures.map((s) => ({ tags: mg.tags.join(','), s })));
  const totalBytes = summary.files.reduce((n, f) => n + f.size, 0);

  return (
    <div className="overview">
      <section className="card facts">
        <h3>Model</h3>
        <dl>
          <dt>Path</dt>
          <dd className="mono">{summary.path}</dd>
          <dt>Format</dt>
          <dd>{summary.format}</dd>
          <dt>TensorFlow</dt>
          <dd>{summary.tensorflowVersion ?? <span className="muted">not recorded</span>}</dd>
          {summary.keras && (
            <>
              <dt>Keras</dt>
              <dd>
                {summary.keras.kerasVersion ?? '?'} · backend {summary.keras.backend ?? '?'} · {summary.keras.layerCount} layers
              </dd>
            </>
          )}
          {summary.tflite && (
            <>
              <dt>TFLite</dt>
              <dd>
                schema v{summary.tflite.version} · {summary.tflite.operatorCodes.length} operator codes
              </dd>
            </>
          )}
          <dt>Meta graphs</dt>
          <dd>{summary.metaGraphs.map((m) => m.tags.join(',') || '(untagged)').join(' · ') || '—'}</dd>
          <dt>Graph</dt>
          <dd>
            {report.analysis.opsAnalysed} ops · {report.analysis.functionsAnalysed} functions analysed
          </dd>
          <dt>Isolation</dt>
          <dd>
            <span className={`tag ${view.isolation.isolated ? 'tag-ok' : 'tag-warn'}`}>{view.isolation.isolated ? 'sandboxed' : 'not sandboxed'}</span> {view.isolation.description}
          </dd>
        </dl>
      </section>

      <section className="card">
        <h3>Signatures</h3>
        {signatures.length === 0 ? (
          <p className="muted">No serving signatures.</p>
        ) : (
          <table className="grid dense">
            <thead>
              <tr>
                <th>Key</th>
                <th>Inputs</th>
                <th>Outputs</th>
                <th>Method</th>
              </tr>
            </thead>
            <tbody>
              {signatures.map(({ tags, s }) => (
                <tr key={`${tags}/${s.key}`}>
                  <td className="mono strong">{s.key}</td>
                  <td className="mono small">
                    {Object.entries(s.inputs).map(([k, t]) => (
                      <div key={k}>
                        {k}: {t.dtype.replace(/^DT_/, '').toLowerCase()}
                        {t.shape ? `[${t.shape.unknownRank ? '?' : t.shape.dims.map((d) => (d < 0 ? '?' : d)).join(',')}]` : ''}
                      </div>
                    ))}
                  </td>
                  <td className="mono small">
                    {Object.entries(s.outputs).map(([k, t]) => (
                      <div key={k}>
                        {k}: {t.dtype.replace(/^DT_/, '').toLowerCase()}
                      </div>
                    ))}
                  </td>
                  <td className="muted small" title={s.methodName}>
                    {s.methodName.split('/').pop()}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card">
        <h3>
          Op histogram <span className="muted small">{histogram.length} op types</span>
        </h3>
        <div className="histogram" role="table" aria-label="Op histogram">
          {histogram.map(([op, n]) => (
            <div key={op} className={`hist-row${flagged.has(op) ? ' flagged' : ''}`} role="row">
              <span className="mono hist-op" role="cell" title={flagged.has(op) ? 'flagged by a finding' : undefined}>
                {op}
              </span>
              <span className="hist-bar" role="cell">
                <i style={{ width: `${Math.max(2, (n / max) * 100)}%` }} />
              </span>
              <span className="mono hist-n" role="cell">
                {n}
              </span>
            </div>
          ))}
        </div>
      </section>

      <section className="card card-wide">
        <h3>
          Files <span className="muted small">{summary.files.length} files · {formatBytes(totalBytes)}</span>
        </h3>
        <table className="grid dense">
          <thead>
            <tr>
              <th>Path</th>
              <th className="num">Size</th>
              <th>SHA-256</th>
            </tr>
          </thead>
          <tbody>
            {summary.files.map((f) => (
              <tr key={f.path}>
                <td className="mono">{displayPath(f.path, summary.path)}</td>
                <td className="mono num">{formatBytes(f.size)}</td>
                <td className="mono small hash" title={f.sha256}>
                  {f.sha256}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {(report.errors.length > 0 || summary.warnings.length > 0 || report.analysis.unknownSemantics.length > 0) && (
        <section className="card">
          <h3>Limits of this analysis</h3>
          <ul className="plain">
            {report.errors.map((e, i) => (
              <li key={`e${i}`} className="error-text">
                <code>{e.file}</code>: {e.message}
              </li>
            ))}
            {summary.warnings.map((w, i) => (
              <li key={`w${i}`}>{w}</li>
            ))}
            {report.analysis.unknownSemantics.length > 0 && <li>Ops with unknown semantics: {report.analysis.unknownSemantics.join(', ')}</li>}
            {report.analysis.notes.map((n, i) => (
              <li key={`n${i}`} className="muted">
                {n}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
