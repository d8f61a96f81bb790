// The workbench shell: header with the model and actions, the checkpoint bar, the verdict,
// and the tabbed panels. Empty, loading and error states say what to do next.
import { useEffect, type KeyboardEvent } from 'react';
import { selectedCheckpoint, TABS, useWorkbench, type Tab } from './store.ts';
import { modelName, overallVerdict } from './verdict.ts';
import { DropOverlay, DropZone } from './components/DropZone.tsx';
import { FindingsTable } from './components/FindingsTable.tsx';
import { BranchView } from './components/BranchView.tsx';
import { CheckpointBar, CheckpointPanel } from './components/CheckpointPanel.tsx';
import { RuntimeSetting } from './components/RuntimeSetting.tsx';
import { ModelOverview } from './components/ModelOverview.tsx';
import { SandboxPanel } from './components/SandboxPanel.tsx';
import { SeverityBadge } from './components/common.tsx';
import { RegistrySummary, RegistryTable } from './components/RegistryTable.tsx';

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true">
      <path d="M16 2 4 7v8c0 7.5 5.1 13.2 12 15 6.9-1.8 12-7.5 12-15V7z" fill="currentColor" opacity="0.18" />
      <path d="M16 2 4 7v8c0 7.5 5.1 13.2 12 15 6.9-1.8 12-7.5 12-15V7z" fill="none" stroke="currentColor" strokeWidth="2" />
      <path d="M11 10h10M16 10v13" stroke="currentColor" strokeWidth="2.4" strokeLinecap="round" />
    </svg>
  );
}

function Header() {
  const view = useWorkbench((s) => s.view);
  const registry = useWorkbench((s) => s.registry);
  const busy = useWorkbench((s) => s.busy);
  const { openDialog, exportPdf, addCheckpointDialog, backToRegistry, exportRegistryPdf } = useWorkbench((s) => s);
  return (
    <header className="app-header">
      <div className="brand">
        <Logo />
        <span>TF Audit Workbench</span>
      </div>
      {registry && !view && (
        <div className="model-id" title={registry.root}>
          <span className="model-name">{registry.root.split(/[\\/]/).filter(Boolean).pop() ?? registry.root}</span>
          <span className="tag">registry · {registry.rows.length} models</span>
        </div>
      )}
      {view && (
        <div className="model-id" title={view.report.model.path}>
          <span className="model-name">{modelName(view)}</span>
          <span className="tag">{view.report.model.format}</span>
          {view.report.model.tensorflowVersion && <span className="muted small">TF {view.report.model.tensorflowVersion}</span>}
        </div>
      )}
      <div className="header-actions">
        {busy && (
          <span className="busy" role="status">
            <span className="spinner small" aria-hidden="true" /> {busy}
          </span>
        )}
        {registry && view && (
          <button type="button" className="btn ghost" onClick={backToRegistry} data-testid="back-to-registry">
            ← Registry
          </button>
        )}
        <button type="button" className="btn ghost" onClick={() => void openDialog('folder')}>
          Open folder…
        </button>
        <button type="button" className="btn ghost" onClick={() => void openDialog('file')}>
          Open file…
        </button>
        {view && (
          <>
            <button type="button" className="btn ghost" onClick={() => void addCheckpointDialog()}>
              Add checkpoint…
            </button>
            <button type="button" className="btn primary" onClick={() => void exportPdf()} disabled={busy !== null}>
              Export PDF
            </button>
          </>
        )}
        {registry && !view && (
          <button type="button" className="btn primary" onClick={() => void exportRegistryPdf()} disabled={busy !== null}>
            Export PDF
          </button>
        )}
      </div>
    </header>
  );
}

function VerdictBanner() {
  const view = useWorkbench((s) => s.view)!;
  const checkpoint = useWorkbench((s) => selectedCheckpoint(s));
  const verdict = overallVerdict(view, checkpoint);
  return (
    <section className={`verdict verdict-${verdict.level}`} data-testid="verdict" data-level={verdict.level} aria-live="polite" aria-label="Verdict">
      <div className="verdict-mark" aria-hidden="true">
        {verdict.level === 'unsafe' ? '!' : verdict.level === 'clean' ? '✓' : verdict.level === 'dormant' ? '◐' : '?'}
      </div>
      <div>
        <div className="verdict-headline">
          {verdict.headline} {verdict.worst && <SeverityBadge severity={verdict.worst} />}
        </div>
        <div className="verdict-detail">{verdict.detail}</div>
      </div>
      <div className="verdict-isolation muted small" title={view.isolation.description}>
        {view.isolation.isolated ? 'Parsed in an OS sandbox' : 'Parsed in a separate worker (no OS sandbox)'}
      </div>
    </section>
  );
}

function Tabs() {
  const tab = useWorkbench((s) => s.tab);
  const setTab = useWorkbench((s) => s.setTab);
  const view = useWorkbench((s) => s.view)!;
  const counts: Partial<Record<Tab, number>> = { findings: view.report.findings.length, checkpoints: view.checkpoints.length };
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === tab);
    const next = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i - 1 + TABS.length) % TABS.length : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    setTab(TABS[next].id);
    document.getElementById(`tab-${TABS[next].id}`)?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label="Views" onKeyDown={onKey}>
      {TABS.map((t) => (
        <button
          key={t.id}
          id={`tab-${t.id}`}
          type="button"
          role="tab"
          aria-selected={tab === t.id}
          aria-controls={`panel-${t.id}`}
          tabIndex={tab === t.id ? 0 : -1}
          className={tab === t.id ? 'on' : ''}
          onClick={() => setTab(t.id)}
        >
          {t.label}
          {counts[t.id] !== undefined && <span className="count">{counts[t.id]}</span>}
        </button>
      ))}
    </div>
  );
}

function Panel() {
  const tab = useWorkbench((s) => s.tab);
  return (
    <main id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`} className="panel">
      {tab === 'findings' && <FindingsTable />}
      {tab === 'branch' && <BranchView />}
      {tab === 'checkpoints' && <CheckpointPanel />}
      {tab === 'overview' && <ModelOverview />}
      {tab === 'sandbox' && <SandboxPanel />}
    </main>
  );
}

function Loading() {
  const progress = useWorkbench((s) => s.progress);
  const busy = useWorkbench((s) => s.busy);
  return (
    <div className="state-screen" role="status" aria-live="polite" data-testid="loading">
      <div className="spinner" aria-hidden="true" />
      <h2>{busy ?? 'Working…'}</h2>
      <p className="muted">{progress ? `${progress.stage}: ${progress.message}` : 'Reading the files in the analyzer worker.'}</p>
      {progress?.fraction != null && (
        <progress max={1} value={progress.fraction} aria-label="Progress">
          {Math.round(progress.fraction * 100)}%
        </progress>
      )}
    </div>
  );
}

function ErrorScreen() {
  const error = useWorkbench((s) => s.error)!;
  const reset = useWorkbench((s) => s.reset);
  return (
    <div className="state-screen" role="alert" data-testid="error">
      <div className="error-mark" aria-hidden="true">
        ×
      </div>
      <h2>Could not open the model</h2>
      <p className="error-message mono">{error.message}</p>
      <p className="muted">{error.hint}</p>
      <p className="muted small">code: {error.code}</p>
      <button type="button" className="btn primary" onClick={reset} autoFocus>
        Open another model
      </button>
    </div>
  );
}

function Notice() {
  const notice = useWorkbench((s) => s.notice);
  const clear = useWorkbench((s) => s.clearNotice);
  if (!notice) return null;
  return (
    <div className={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
      <span>{notice.text}</span>
      <button type="button" className="btn ghost small" aria-label="Dismiss" onClick={clear}>
        ×
      </button>
    </div>
  );
}

export function App() {
  const status = useWorkbench((s) => s.status);
  const api = useWorkbench((s) => s.api);
  const { openDialog, addCheckpointDialog, exportPdf, exportRegistryPdf, openRecent } = useWorkbench((s) => s);
  const showRegistry = useWorkbench((s) => s.registry !== null && s.view === null);

  useEffect(
    () =>
      api.onMenuCommand((command, recentIndex) => {
        if (command === 'open-file') void openDialog('file');
        else if (command === 'open-folder') void openDialog('folder');
        else if (command === 'add-checkpoint') void addCheckpointDialog();
        else if (command === 'export-pdf') void (showRegistry ? exportRegistryPdf() : exportPdf());
        else if (command === 'open-recent' && recentIndex !== undefined) void openRecent(recentIndex);
      }),
    [api, openDialog, addCheckpointDialog, exportPdf, exportRegistryPdf, openRecent, showRegistry],
  );

  return (
    <div className="app">
      <Header />
      {status === 'empty' && <DropZone />}
      {status === 'loading' && <Loading />}
      {status === 'error' && <ErrorScreen />}
      {status === 'ready' && showRegistry && (
        <>
          <DropOverlay />
          <RegistrySummary />
          <Notice />
          <RegistryTable />
        </>
      )}
      {status === 'ready' && !showRegistry && (
        <>
          <DropOverlay />
          <div className="subheader">
            <CheckpointBar />
            <RuntimeSetting />
          </div>
          <VerdictBanner />
          <Notice />
          <Tabs />
          <Panel />
        </>
      )}
    </div>
  );
}
