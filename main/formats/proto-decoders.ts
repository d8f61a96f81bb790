// The protobuf decoders of main/proto generated ahead of time. From the sources this is null and
// protobufjs generates each decoder at run time (main/formats/protobuf.ts); the compiled bundles
// (scripts/build.mjs) get this module replaced by precompiledDecodersModule()'s output for the
// same schema, so a worker compiles no code at run time and V8's code cache covers the decoders.
import type { PrecompiledDecoders } from './protobuf.ts';

export const PRECOMPILED_DECODERS: PrecompiledDecoders | null = null;
