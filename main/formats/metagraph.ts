// MetaGraphDef: TF1 `.meta` exports (binary or text) and the meta graphs inside a SavedModel.
// The binary path walks MetaGraphDef's fields itself: graph_def goes through the fast graph
// decoder, the small remaining fields through protobufjs reflection.
import type { GraphIR, MetaGraphIR } from '../../shared/ir.ts';
import { ModelError, asModelError } from './errors.ts';
import { WireReader, wireError, emptyGraph, looksLikeText, noteGraphLikeStrings, readGraphInto, readProtoFile } from './graphdef.ts';
import { checkNesting, protoTypes, put, toMetaGraphIR } from './protobuf.ts';
import { parseTextProto } from './pbtxt.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

function decodeSub(r: WireReader, end: number, type: keyof typeof protoTypes, depth: number): Msg {
  const start = r.length(end);
  checkNesting(protoTypes[type], r.buf, r.file, start, r.pos, depth);
  return protoTypes[type].decode(r.buf.subarray(start, r.pos));
}

/** One map<string, Message> entry: key (field 1) and value (field 2). */
function decodeMapEntry(r: WireReader, end: number, valueType: keyof typeof protoTypes, depth: number): [string, Msg] {
  const start = r.length(end);
  const stop = r.pos;
  r.pos = start;
  let key = '';
  let value: Msg = protoTypes[valueType].create();
  while (r.pos < stop) {
    const tag = r.varint32(stop);
    if (tag >>> 3 === 1 && (tag & 7) === 2) key = r.string(stop);
    else if (tag >>> 3 === 2 && (tag & 7) === 2) value = decodeSub(r, stop, valueType, depth + 1);
    else r.skip(tag & 7, stop);
  }
  r.pos = stop;
  return [key, value];
}

/** Reads MetaGraphDef fields from `r` up to `end` and converts them to IR. */
export function readMetaGraphFields(r: WireReader, end: number, depth = 0): MetaGraphIR {
  const meta: Msg = { collection_def: {}, signature_def: {}, asset_file_def: [] };
  let graph: GraphIR | undefined;
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire !== 2) { r.skip(wire, end); continue; }
    switch (field) {
      case 1: meta.meta_info_def = decodeSub(r, end, 'MetaInfoDef', depth + 1); break;
      case 2: {
        const start = r.length(end);
        const stop = r.pos;
        r.pos = start;
        graph ??= emptyGraph();
        readGraphInto(r, stop, graph, depth + 1);
        r.pos = stop;
        break;
      }
      case 3: meta.saver_def = decodeSub(r, end, 'SaverDef', depth + 1); break;
      case 4: { const [k, v] = decodeMapEntry(r, end, 'CollectionDef', depth + 1); put(meta.collection_def, k, v); break; }
      case 5: { const [k, v] = decodeMapEntry(r, end, 'SignatureDef', depth + 1); put(meta.signature_def, k, v); break; }
      case 6: meta.asset_file_def.push(decodeSub(r, end, 'AssetFileDef', depth + 1)); break;
      case 7: meta.object_graph_def = decodeSub(r, end, 'SavedObjectGraph', depth + 1); break;
      default: r.skip(wire, end);
    }
  }
  return toMetaGraphIR(meta, r.file, graph ?? emptyGraph());
}

/** Binary MetaGraphDef → IR. */
export function decodeMetaGraphDefBytes(bytes: Uint8Array, file: string): MetaGraphIR {
  try {
    const r = new WireReader(bytes, file);
    const meta = readMetaGraphFields(r, bytes.length);
    noteGraphLikeStrings(r, [meta.graph]);
    return meta;
  } catch (error) {
    throw wireError(file, error, 'invalid MetaGraphDef protobuf');
  }
}

export function parseMetaGraphText(text: string, file: string): MetaGraphIR {
  let message: Msg;
  try {
    message = parseTextProto(text, protoTypes.MetaGraphDef, file);
  } catch (error) {
    throw asModelError(file, error, 'invalid text-format MetaGraphDef');
  }
  try {
    return toMetaGraphIR(message, file);
  } catch (error) {
    throw asModelError(file, error, 'invalid text-format MetaGraphDef');
  }
}

/** A TF1 `.meta` file (binary or text format, decided by content). */
export async function readMetaGraph(file: string): Promise<MetaGraphIR> {
  const bytes = await readProtoFile(file, false);
  if (bytes.length === 0) throw new ModelError(file, 'empty MetaGraphDef file');
  if (looksLikeText(bytes)) return parseMetaGraphText(bytes.toString('utf8'), file);
  return decodeMetaGraphDefBytes(bytes, file);
}
