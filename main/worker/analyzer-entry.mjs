// Plain-JS launcher for the analyzer worker: registers tsx, then loads the TypeScript entry.
// Lets the worker start as `node analyzer-entry.mjs` with no loader flags (e.g. inside bwrap).
import { register } from 'tsx/esm/api';
register();
await import('./analyzer.ts');
