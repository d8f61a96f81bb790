// Types of scripts/gen-advisories.mjs for the TypeScript callers (tests).
import type { Advisory } from '../main/analysis/advisories.ts';

export interface AdvisoryTable {
  source: string;
  license: string;
  credit: string;
  package: string;
  dataAsOf: string;
  advisories: Advisory[];
}

export const DEFAULT_SOURCE: string;
export const DEFAULT_OUTPUT: string;
export class YamlError extends Error {}
export function parseYaml(text: string, file: string): unknown;
export function opsNamed(details: string, registry: Set<string>): string[];
export function classify(details: string): Advisory['class'];
export function componentOf(details: string): Advisory['component'];
export function rangesOf(record: unknown, file: string): { introduced: string; fixed: string | null }[];
export function advisoryFromRecord(record: unknown, registry: Set<string>, file: string): Advisory & { modified: string };
export function buildAdvisoryTable(sourceDir?: string, registryFile?: string): AdvisoryTable;
export function serialise(table: AdvisoryTable): string;
