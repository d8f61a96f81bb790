// Small shared pieces: severity and state badges, keyboard helpers.
import type { KeyboardEvent } from 'react';
import type { Severity } from '../../shared/findings.ts';
import { STATE_LABEL, type FindingState } from '../verdict.ts';

export function SeverityBadge({ severity }: { severity: Severity }) {
  return (
    <span className={`sev sev-${severity}`} title={`Severity: ${severity}`}>
      {severity}
    </span>
  );
}

/** `quiet`: informational findings (TF's own machinery) are shown without alarm colours. */
export function StateBadge({ state, quiet = false }: { state: FindingState; quiet?: boolean }) {
  const help: Record<FindingState, string> = {
    active: 'The selected checkpoint switches this branch on',
    dormant: 'The selected checkpoint keeps this branch off',
    unconditional: 'Runs whatever the checkpoint holds',
    'input-gated': 'Depends on the inputs given at run time',
    unknown: 'The analysis could not decide the predicate',
  };
  return (
    <span className={`state state-${state}${quiet ? ' state-quiet' : ''}`} title={help[state]} data-state={state}>
      {STATE_LABEL[state]}
    </span>
  );
}

/** Enter/Space activate an element that is not a native button. */
export function onActivate(action: () => void) {
  return (e: KeyboardEvent) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      action();
    }
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
