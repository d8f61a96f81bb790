// Types of scripts/build.mjs for the TypeScript callers (tests, `tfaudit serve`).
export function buildRenderer(outDir?: string, options?: { minify?: boolean }): Promise<string>;
export function buildElectron(outDir?: string, options?: { minify?: boolean; only?: ('main' | 'preload' | 'analyzer')[] }): Promise<string>;
export function buildCli(outDir?: string, options?: { minify?: boolean }): Promise<string>;
export function protoSchemaJson(): Promise<unknown>;
export function opRegistryOnePerLine(text: string): string;
export const WORKER_HEAP_MB: number;
