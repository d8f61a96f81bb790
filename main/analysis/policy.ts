// Op allowlist policies, as TensorFlow's security guidance suggests for running untrusted
// models: the auditor names the ops a model may use; every other op is a finding.
//
// File format (JSON):
//   { "name": "strict-inference", "description": "…",
//     "allow": ["MatMul", "AddV2", …], "allowPatterns": ["^Stateless.*"] }
import { readFileSync, statSync } from 'node:fs';
import { isTensorFlowOp } from './op-registry.ts';

export interface OpPolicy {
  name: string;
  description: string;
  /** The file it was read from ('' for policies built in memory). */
  file: string;
  allow: ReadonlySet<string>;
  allowPatterns: readonly RegExp[];
  /** Non-fatal remarks, e.g. allowed names that are not TensorFlow ops (likely typos). */
  warnings: string[];
}

export class PolicyError extends Error {
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'PolicyError';
    this.file = file;
    this.reason = reason;
  }
}

const MAX_POLICY_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 100_000;
const MAX_PATTERN_LENGTH = 500;
const OP_NAME = /^[A-Za-z0-9_>.-]+$/;
const KNOWN_KEYS = new Set(['name', 'description', 'allow', 'allowPatterns']);

function stringList(file: string, value: unknown, key: string): string[] {
  if (!Array.isArray(value)) throw new PolicyError(file, `"${key}" must be an array of strings`);
  if (value.length > MAX_ENTRIES) throw new PolicyError(file, `"${key}" has ${value.length} entries (limit ${MAX_ENTRIES})`);
  return value.map((item, index) => {
    if (typeof item !== 'string') throw new PolicyError(file, `"${key}[${index}]" must be a string, found ${item === null ? 'null' : typeof item}`);
    return item;
  });
}

/** Validate an already parsed policy object; `file` names its origin in errors. */
export function parseOpPolicy(data: unknown, file: string): OpPolicy {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PolicyError(file, 'a policy must be a JSON object with "name", "description" and "allow"');
  }
  const record = data as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KNOWN_KEYS.has(key)) throw new PolicyError(file, `unknown key "${key}" (expected name, description, allow, allowPatterns)`);
  }
  if (typeof record.name !== 'string' || record.name.trim() === '') throw new PolicyError(file, '"name" must be a non-empty string');
  if (record.description !== undefined && typeof record.description !== 'string') throw new PolicyError(file, '"description" must be a string');
  if (record.allow === undefined) throw new PolicyError(file, '"allow" is missing: list the op names the model may use');

  const allow = stringList(file, record.allow, 'allow');
  allow.forEach((op, index) => {
    if (!OP_NAME.test(op)) throw new PolicyError(file, `"allow[${index}]" is not an op name: ${JSON.stringify(op)}`);
  });

  const patternSources = record.allowPatterns === undefined ? [] : stringList(file, record.allowPatterns, 'allowPatterns');
  const allowPatterns = patternSources.map((source, index) => {
    if (source.length > MAX_PATTERN_LENGTH) throw new PolicyError(file, `"allowPatterns[${index}]" is longer than ${MAX_PATTERN_LENGTH} characters`);
    try {
      return new RegExp(source, 'u');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new PolicyError(file, `"allowPatterns[${index}]" is not a valid regular expression: ${message}`);
    }
  });

  const warnings: string[] = [];
  const unknown = allow.filter((op) => !isTensorFlowOp(op));
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 20).join(', ');
    warnings.push(`${file}: ${unknown.length} allowed name(s) are not TensorFlow ops (typo, or a custom op being allowed on purpose): ${shown}${unknown.length > 20 ? ', …' : ''}`);
  }

  return {
    name: record.name.trim(),
    description: typeof record.description === 'string' ? record.description : '',
    file,
    allow: new Set(allow),
    allowPatterns,
    warnings,
  };
}

/** Read and validate a policy file. Throws PolicyError naming the file and the reason. */
export function loadOpPolicy(file: string): OpPolicy {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PolicyError(file, code === 'ENOENT' ? 'policy file not found' : `cannot read policy file (${code ?? String(error)})`);
  }
  if (size > MAX_POLICY_BYTES) throw new PolicyError(file, `policy file is ${size} bytes (limit ${MAX_POLICY_BYTES})`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PolicyError(file, `cannot read policy file (${code ?? String(error)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new PolicyError(file, `not valid JSON: ${message}`);
  }
  return parseOpPolicy(data, file);
}

/** True when the policy allows the op (listed by name or matched by a pattern). */
export function policyAllows(policy: OpPolicy, op: string): boolean {
  if (policy.allow.has(op)) return true;
  return policy.allowPatterns.some((pattern) => pattern.test(op));
}

export interface PolicyViolation<T> {
  op: string;
  /** Whatever the caller recorded for the op (e.g. the nodes that use it). */
  uses: T;
}

/** Ops used by the model that the policy does not allow, sorted by op name. */
export function policyViolations<T>(policy: OpPolicy, opsUsed: ReadonlyMap<string, T>): PolicyViolation<T>[] {
  const out: PolicyViolation<T>[] = [];
  for (const [op, uses] of opsUsed) if (!policyAllows(policy, op)) out.push({ op, uses });
  return out.sort((a, b) => (a.op < b.op ? -1 : a.op > b.op ? 1 : 0));
}
