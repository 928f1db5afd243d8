import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset } from '../../src/data/dataset';
import {
  applyScaling,
  defaultScaling,
  fitScaling,
  meanColumnVariance,
  scaleDataset,
  splitValidation,
  subsetIndices,
  unscaleValues,
} from '../../src/data/scaling';
import { expectUserError, rows } from './data-testkit';

const make = (data: number[][], sourceType: Dataset['sourceType'] = 'float32'): Dataset => ({
  values: Float32Array.from(data.flat()),
  n: data.length,
  dim: data[0]!.length,
  sourceType,
  source: 'test',
});

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('scaling: default is unit for uint8 sources and none otherwise', () => {
  assert.equal(defaultScaling({ sourceType: 'uint8' }), 'unit');
  for (const t of ['float32', 'float64', 'int', 'text'] as const) assert.equal(defaultScaling({ sourceType: t }), 'none');
  const img = scaleDataset(make([[0, 51, 255]], 'uint8'));
  assert.deepEqual(Array.from(img.values), [0, Math.fround(0.2), 1]);
  assert.equal(img.scaling.kind, 'unit');
  const f = scaleDataset(make([[0, 51, 255]]));
  assert.deepEqual(Array.from(f.values), [0, 51, 255]);
  assert.equal(f.scaling.kind, 'none');
});

test('scaling: standardize gives zero mean, unit variance; constant columns become 0, never NaN', () => {
  const ds = make([
    [1, 10, 5],
    [2, 20, 5],
    [3, 30, 5],
    [4, 40, 5],
  ]);
  const s = scaleDataset(ds, 'standardize');
  for (let d = 0; d < 3; d++) {
    const col = rows(s).map((r) => r[d]!);
    const mean = col.reduce((a, b) => a + b, 0) / col.length;
    const variance = col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length;
    close(mean, 0);
    close(variance, d === 2 ? 0 : 1, 1e-5);
  }
  assert.ok(s.values.every((v) => Number.isFinite(v)));
  assert.deepEqual(Array.from(ds.values.subarray(0, 3)), [1, 10, 5], 'not in place: input unchanged');
  // A float column that is constant but not exactly representable as its float64 mean.
  const awkward = scaleDataset(make([[0.1], [0.1], [0.1]]), 'standardize');
  assert.deepEqual(Array.from(awkward.values), [0, 0, 0]);
});

test('scaling: center, minmax (constant column safe), and unscale round trip', () => {
  const ds = make([
    [1, -2, 7],
    [3, 2, 7],
  ]);
  assert.deepEqual(rows(scaleDataset(ds, 'center')), [
    [-1, -2, 0],
    [1, 2, 0],
  ]);
  const mm = scaleDataset(ds, 'minmax');
  assert.deepEqual(rows(mm), [
    [0, 0, 0],
    [1, 1, 0],
  ]);
  for (const kind of ['standardize', 'center', 'minmax', 'unit', 'none'] as const) {
    const scaled = scaleDataset(ds, kind);
    const back = unscaleValues(scaled.values.slice(), ds.dim, scaled.scaling);
    back.forEach((v, i) => close(v, ds.values[i]!, 1e-5));
  }
});

test('scaling: parameters fitted on train apply unchanged to validation; inPlace writes the input', () => {
  const train = make([[0], [10]]);
  const params = fitScaling(train, 'minmax');
  const validation = applyScaling(make([[5], [20]]), params);
  assert.deepEqual(Array.from(validation.values), [0.5, 2]);
  const mine = make([[2], [4]]);
  const out = applyScaling(mine, fitScaling(mine, 'center'), { inPlace: true });
  assert.equal(out.values, mine.values);
  assert.deepEqual(Array.from(mine.values), [-1, 1]);
});

test('split: seeded, disjoint, complete, sizes round(n * fraction)', () => {
  const n = 1000;
  const ds = make(Array.from({ length: n }, (_, i) => [i, -i]));
  const a = splitValidation(ds, 0.2, 3);
  assert.equal(a.validation!.n, 200);
  assert.equal(a.train.n, 800);
  assert.equal(a.train.values.length, 1600);
  const ids = [...rows(a.train), ...rows(a.validation!)].map((r) => {
    assert.equal(r[1], -r[0]!, 'rows stay whole');
    return r[0]!;
  });
  assert.deepEqual(
    ids.slice().sort((x, y) => x - y),
    Array.from({ length: n }, (_, i) => i),
  );
  const b = splitValidation(ds, 0.2, 3);
  assert.deepEqual(rows(b.validation!), rows(a.validation!), 'same seed, same split');
  const c = splitValidation(ds, 0.2, 4);
  assert.notDeepEqual(rows(c.validation!), rows(a.validation!));
  // Not from the end only: the held-out rows come from all over.
  assert.ok(rows(a.validation!).some((r) => r[0]! < n / 2));
  assert.deepEqual(Array.from(ds.values.subarray(0, 4)), [0, -0, 1, -1], 'input unchanged without inPlace');
  assert.equal(splitValidation(ds, 0, 3).validation, undefined);
});

test('split: in place shares one buffer; too few rows is a UserError on data.validation', () => {
  const ds = make([[1], [2], [3], [4]]);
  const s = splitValidation(ds, 0.5, 1, { inPlace: true });
  assert.equal(s.train.values.buffer, ds.values.buffer);
  assert.equal(s.validation!.values.buffer, ds.values.buffer);
  expectUserError(() => splitValidation(make([[1]]), 0.5, 1), /would hold out the only row and leave none to train on/, { field: 'data.validation' });
  expectUserError(() => splitValidation(ds, 1.5, 1), /\[0, 1\)/, { field: 'data.validation' });
});

test('subsetIndices: k distinct sorted indices, seeded; all when k >= n', () => {
  const s = subsetIndices(100, 10, 5);
  assert.equal(s.length, 10);
  assert.equal(new Set(s).size, 10);
  for (let i = 1; i < s.length; i++) assert.ok(s[i]! > s[i - 1]!);
  assert.ok(s.every((i) => i < 100));
  assert.deepEqual(subsetIndices(100, 10, 5), s);
  assert.notDeepEqual(subsetIndices(100, 10, 6), s);
  assert.deepEqual(Array.from(subsetIndices(4, 9, 1)), [0, 1, 2, 3]);
  assert.equal(subsetIndices(10, 0, 1).length, 0);
});

test('subsetIndices: fewer points are a subset of more, and not simply the first rows', () => {
  const small = subsetIndices(1000, 50, 9);
  const large = new Set(subsetIndices(1000, 400, 9));
  assert.ok(small.every((i) => large.has(i)));
  assert.ok(small[small.length - 1]! >= 50, 'spread over the data, not rows 0..49');
});

test('meanColumnVariance is exact for data far from zero (two passes, no sum-of-squares cancellation)', () => {
  const n = 1000;
  const dim = 3;
  const values = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) values[i * dim + d] = 1e6 * (d + 1) + ((i * 7 + d * 13) % 17) / 4;
  let want = 0;
  for (let d = 0; d < dim; d++) {
    const col = Array.from({ length: n }, (_, i) => values[i * dim + d]!);
    const mean = col.reduce((a, b) => a + b, 0) / n;
    want += col.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  }
  want /= dim;
  const got = meanColumnVariance({ values, n, dim });
  assert.ok(Math.abs(got - want) <= 1e-9 * want, `${got} against ${want}`);
});
