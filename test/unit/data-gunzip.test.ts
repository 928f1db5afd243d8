import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { gunzipIfNeeded } from '../../src/data/loaderCommon';

// gunzipIfNeeded sizes its output buffer from the gzip trailer; these streams make that hint wrong.

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + (i >> 7)) % 251));

test('gunzip: a multi-member file is inflated whole, though its trailer states only the last member', () => {
  const first = bytes(300_000, 7);
  const last = bytes(10, 3);
  const out = gunzipIfNeeded(Buffer.concat([gzipSync(first), gzipSync(last)]), 'm.gz');
  assert.equal(out.length, first.length + last.length);
  assert.ok(out.subarray(0, first.length).equals(first));
  assert.ok(out.subarray(first.length).equals(last));
});

test('gunzip: an output far larger than the size limit allows is refused, not allocated', () => {
  const big = Buffer.alloc(5_000_000, 1);
  assert.throws(() => gunzipIfNeeded(gzipSync(big), 'b.gz', 1000), /expands to more than/);
  assert.equal(gunzipIfNeeded(gzipSync(big), 'b.gz').length, big.length);
});
