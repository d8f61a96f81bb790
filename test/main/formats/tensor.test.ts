// Tensor values: raw little-endian content of every dtype, TensorProto typed fields, limits.
// Expected values are computed independently (DataView writes, IEEE bit patterns by hand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bfloat16ToFloat, decodeTensorContent, dtypeName, dtypeSize, dtypeValue, elementCount, halfToFloat,
  tensorProtoToIR, tensorValuesAsText,
} from '../../../main/formats/tensor.ts';
import { LIMITS, ModelError } from '../../../main/formats/errors.ts';

function bytesOf(size: number, write: (view: DataView) => void): Uint8Array {
  const buf = new Uint8Array(size);
  write(new DataView(buf.buffer));
  return buf;
}

test('dtype names, reference types and sizes follow types.proto', () => {
  assert.equal(dtypeName(1), 'DT_FLOAT');
  assert.equal(dtypeName(19), 'DT_HALF');
  assert.equal(dtypeName(101), 'DT_FLOAT_REF');
  assert.equal(dtypeName(120), 'DT_RESOURCE_REF');
  assert.equal(dtypeName(0), 'DT_INVALID');
  assert.equal(dtypeName(77), 'DT_UNKNOWN_77');
  assert.equal(dtypeName(-3), 'DT_UNKNOWN_-3');
  assert.equal(dtypeValue('DT_BFLOAT16'), 14);
  assert.equal(dtypeValue('DT_UINT64_REF'), 123);
  assert.equal(dtypeValue('DT_NOPE'), null);
  assert.equal(dtypeSize('DT_COMPLEX128'), 16);
  assert.equal(dtypeSize('DT_FLOAT_REF'), 4);
  assert.equal(dtypeSize('DT_STRING'), null);
  assert.equal(dtypeSize('DT_RESOURCE'), null);
});

test('elementCount: unknown dims and shapes give null, scalars 1', () => {
  assert.equal(elementCount([]), 1);
  assert.equal(elementCount([2, 3, 4]), 24);
  assert.equal(elementCount([2, -1]), null);
  assert.equal(elementCount(null), null);
  assert.equal(elementCount([0, 5]), 0);
});

test('half and bfloat16 bit patterns', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x3800), 0.5);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.equal(bfloat16ToFloat(0x3f80), 1);
  assert.equal(bfloat16ToFloat(0xc040), -3);
  assert.equal(bfloat16ToFloat(0x4049), 3.140625);
});

test('decodeTensorContent decodes every numeric dtype little-endian', () => {
  const f32 = decodeTensorContent('DT_FLOAT', [2], bytesOf(8, (v) => { v.setFloat32(0, 0.5, true); v.setFloat32(4, -2, true); }), 'f');
  assert.deepEqual(f32.values, { kind: 'number', values: [0.5, -2] });
  assert.equal(f32.elementCount, 2);
  const f64 = decodeTensorContent('DT_DOUBLE', [1], bytesOf(8, (v) => v.setFloat64(0, Math.PI, true)), 'f');
  assert.deepEqual(f64.values, { kind: 'number', values: [Math.PI] });
  const i64 = decodeTensorContent('DT_INT64', [2], bytesOf(16, (v) => { v.setBigInt64(0, -5n, true); v.setBigInt64(8, 2n ** 40n, true); }), 'f');
  assert.deepEqual(i64.values, { kind: 'number', values: [-5, 2 ** 40] });
  const u64 = decodeTensorContent('DT_UINT64', [1], bytesOf(8, (v) => v.setBigUint64(0, 2n ** 52n + 3n, true)), 'f');
  assert.deepEqual(u64.values, { kind: 'number', values: [2 ** 52 + 3] });
  const i8 = decodeTensorContent('DT_INT8', [3], Uint8Array.from([0xff, 0x7f, 0x80]), 'f');
  assert.deepEqual(i8.values, { kind: 'number', values: [-1, 127, -128] });
  const u8 = decodeTensorContent('DT_UINT8', [2], Uint8Array.from([0xff, 1]), 'f');
  assert.deepEqual(u8.values, { kind: 'number', values: [255, 1] });
  const i16 = decodeTensorContent('DT_INT16', [1], bytesOf(2, (v) => v.setInt16(0, -300, true)), 'f');
  assert.deepEqual(i16.values, { kind: 'number', values: [-300] });
  const u16 = decodeTensorContent('DT_UINT16', [1], bytesOf(2, (v) => v.setUint16(0, 60000, true)), 'f');
  assert.deepEqual(u16.values, { kind: 'number', values: [60000] });
  const i32 = decodeTensorContent('DT_INT32_REF', [1], bytesOf(4, (v) => v.setInt32(0, -7, true)), 'f');
  assert.deepEqual(i32.values, { kind: 'number', values: [-7] });
  assert.equal(i32.dtype, 'DT_INT32_REF');
  const u32 = decodeTensorContent('DT_UINT32', [1], bytesOf(4, (v) => v.setUint32(0, 4e9, true)), 'f');
  assert.deepEqual(u32.values, { kind: 'number', values: [4e9] });
  const half = decodeTensorContent('DT_HALF', [2], bytesOf(4, (v) => { v.setUint16(0, 0x3c00, true); v.setUint16(2, 0xc000, true); }), 'f');
  assert.deepEqual(half.values, { kind: 'number', values: [1, -2] });
  const bf = decodeTensorContent('DT_BFLOAT16', [1], bytesOf(2, (v) => v.setUint16(0, 0x3f80, true)), 'f');
  assert.deepEqual(bf.values, { kind: 'number', values: [1] });
  const c64 = decodeTensorContent('DT_COMPLEX64', [1], bytesOf(8, (v) => { v.setFloat32(0, 1.5, true); v.setFloat32(4, -1, true); }), 'f');
  assert.deepEqual(c64.values, { kind: 'complex', values: [1.5, -1] });
  const c128 = decodeTensorContent('DT_COMPLEX128', [1], bytesOf(16, (v) => { v.setFloat64(0, 2, true); v.setFloat64(8, 3, true); }), 'f');
  assert.deepEqual(c128.values, { kind: 'complex', values: [2, 3] });
  const bool = decodeTensorContent('DT_BOOL', [3], Uint8Array.from([0, 1, 2]), 'f');
  assert.deepEqual(bool.values, { kind: 'bool', values: [false, true, true] });
  const e4m3 = decodeTensorContent('DT_FLOAT8_E4M3FN', [3], Uint8Array.from([0x38, 0xc0, 0x7e]), 'f');
  assert.deepEqual(e4m3.values, { kind: 'number', values: [1, -2, 448] });
  const e5m2 = decodeTensorContent('DT_FLOAT8_E5M2', [2], Uint8Array.from([0x3c, 0x7c]), 'f');
  assert.deepEqual(e5m2.values, { kind: 'number', values: [1, Infinity] });
  const int4 = decodeTensorContent('DT_INT4', [2], Uint8Array.from([0x0f, 0x07]), 'f');
  assert.deepEqual(int4.values, { kind: 'number', values: [-1, 7] });
  const str = decodeTensorContent('DT_STRING', [1], Uint8Array.from([1]), 'f');
  assert.equal(str.values.kind, 'unsupported');
});

test('decodeTensorContent: a size mismatch is a ModelError naming the file', () => {
  assert.throws(() => decodeTensorContent('DT_FLOAT', [3], new Uint8Array(8), 'model/x.pb'), (e: unknown) => {
    assert.ok(e instanceof ModelError);
    assert.equal(e.file, 'model/x.pb');
    assert.match(e.reason, /needs 12 bytes, found 8/);
    return true;
  });
  assert.throws(() => decodeTensorContent('DT_FLOAT', null, new Uint8Array(7), 'f'), ModelError);
  const unknownShape = decodeTensorContent('DT_INT32', [-1], new Uint8Array(8), 'f');
  assert.deepEqual(unknownShape.values, { kind: 'number', values: [0, 0] });
});

test('decodeTensorContent stops at LIMITS.maxDecodedElements and marks truncation', () => {
  const limit = LIMITS.maxDecodedElements;
  const huge = [limit * 4];
  const prefix = new Uint8Array(limit);
  prefix[limit - 1] = 9;
  const t = decodeTensorContent('DT_UINT8', huge, prefix, 'f');
  assert.equal(t.truncated, true);
  assert.equal(t.elementCount, limit * 4);
  assert.equal((t.values as { values: number[] }).values.length, limit);
  assert.equal((t.values as { values: number[] }).values[limit - 1], 9);
  // Absurd shapes with no data are an error, never an allocation.
  assert.throws(() => decodeTensorContent('DT_FLOAT', [2 ** 40, 2 ** 40], new Uint8Array(4), 'f'), ModelError);
});

test('tensorProtoToIR reads the typed repeated fields as stored (no last-value expansion)', () => {
  const shape = (dims: number[]) => ({ dim: dims.map((size) => ({ size })) });
  const f = tensorProtoToIR({ dtype: 1, tensor_shape: shape([2, 2]), float_val: [0.5] }, 'f');
  assert.deepEqual(f, { dtype: 'DT_FLOAT', shape: [2, 2], elementCount: 4, values: { kind: 'number', values: [0.5] } });
  const half = tensorProtoToIR({ dtype: 19, tensor_shape: shape([2]), half_val: [0x3c00, 0x3800] }, 'f');
  assert.deepEqual(half.values, { kind: 'number', values: [1, 0.5] });
  const bf = tensorProtoToIR({ dtype: 14, tensor_shape: shape([1]), half_val: [0x4049] }, 'f');
  assert.deepEqual(bf.values, { kind: 'number', values: [3.140625] });
  const i64 = tensorProtoToIR({ dtype: 9, tensor_shape: shape([2]), int64_val: [{ low: -1, high: -1 }, '12'] }, 'f');
  assert.deepEqual(i64.values, { kind: 'number', values: [-1, 12] });
  const s = tensorProtoToIR({ dtype: 7, tensor_shape: shape([]), string_val: [Buffer.from('hi')] }, 'f');
  assert.deepEqual(s.values, { kind: 'string', values: [Uint8Array.from([104, 105])] });
  assert.equal((s.values as { values: Uint8Array[] }).values[0]!.constructor, Uint8Array);
  const b = tensorProtoToIR({ dtype: 10, bool_val: [true, false] }, 'f');
  assert.equal(b.shape, null);
  assert.equal(b.elementCount, null);
  assert.deepEqual(b.values, { kind: 'bool', values: [true, false] });
  const content = tensorProtoToIR({ dtype: 3, tensor_shape: shape([2]), tensor_content: bytesOf(8, (v) => { v.setInt32(0, 1, true); v.setInt32(4, -1, true); }) }, 'f');
  assert.deepEqual(content.values, { kind: 'number', values: [1, -1] });
  const resource = tensorProtoToIR({ dtype: 20, resource_handle_val: [{ container: 'c', name: 'v' }] }, 'f');
  assert.deepEqual(resource.values, { kind: 'unsupported', reason: 'resource handle c/v' });
  const badContent = tensorProtoToIR({ dtype: 1, tensor_shape: shape([5]), tensor_content: new Uint8Array(3) }, 'f');
  assert.equal(badContent.values.kind, 'unsupported');
  const negative = tensorProtoToIR({ dtype: 1, tensor_shape: shape([-7, 2]), float_val: [1] }, 'f');
  assert.deepEqual(negative.shape, [-1, 2]);
  assert.equal(negative.elementCount, null);
  const named = tensorProtoToIR({ dtype: 'DT_DOUBLE', double_val: [2] }, 'f');
  assert.equal(named.dtype, 'DT_DOUBLE');
});

test('tensorValuesAsText shows the first values and the total', () => {
  const t = tensorProtoToIR({ dtype: 1, tensor_shape: { dim: [{ size: 20 }] }, tensor_content: new Uint8Array(80) }, 'f');
  assert.equal(tensorValuesAsText(t, 3), '[0, 0, 0, … (20 total)]');
  assert.equal(tensorValuesAsText(tensorProtoToIR({ dtype: 1, tensor_shape: { dim: [] }, float_val: [0.5] }, 'f')), '0.5');
  const s = tensorProtoToIR({ dtype: 7, tensor_shape: { dim: [{ size: 1 }] }, string_val: [Uint8Array.from([0x61, 0x0a, 0x00])] }, 'f');
  assert.equal(tensorValuesAsText(s), '["a\\n\\x00"]');
});
