import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SYNTHETIC_KINDS } from '../../src/core/specSchema';
import { generateSynthetic, SYNTHETIC_DIMS, type SyntheticParams } from '../../src/data/synthetic';
import { assertWellFormed, expectUserError } from './data-testkit';

const base = (synthetic: SyntheticParams['synthetic'], extra: Partial<SyntheticParams> = {}): SyntheticParams => ({
  synthetic,
  n: 500,
  noise: 0.05,
  seed: 1,
  dim: synthetic === 'manifold' || synthetic === 'ppca' || synthetic === 'ring' ? 6 : undefined,
  intrinsicDim: undefined,
  ...extra,
});

function radii(values: Float32Array, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.hypot(values[2 * i]!, values[2 * i + 1]!));
}

test('synthetic: every kind has the right shape, is seeded and finite', () => {
  for (const kind of SYNTHETIC_KINDS) {
    const a = generateSynthetic(base(kind));
    assertWellFormed(a);
    assert.equal(a.n, 500, kind);
    const dim = kind === 'manifold' || kind === 'ppca' || kind === 'ring' ? 6 : SYNTHETIC_DIMS[kind];
    assert.equal(a.dim, dim, kind);
    assert.equal(a.sourceType, 'float32');
    assert.match(a.source, new RegExp(`^synthetic ${kind} \\(n=500, noise=0\\.05, seed=1`));
    const again = generateSynthetic(base(kind));
    assert.deepEqual(again.values, a.values, `${kind}: same seed, same data`);
    const other = generateSynthetic(base(kind, { seed: 2 }));
    assert.notDeepEqual(other.values, a.values, `${kind}: another seed, other data`);
  }
  assert.equal(generateSynthetic(base('swiss_roll')).source, 'synthetic swiss_roll (n=500, noise=0.05, seed=1)');
});

test('synthetic: noise-free curves lie exactly on their curves', () => {
  const n = 400;
  const circle = generateSynthetic(base('circle', { noise: 0, n }));
  for (const r of radii(circle.values, n)) assert.ok(Math.abs(r - 1) < 1e-6);

  const eight = generateSynthetic(base('eight_gaussians', { noise: 0, n }));
  const modes = new Set<string>();
  for (let i = 0; i < n; i++) modes.add(`${eight.values[2 * i]!.toFixed(4)},${eight.values[2 * i + 1]!.toFixed(4)}`);
  assert.equal(modes.size, 8);

  const cosine = generateSynthetic(base('cosine', { noise: 0, n }));
  for (let i = 0; i < n; i++) {
    const x = cosine.values[2 * i]!;
    assert.ok(Math.abs(x) <= Math.PI + 1e-6);
    assert.ok(Math.abs(cosine.values[2 * i + 1]! - Math.cos(x)) < 1e-6);
  }

  // Bernoulli's lemniscate with a = 1: (x^2 + y^2)^2 = x^2 - y^2.
  const lem = generateSynthetic(base('lemniscate', { noise: 0, n }));
  for (let i = 0; i < n; i++) {
    const x = lem.values[2 * i]!;
    const y = lem.values[2 * i + 1]!;
    assert.ok(Math.abs((x * x + y * y) ** 2 - (x * x - y * y)) < 1e-6);
  }

  // Swiss roll: radius r = t / (4.5 pi) with t in [1.5 pi, 4.5 pi], so r in [1/3, 1].
  const roll = generateSynthetic(base('swiss_roll', { noise: 0, n }));
  for (const r of radii(roll.values, n)) assert.ok(r >= 1 / 3 - 1e-6 && r <= 1 + 1e-6);

  const helix = generateSynthetic(base('spiral3d', { noise: 0, n }));
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [helix.values[3 * i]!, helix.values[3 * i + 1]!, helix.values[3 * i + 2]!];
    assert.ok(Math.abs(Math.hypot(x, y) - 1) < 1e-6);
    assert.ok(z >= -1 - 1e-6 && z <= 1 + 1e-6);
  }
});

test('synthetic: noise has the requested standard deviation', () => {
  const n = 20000;
  const noisy = generateSynthetic(base('circle', { noise: 0.1, n }));
  let sumSq = 0;
  for (const r of radii(noisy.values, n)) sumSq += (r - 1) ** 2;
  // Radial deviation of isotropic 2-D noise has std ~= noise when noise << radius.
  assert.ok(Math.abs(Math.sqrt(sumSq / n) - 0.1) < 0.005, `radial std ${Math.sqrt(sumSq / n)}`);
});

test('synthetic: manifold of intrinsic dimension 1 is a curve (locally one direction)', () => {
  const ds = generateSynthetic(base('manifold', { noise: 0, n: 300, dim: 5, intrinsicDim: 1 }));
  assertWellFormed(ds);
  // Coordinates vary (not collapsed) with O(1) spread.
  let variance = 0;
  for (let d = 0; d < 5; d++) {
    let m = 0;
    for (let i = 0; i < 300; i++) m += ds.values[i * 5 + d]! / 300;
    for (let i = 0; i < 300; i++) variance += (ds.values[i * 5 + d]! - m) ** 2 / 300;
  }
  assert.ok(variance > 0.05 && variance < 20, `total variance ${variance}`);
  // Same seed gives the same map (and points); a different intrinsicDim gives a different set.
  const k2 = generateSynthetic(base('manifold', { noise: 0, n: 300, dim: 5, intrinsicDim: 2 }));
  assert.notDeepEqual(k2.values, ds.values);
});

test('synthetic: ppca sample covariance approaches W W^T + noise^2 I', () => {
  const D = 5;
  const n = 40000;
  const ds = generateSynthetic(base('ppca', { n, dim: D, intrinsicDim: 2, noise: 0.3, seed: 7 }));
  const truth = ds.truth!.covariance;
  const curves = generateSynthetic(base('circle'));
  assert.equal(curves.truth, undefined, 'only ppca knows its covariance');
  assert.equal(truth.length, D * D);
  const mean = new Float64Array(D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) mean[d] += ds.values[i * D + d]! / n;
  let worst = 0;
  let scale = 0;
  for (let a = 0; a < D; a++) {
    scale = Math.max(scale, truth[a * D + a]!);
    for (let b = 0; b < D; b++) {
      let c = 0;
      for (let i = 0; i < n; i++) c += (ds.values[i * D + a]! - mean[a]!) * (ds.values[i * D + b]! - mean[b]!);
      worst = Math.max(worst, Math.abs(c / n - truth[a * D + b]!));
      assert.equal(truth[a * D + b], truth[b * D + a], 'symmetric');
    }
  }
  // Sampling error of a covariance entry is ~ sqrt(2/n) * variance ~ 0.007 * scale.
  assert.ok(worst < 0.04 * scale, `max |sample - truth| = ${worst}, diagonal scale ${scale}`);
});

test('synthetic: bad parameters name the spec field', () => {
  expectUserError(() => generateSynthetic(base('ppca', { dim: undefined }), { file: 's.vae.json' }), /data\.dim.*required/, {
    file: 's.vae.json',
    field: 'data.dim',
  });
  expectUserError(() => generateSynthetic(base('manifold', { dim: 3, intrinsicDim: 3 })), /smaller than data\.dim/, { field: 'data.intrinsicDim' });
  expectUserError(() => generateSynthetic(base('ppca', { dim: 3, intrinsicDim: 4 })), /cannot exceed/, { field: 'data.intrinsicDim' });
  expectUserError(() => generateSynthetic(base('circle', { n: 0 })), /data\.n/, { field: 'data.n' });
  expectUserError(() => generateSynthetic(base('circle', { noise: -1 })), /data\.noise/, { field: 'data.noise' });
  expectUserError(() => generateSynthetic(base('toString' as SyntheticParams['synthetic'])), /unknown synthetic set/);
});

test('synthetic: a noise so large that points overflow float32 is refused at data.noise, for every set', () => {
  for (const kind of SYNTHETIC_KINDS) {
    for (const noise of [1e39, 1e300, Number.MAX_VALUE]) {
      expectUserError(() => generateSynthetic(base(kind, { noise, n: 50 }), { file: 's.vae.json' }), /data\.noise.*float32/, {
        file: 's.vae.json',
        field: 'data.noise',
      });
    }
    // Large but representable noise is drawn as asked.
    assertWellFormed(generateSynthetic(base(kind, { noise: 1e30, n: 50 })));
  }
});
