// Every reader fails the same way: a ModelError that names the file and the reason.
// Readers never let a RangeError or a protobufjs exception escape with no file name.

export class ModelError extends Error {
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ModelError';
    this.file = file;
    this.reason = reason;
  }
}

/** Limits applied to hostile input. Generous for real models, fatal for bombs. */
export const LIMITS = {
  /** Largest protobuf file (saved_model.pb, .meta, .pb) read into memory. */
  maxProtoBytes: 2 * 1024 * 1024 * 1024 - 1,
  /** Largest text-format file. */
  maxTextBytes: 512 * 1024 * 1024,
  /** Nested message depth (protobuf and text format). */
  maxNestingDepth: 100,
  maxNodes: 20_000_000,
  maxFunctions: 1_000_000,
  /** Element count of a tensor decoded into memory for display/evaluation. */
  maxDecodedElements: 1 << 20,
  /** Largest .index file. */
  maxIndexBytes: 1024 * 1024 * 1024,
  /** Largest single tensor read from a data shard. */
  maxTensorReadBytes: 256 * 1024 * 1024,
  /** Largest JSON config (Keras). */
  maxJsonBytes: 64 * 1024 * 1024,
  /** Zip: total uncompressed bytes read from one archive, and entries. */
  maxZipUncompressedBytes: 4 * 1024 * 1024 * 1024,
  maxZipEntries: 100_000,
  /** Files listed in a model directory. */
  maxDirectoryEntries: 100_000,
  /** Graphs nested in string constants decoded recursively. */
  maxNestedGraphDepth: 4,
} as const;

/** Wraps an unexpected exception from a parser library into a ModelError for `file`. */
export function asModelError(file: string, error: unknown, what: string): ModelError {
  if (error instanceof ModelError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ModelError(file, `${what}: ${message}`);
}
