// Sandbox: the policy derived from the findings, shown and editable before anything runs;
// Launch (by audit id — the page never sends a command line), a live console, Stop, outcome,
// and every run of the audit side by side with its per-finding verdicts.
import { useEffect, useRef } from 'react';
import type { SandboxOverrides } from '../../shared/api.ts';
import { findDisagreements, type SandboxRunner } from '../../shared/sandbox.ts';
import { describeExit, useWorkbench } from '../store.ts';
import { displayCheckpoint, displayPath, SANDBOX_LABEL } from '../verdict.ts';

const RUNNERS: { id: SandboxRunner; label: string }[] = [
  { id: 'tf-python', label: 'TensorFlow (Python) — load and call a signature' },
  { id: 'saved-model-cli', label: 'saved_model_cli run' },
  { id: 'model-server', label: 'TensorFlow Serving' },
];

export function SandboxPanel() {
  const view = useWorkbench((s) => s.view)!;
  const sandbox = useWorkbench((s) => s.sandbox);
  const { planSandbox, launchSandbox, stopSandbox } = useWorkbench((s) => s);
  const consoleRef = useRef<HTMLPreElement>(null);
  const running = sandbox.runId !== null;

  useEffect(() => {
    if (!sandbox.policy && !sandbox.planning && !sandbox.error) void planSandbox(sandbox.findingId, sandbox.overrides);
  }, [sandbox.policy, sandbox.planning, sandbox.error, sandbox.findingId, sandbox.overrides, planSandbox]);

  useEffect(() => {
    const el = consoleRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [sandbox.console]);

  const edit = (patch: SandboxOverrides) => void planSandbox(sandbox.findingId, { ...sandbox.overrides, ...patch });
  const policy = sandbox.policy;
  const signatures = view.summary.metaGraphs.flatMap((m) => m.signatures.map((s) => s.key));

  return (
    <div className="sandbox">
      <section className="card policy" aria-label="Sandbox policy">
        <h3>
          Policy{' '}
          <span className="muted small">
            {sandbox.findingId ? `to confirm ${sandbox.findingId}` : 'for the whole model'} · derived from the findings, edit before launching
          </span>
        </h3>
        <div className="form-grid">
          <label className="field">
            <span>Runner</span>
            <select value={sandbox.overrides.runner ?? policy?.runner ?? 'tf-python'} disabled={running} onChange={(e) => edit({ runner: e.currentTarget.value as SandboxRunner })}>
              {RUNNERS.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.label}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Checkpoint restored</span>
            <select
              value={sandbox.overrides.checkpointId ?? ''}
              disabled={running}
              onChange={(e) => edit({ checkpointId: e.currentTarget.value || null })}
            >
              <option value="">Model's own (or the one that triggers the finding)</option>
              {view.checkpoints
                .filter((c) => c.id !== 'own')
                .map((c) => (
                  <option key={c.id} value={c.id}>
                    {displayCheckpoint(c, view)}
                  </option>
                ))}
            </select>
          </label>
          <label className="field">
            <span>Signature</span>
            <select value={sandbox.overrides.signature ?? policy?.signature ?? ''} disabled={running} onChange={(e) => edit({ signature: e.currentTarget.value || null })}>
              <option value="">Default</option>
              {signatures.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Wall time limit (s)</span>
            <input
              type="number"
              min={1}
              max={3600}
              value={sandbox.overrides.timeoutSeconds ?? policy?.limits.wallSeconds ?? 60}
              disabled={running}
              onChange={(e) => {
                const v = Number(e.currentTarget.value);
                if (v > 0) edit({ timeoutSeconds: v });
              }}
            />
          </label>
          <label className="field">
            <span>Memory limit (MB)</span>
            <input
              type="number"
              min={64}
              max={65536}
              value={sandbox.overrides.memoryMb ?? policy?.limits.memoryMb ?? 2048}
              disabled={running}
              onChange={(e) => {
                const v = Number(e.currentTarget.value);
                if (v > 0) edit({ memoryMb: v });
              }}
            />
          </label>
          <label className="field check">
            <input type="checkbox" checked={sandbox.overrides.allowNetwork ?? policy?.allowNetwork ?? false} disabled={running} onChange={(e) => edit({ allowNetwork: e.currentTarget.checked })} />
            <span>Allow network (off: no interfaces but loopback)</span>
          </label>
        </div>
        {sandbox.planning && <p className="muted small">Deriving policy…</p>}
        {policy && (
          <div className="policy-facts">
            <dl>
              <dt>Backend</dt>
              <dd>{policy.backend}</dd>
              <dt>Model (read-only)</dt>
              <dd className="mono small">{policy.modelPath}</dd>
              <dt>Checkpoint</dt>
              <dd className="mono small">{policy.checkpoint ?? '—'}</dd>
              <dt>Writable</dt>
              <dd className="mono small">{policy.scratchDir} only</dd>
              <dt>Limits</dt>
              <dd className="small">
                {policy.limits.memoryMb} MB · {policy.limits.cpuSeconds} s CPU · {policy.limits.wallSeconds} s wall · files ≤ {policy.limits.fileSizeMb} MB · ≤ {policy.limits.processes} processes
              </dd>
              <dt>Network</dt>
              <dd>{policy.allowNetwork ? <span className="tag tag-warn">allowed</span> : <span className="tag tag-ok">none</span>}</dd>
            </dl>
            {policy.rationale.length > 0 && (
              <ul className="plain rationale">
                {policy.rationale.map((r, i) => (
                  <li key={i}>{r}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        {sandbox.error && (
          <div className="inline-error" role="alert">
            <strong>{sandbox.error.message}</strong>
            <div className="small">{sandbox.error.hint}</div>
          </div>
        )}
        <div className="detail-actions">
          <button type="button" className="btn danger" disabled={!policy || running} onClick={() => void launchSandbox()}>
            Launch in sandbox
          </button>
          <button type="button" className="btn" disabled={!running} onClick={() => void stopSandbox()}>
            Stop
          </button>
          {running && <span className="spinner small" aria-label="Running" />}
        </div>
      </section>

      <section className="card console-card" aria-label="Sandbox console">
        <h3>Console</h3>
        <pre className="console" ref={consoleRef} aria-live="polite" tabIndex={0}>
          {sandbox.console.length === 0 ? <span className="muted">Output of the sandboxed run appears here.</span> : sandbox.console.map((l, i) => <span key={i} className={`con-${l.stream}`}>{l.text}</span>)}
        </pre>
      </section>

      {view.sandboxRuns.length > 0 && <RunsCompared />}

      {sandbox.outcome && (
        <section className="card" aria-label="Outcome">
          <h3>
            Outcome <span className="muted small">{describeExit(sandbox.outcome)}</span>
          </h3>
          <p className="mono small">{sandbox.outcome.command.join(' ')}</p>
          <div className="outcome-grid">
            <div>
              <h4>Files written</h4>
              {sandbox.outcome.filesWritten.length === 0 ? (
                <p className="muted">None.</p>
              ) : (
                <ul className="plain mono small">
                  {sandbox.outcome.filesWritten.map((f, i) => (
                    <li key={i}>
                      {f.change} {f.path} ({f.size} B)
                    </li>
                  ))}
                </ul>
              )}
            </div>
            <div>
              <h4>Observed system calls</h4>
              {sandbox.outcome.syscalls.length === 0 ? (
                <p className="muted">None recorded{sandbox.outcome.notes.length ? ` (${sandbox.outcome.notes.join('; ')})` : ''}.</p>
              ) : (
                <table className="grid dense">
                  <tbody>
                    {sandbox.outcome.syscalls.slice(0, 200).map((s, i) => (
                      <tr key={i}>
                        <td>{s.kind}</td>
                        <td className="mono">{s.call}</td>
                        <td className="mono">{s.target}</td>
                        <td className="mono small">{s.result}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </div>
        </section>
      )}
    </div>
  );
}

/** Every run of this audit side by side: per finding, what the analysis predicted and what the run showed. */
function RunsCompared() {
  const view = useWorkbench((s) => s.view)!;
  const runs = view.sandboxRuns;
  const disagreements = findDisagreements(runs);
  const findings = view.report.findings;
  return (
    <section className="card" aria-label="Sandbox runs compared">
      <h3>
        Runs compared <span className="muted small">same model, one column per run and checkpoint</span>
      </h3>
      {disagreements.length > 0 && (
        <div className="disagreements" role="alert" data-testid="sandbox-disagreements">
          <strong>The static analysis and the sandbox disagree: one of the two halves is wrong.</strong>
          <ul className="plain small">
            {disagreements.map((d, i) => (
              <li key={i}>{d.message}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="table-wrap">
        <table className="grid dense runs-compare" aria-label="Per-finding verdicts by run">
          <thead>
            <tr>
              <th scope="col">Finding</th>
              {runs.map((run, i) => (
                <th key={run.runId} scope="col">
                  Run {i + 1}: <span className="mono small">{displayPath(run.checkpoint ?? run.policy.checkpoint ?? "model's own", view.report.model.path)}</span>
                  <div className="muted small">{describeExit(run)}</div>
                  {run.inputs && Object.keys(run.inputs).length > 0 && (
                    <div className="muted small mono">
                      {Object.entries(run.inputs)
                        .map(([name, input]) => `${name}: ${input.dtype}[${input.shape.join(',')}] ${input.source}`)
                        .join('; ')}
                    </div>
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {findings.map((f) => (
              <tr key={f.id} data-testid={`run-verdicts-${f.id}`}>
                <td>
                  <span className="mono">{f.id}</span> <span className="mono strong">{f.op}</span>
                  <div className="muted small">{f.capability}</div>
                </td>
                {runs.map((run) => {
                  const c = run.findings?.find((x) => x.id === f.id && x.op === f.op);
                  if (!c) return <td key={run.runId} className="muted small">not judged</td>;
                  return (
                    <td key={run.runId}>
                      <span className={`verdict verdict-${c.observed}`}>{SANDBOX_LABEL[c.observed]}</span> <span className="muted small">static: {c.static}</span>
                      {c.evidence.length > 0 && <p className="evidence mono">{c.evidence.slice(0, 3).join('\n')}</p>}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
