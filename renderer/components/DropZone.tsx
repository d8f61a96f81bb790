// Where models come in: the empty-state drop target with Open buttons, and a window-wide drop
// overlay once an audit is open (drop as a new model, or as extra checkpoints).
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { collectDroppedFiles } from '../dropped-files.ts';
import { useWorkbench } from '../store.ts';

function hasFiles(e: DragEvent | globalThis.DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

/** Hidden inputs: the web host's file pickers (also what automation drives). */
function HiddenInputs() {
  const openFiles = useWorkbench((s) => s.openFiles);
  const addCheckpointFiles = useWorkbench((s) => s.addCheckpointFiles);
  const take = (input: HTMLInputElement, then: (files: File[]) => void) => {
    const files = input.files ? Array.from(input.files) : [];
    input.value = '';
    if (files.length) then(files);
  };
  return (
    <div className="visually-hidden">
      <input type="file" multiple data-testid="file-input" aria-label="Open model files" tabIndex={-1} onChange={(e) => take(e.currentTarget, openFiles)} />
      <input
        type="file"
        data-testid="folder-input"
        aria-label="Open model folder"
        tabIndex={-1}
        ref={(el) => {
          if (el) el.webkitdirectory = true;
        }}
        onChange={(e) => take(e.currentTarget, openFiles)}
      />
      <input type="file" multiple data-testid="checkpoint-input" aria-label="Add checkpoint files" tabIndex={-1} onChange={(e) => take(e.currentTarget, addCheckpointFiles)} />
      <input
        type="file"
        data-testid="checkpoint-folder-input"
        aria-label="Add a checkpoint folder"
        tabIndex={-1}
        ref={(el) => {
          if (el) el.webkitdirectory = true;
        }}
        onChange={(e) => take(e.currentTarget, addCheckpointFiles)}
      />
    </div>
  );
}

export function DropZone() {
  const api = useWorkbench((s) => s.api);
  const openFiles = useWorkbench((s) => s.openFiles);
  const openDialog = useWorkbench((s) => s.openDialog);
  const [over, setOver] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    try {
      const files = await collectDroppedFiles(e.dataTransfer, api.host);
      if (files.length) await openFiles(files);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <section
      className={`dropzone${over ? ' over' : ''}`}
      data-testid="dropzone"
      aria-label="Drop a model to audit"
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <div className="dropzone-inner">
        <svg className="dropzone-icon" viewBox="0 0 48 48" aria-hidden="true">
          <path d="M24 6v24M14 20l10 10 10-10" fill="none" stroke="currentColor" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round" />
          <path d="M8 32v8h32v-8" fill="none" stroke="currentColor" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
        <h1>Drop a TensorFlow model to audit it</h1>
        <p className="muted">
          A SavedModel folder, a <code>.pb</code> / <code>.pbtxt</code> / <code>.meta</code> graph, a checkpoint (<code>.index</code> with its <code>.data-*</code> files),
          a <code>.keras</code> / <code>.h5</code> or a <code>.tflite</code> file. Drop extra checkpoints together with the model to compare them.
        </p>
        <div className="dropzone-actions">
          <button type="button" className="btn primary" onClick={() => void openDialog('folder')}>
            Open model folder…
          </button>
          <button type="button" className="btn" onClick={() => void openDialog('file')}>
            Open model file…
          </button>
        </div>
        <p className="muted small">
          Nothing in the model is executed: files are parsed in an isolated worker. {api.host === 'electron' ? 'Ctrl+O opens a file, Ctrl+Shift+O a folder.' : 'Files are uploaded to a private workspace on this machine and deleted when the host stops.'}
        </p>
        {error && (
          <p className="inline-error" role="alert">
            {error}
          </p>
        )}
      </div>
      <HiddenInputs />
    </section>
  );
}

/** Window-wide overlay while an audit is open: choose what the drop means. */
export function DropOverlay() {
  const api = useWorkbench((s) => s.api);
  const openFiles = useWorkbench((s) => s.openFiles);
  const addCheckpointFiles = useWorkbench((s) => s.addCheckpointFiles);
  const [visible, setVisible] = useState(false);
  const depth = useRef(0);

  useEffect(() => {
    const enter = (e: globalThis.DragEvent) => {
      if (!hasFiles(e)) return;
      depth.current++;
      setVisible(true);
    };
    const leave = () => {
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setVisible(false);
    };
    const over = (e: globalThis.DragEvent) => e.preventDefault();
    const drop = (e: globalThis.DragEvent) => {
      e.preventDefault();
      depth.current = 0;
      setVisible(false);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);

  const target = (label: string, detail: string, action: (files: File[]) => Promise<void>, testId: string) => (
    <div
      className="drop-target"
      data-testid={testId}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDrop={async (e) => {
        e.preventDefault();
        e.stopPropagation();
        depth.current = 0;
        setVisible(false);
        const files = await collectDroppedFiles(e.dataTransfer, api.host);
        if (files.length) await action(files);
      }}
    >
      <strong>{label}</strong>
      <span>{detail}</span>
    </div>
  );

  return (
    <>
      <HiddenInputs />
      {visible && (
        <div className="drop-overlay" aria-hidden="true">
          {target('Add as checkpoints', 'Compare these variable values with the open model', addCheckpointFiles, 'drop-add-checkpoints')}
          {target('Open as a new model', 'Replaces the current audit', openFiles, 'drop-open-model')}
        </div>
      )}
    </>
  );
}
