// TensorFlow's Fingerprint64: FarmHash's farmhashna::Hash64, the stable 64-bit hash behind
// fingerprint.pb (checkpoint_hash = Fingerprint64 of variables/variables.index) and the op
// StringToHashBucketFast (Fingerprint64(s) mod num_buckets). All arithmetic is mod 2^64.

const MASK = (1n << 64n) - 1n;
const K0 = 0xc3a5c85c97cb3127n;
const K1 = 0xb492b66fbe98f273n;
const K2 = 0x9ae16a3b2f90404fn;

const u64 = (x: bigint) => x & MASK;
const mul = (a: bigint, b: bigint) => (a * b) & MASK;
const add = (...xs: bigint[]) => xs.reduce((s, x) => s + x, 0n) & MASK;
const rotate = (v: bigint, shift: number) => (shift === 0 ? v : u64((v >> BigInt(shift)) | (v << BigInt(64 - shift))));
const shiftMix = (v: bigint) => v ^ (v >> 47n);

function fetch64(s: Uint8Array, i: number): bigint {
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(s[i + k]!);
  return v;
}

function fetch32(s: Uint8Array, i: number): bigint {
  return BigInt((s[i]! | (s[i + 1]! << 8) | (s[i + 2]! << 16) | (s[i + 3]! << 24)) >>> 0);
}

function hashLen16(u: bigint, v: bigint, m: bigint): bigint {
  let a = mul(u ^ v, m);
  a ^= a >> 47n;
  let b = mul(v ^ a, m);
  b ^= b >> 47n;
  return mul(b, m);
}

function hashLen0to16(s: Uint8Array, len: number): bigint {
  if (len >= 8) {
    const m = add(K2, BigInt(len * 2));
    const a = add(fetch64(s, 0), K2);
    const b = fetch64(s, len - 8);
    const c = add(mul(rotate(b, 37), m), a);
    const d = mul(add(rotate(a, 25), b), m);
    return hashLen16(c, d, m);
  }
  if (len >= 4) {
    const m = add(K2, BigInt(len * 2));
    const a = fetch32(s, 0);
    return hashLen16(add(BigInt(len), a << 3n), fetch32(s, len - 4), m);
  }
  if (len > 0) {
    const a = BigInt(s[0]!);
    const b = BigInt(s[len >> 1]!);
    const c = BigInt(s[len - 1]!);
    const y = (a + (b << 8n)) & 0xffffffffn;
    const z = (BigInt(len) + (c << 2n)) & 0xffffffffn;
    return mul(shiftMix(mul(y, K2) ^ mul(z, K0)), K2);
  }
  return K2;
}

function hashLen17to32(s: Uint8Array, len: number): bigint {
  const m = add(K2, BigInt(len * 2));
  const a = mul(fetch64(s, 0), K1);
  const b = fetch64(s, 8);
  const c = mul(fetch64(s, len - 8), m);
  const d = mul(fetch64(s, len - 16), K2);
  return hashLen16(add(rotate(add(a, b), 43), rotate(c, 30), d), add(a, rotate(add(b, K2), 18), c), m);
}

function hashLen33to64(s: Uint8Array, len: number): bigint {
  const m = add(K2, BigInt(len * 2));
  const a = mul(fetch64(s, 0), K2);
  const b = fetch64(s, 8);
  const c = mul(fetch64(s, len - 8), m);
  const d = mul(fetch64(s, len - 16), K2);
  const y = add(rotate(add(a, b), 43), rotate(c, 30), d);
  const z = hashLen16(y, add(a, rotate(add(b, K2), 18), c), m);
  const e = mul(fetch64(s, 16), m);
  const f = fetch64(s, 24);
  const g = mul(add(y, fetch64(s, len - 32)), m);
  const h = mul(add(z, fetch64(s, len - 24)), m);
  return hashLen16(add(rotate(add(e, f), 43), rotate(g, 30), h), add(e, rotate(add(f, a), 18), g), m);
}

function weakHashLen32WithSeeds(s: Uint8Array, i: number, a: bigint, b: bigint): [bigint, bigint] {
  const w = fetch64(s, i);
  const x = fetch64(s, i + 8);
  const y = fetch64(s, i + 16);
  const z = fetch64(s, i + 24);
  a = add(a, w);
  b = rotate(add(b, a, z), 21);
  const c = a;
  a = add(a, x, y);
  b = add(b, rotate(a, 44));
  return [add(a, z), add(b, c)];
}

/** Fingerprint64 of a byte string, as TensorFlow computes it (unsigned 64-bit). */
export function fingerprint64(s: Uint8Array): bigint {
  const len = s.length;
  if (len <= 16) return hashLen0to16(s, len);
  if (len <= 32) return hashLen17to32(s, len);
  if (len <= 64) return hashLen33to64(s, len);

  const seed = 81n;
  let x = seed;
  let y = add(mul(seed, K1), 113n);
  let z = mul(shiftMix(add(mul(y, K2), 113n)), K2);
  let v: [bigint, bigint] = [0n, 0n];
  let w: [bigint, bigint] = [0n, 0n];
  x = add(mul(x, K2), fetch64(s, 0));
  const end = Math.floor((len - 1) / 64) * 64;
  const last64 = end + ((len - 1) & 63) - 63;
  let i = 0;
  do {
    x = mul(rotate(add(x, y, v[0], fetch64(s, i + 8)), 37), K1);
    y = mul(rotate(add(y, v[1], fetch64(s, i + 48)), 42), K1);
    x ^= w[1];
    y = add(y, v[0], fetch64(s, i + 40));
    z = mul(rotate(add(z, w[0]), 33), K1);
    v = weakHashLen32WithSeeds(s, i, mul(v[1], K1), add(x, w[0]));
    w = weakHashLen32WithSeeds(s, i + 32, add(z, w[1]), add(y, fetch64(s, i + 16)));
    [z, x] = [x, z];
    i += 64;
  } while (i !== end);
  const m = add(K1, (z & 0xffn) << 1n);
  i = last64;
  w[0] = add(w[0], BigInt((len - 1) & 63));
  v[0] = add(v[0], w[0]);
  w[0] = add(w[0], v[0]);
  x = mul(rotate(add(x, y, v[0], fetch64(s, i + 8)), 37), m);
  y = mul(rotate(add(y, v[1], fetch64(s, i + 48)), 42), m);
  x ^= mul(w[1], 9n);
  y = add(y, mul(v[0], 9n), fetch64(s, i + 40));
  z = mul(rotate(add(z, w[0]), 33), m);
  v = weakHashLen32WithSeeds(s, i, mul(v[1], m), add(x, w[0]));
  w = weakHashLen32WithSeeds(s, i + 32, add(z, w[1]), add(y, fetch64(s, i + 16)));
  [z, x] = [x, z];
  return hashLen16(add(hashLen16(v[0], w[0], m), mul(shiftMix(y), K0), z), add(hashLen16(v[1], w[1], m), x), m);
}
