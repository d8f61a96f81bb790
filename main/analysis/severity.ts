// Severity from capability, reachability and trigger. An unsafe capability a checkpoint can
// switch on is critical when a given checkpoint activates it and high when it is dormant under
// all; unconditional capability keeps its base severity (high for real file/network access);
// input-driven at most medium; unreachable (constant false) info; TensorFlow's own saver
// machinery info; dead code low. Resource exhaustion only costs availability: a size or trip
// count that a variable drives but that is modest under every checkpoint examined is low (a
// generation loop bounded by a `max_len` variable is common in benign models); one a given
// checkpoint makes huge is critical, and a huge constant keeps its base (high).
// Environment-driven (clock, randomness, files read at run time): never below the ungated
// severity, at least high for file, network and process access, critical when the gate is
// true now (a time bomb past its date). Unknown never lowers a severity: only a proven
// constant-false gate or proven dead code does.
import type { ActivationState, Capability, Reachability, Severity, TriggerKind } from '../../shared/findings.ts';
import { SEVERITY_RANK } from '../../shared/findings.ts';

export interface SeverityInput {
  base: Severity;
  reachability: Reachability;
  triggerKind: TriggerKind;
  activation: ActivationState[];
  /** Some gate on the way is constant false: the op can never run. */
  constantFalse: boolean;
  saverMachinery: boolean;
  /** Every resolved target is harmless (e.g. the model's own asset files for a reader). */
  benignTargets: boolean;
  /** The capability only threatens availability (resource exhaustion). */
  availabilityOnly?: boolean;
  capability?: Capability;
}

const HOST_ACCESS: ReadonlySet<Capability> = new Set(['file-read', 'file-write', 'filesystem-enumeration', 'network', 'process', 'python-code']);

export function minSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] <= SEVERITY_RANK[b] ? a : b;
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

export function findingSeverity(s: SeverityInput): Severity {
  if (s.constantFalse) return 'info';
  if (s.reachability === 'saver' && s.saverMachinery) return 'info';
  if (s.benignTargets) return 'info';
  if (s.reachability === 'dead') return s.saverMachinery ? 'info' : 'low';
  switch (s.triggerKind) {
    case 'variable':
      if (s.activation.includes('active')) return 'critical';
      if (s.availabilityOnly && !s.activation.includes('unknown')) return 'low';
      return maxSeverity(s.base, 'high');
    case 'environment':
      if (s.activation.includes('active') && !s.availabilityOnly) return 'critical';
      return s.capability && HOST_ACCESS.has(s.capability) ? maxSeverity(s.base, 'high') : s.base;
    case 'input':
      return minSeverity(s.base, 'medium');
    case 'constant':
    case 'none':
      return s.base;
  }
}
