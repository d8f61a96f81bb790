// The TensorFlow release that will serve the model: known kernel advisories of that release are
// judged per op (known-vulnerability findings); without one they are only listed per op.
import { useEffect, useState, type FormEvent } from 'react';
import { ADVISORY_DATA_CREDIT } from '../../shared/findings.ts';
import { useWorkbench } from '../store.ts';

const VERSION = /^\d{1,4}(\.\d{1,6}){0,3}([-_.]?(a|b|rc)\d{0,4})?$/;

export function RuntimeSetting() {
  const view = useWorkbench((s) => s.view)!;
  const busy = useWorkbench((s) => s.busy);
  const setRuntime = useWorkbench((s) => s.setRuntime);
  const assessed = view.report.analysis.tensorflowRuntime ?? null;
  const [text, setText] = useState(assessed ?? '');
  useEffect(() => setText(assessed ?? ''), [assessed]);
  const value = text.trim();
  const valid = value === '' || VERSION.test(value);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!valid || busy) return;
    void setRuntime(value === '' ? null : value);
  };
  return (
    <form className="runtime-setting" onSubmit={submit} title={`Known TensorFlow kernel advisories. ${ADVISORY_DATA_CREDIT}.`}>
      <label htmlFor="tf-runtime" className="ckpt-label">
        TensorFlow runtime
      </label>
      <input
        id="tf-runtime"
        type="search"
        inputMode="decimal"
        placeholder="e.g. 2.11.0"
        value={text}
        aria-invalid={!valid}
        data-testid="tf-runtime"
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" className="btn small" disabled={!valid || busy !== null || value === (assessed ?? '')} data-testid="tf-runtime-apply">
        {value === '' && assessed ? 'Clear' : 'Assess'}
      </button>
      <span className="muted small" data-testid="tf-runtime-state">
        {assessed ? `assessed for TensorFlow ${assessed}` : 'not set: advisories listed per op'}
      </span>
    </form>
  );
}
