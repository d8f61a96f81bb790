// Option parsers shared by the tfaudit subcommands.
import { InvalidArgumentError } from 'commander';
import { parseVersion } from '../analysis/advisories.ts';

/** Repeatable option: `--checkpoint A --checkpoint B` → ['A', 'B']. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Repeatable `--checkpoint-map OLD=NEW`: checkpoint scope OLD restores the model's scope NEW. */
export function collectScopeRemap(value: string, previous: string[]): string[] {
  if (!value.includes('=')) throw new InvalidArgumentError('expected OLD=NEW (checkpoint scope = model scope, e.g. tower0/=model/)');
  return [...previous, value];
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/** `--tf-runtime 2.11.0`: a TensorFlow release as PyPI spells it (pre-releases such as 2.4.0rc1 too). */
export function tensorflowVersion(value: string): string {
  const v = parseVersion(value);
  if (!v || v.post) throw new InvalidArgumentError('must be a TensorFlow release such as 2.11.0 or 2.4.0rc1');
  return v.text;
}
