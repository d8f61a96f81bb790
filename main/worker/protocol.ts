// Messages between the analyzer worker and its parent.
import type { AnalyseResult, InspectResult } from './analyse.ts';

export const PROTOCOL_PREFIX = '@@tfaudit-worker ';

export type WorkerMessage =
  | { type: 'progress'; stage: 'parse' | 'analyse'; message: string; fraction?: number | null }
  | { type: 'result'; result: AnalyseResult | InspectResult }
  | { type: 'error'; error: { file: string; message: string } }
  /** Serving mode only: the worker takes its next request; sent at start and after each answer. */
  | { type: 'ready'; rssBytes: number };
