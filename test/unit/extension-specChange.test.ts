import { test } from 'node:test';
import assert from 'node:assert/strict';
import { specChangedSince } from '../../src/core/specChange';

const snapshot = '{\n  // swiss roll\n  "data": { "synthetic": "swiss_roll" },\n  "model": { "latentDim": 2, "type": "VAE-1" }\n}\n';

test('comments, whitespace and key order do not make a run stale', () => {
  const edited = '{"model":{"type":"VAE-1","latentDim":2},/* new comment */ "data":{"synthetic":"swiss_roll"},}';
  assert.equal(specChangedSince(edited, snapshot), false);
  assert.equal(specChangedSince(snapshot, snapshot), false);
});

test('a changed value, an added field or a broken file does', () => {
  assert.equal(specChangedSince(snapshot.replace('"latentDim": 2', '"latentDim": 3'), snapshot), true);
  assert.equal(specChangedSince(snapshot.replace('"VAE-1" }', '"VAE-1", "decoder": { "hidden": [] } }'), snapshot), true);
  assert.equal(specChangedSince(snapshot.replace('}\n', ''), snapshot), true);
});
