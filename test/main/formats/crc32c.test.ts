// crc32c against the published check values and against the masked crcs TensorFlow stored in
// real tensor bundles (../shared/corpus/real/FACTS.json: crc32c_masked of every entry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crc32c, maskCrc, unmaskCrc } from '../../../main/formats/crc32c.ts';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test('crc32c matches the RFC 3720 / iSCSI check values', () => {
  assert.equal(crc32c(ascii('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('crc32c extends: crc(a ++ b) = crc(b, crc(a)) for every split point', () => {
  const data = Uint8Array.from({ length: 97 }, (_, i) => (i * 37 + 11) & 0xff);
  const whole = crc32c(data);
  for (let split = 0; split <= data.length; split++) {
    assert.equal(crc32c(data.subarray(split), crc32c(data.subarray(0, split))), whole);
  }
});

test('maskCrc / unmaskCrc are inverse and match LevelDB masking', () => {
  for (const v of [0, 1, 0xffffffff, 0x12345678, 0xe3069283]) assert.equal(unmaskCrc(maskCrc(v)), v);
  // LevelDB: rot15 + 0xa282ead8.
  assert.equal(maskCrc(0), 0xa282ead8);
  assert.notEqual(maskCrc(0x12345678), 0x12345678);
});

test('masked crc32c of the 0.5f bytes equals the crc TensorFlow stored for half_plus_two "a"', { skip: skipWithoutCorpus }, () => {
  const data = readFileSync(real('serving_saved_model_half_plus_two_cpu', '00000123', 'variables', 'variables.data-00000-of-00001'));
  // FACTS.json: key "a" offset 0 size 4 crc32c_masked 522663942.
  assert.equal(maskCrc(crc32c(data.subarray(0, 4))), 522663942);
  assert.equal(maskCrc(crc32c(Uint8Array.from(new Uint8Array(new Float32Array([0.5]).buffer)))), 522663942);
  // "b" = 2.0 at offset 8: 1333329168; "c" = 3.0 at offset 12: 3280131823.
  assert.equal(maskCrc(crc32c(data.subarray(8, 12))), 1333329168);
  assert.equal(maskCrc(crc32c(data.subarray(12, 16))), 3280131823);
});
