/**
 * Seeded synthetic data sets: the low-dimensional manifolds of the paper's
 * experiments, a k-dimensional curved manifold in D dimensions, and pPCA data
 * whose covariance is known exactly. Every point gets isotropic Gaussian noise of
 * standard deviation `noise`. One Rng(seed) draws first any fixed random map,
 * then the points, so a seed names one data set on every machine.
 *
 * Curves (t drawn uniformly from the range given):
 *   circle           (cos t, sin t), t in [0, 2pi)                          D = 2
 *   eight_gaussians  8 modes at (cos(2pi k/8), sin(2pi k/8)), k uniform     D = 2
 *   cosine           (t, cos t), t in [-pi, pi]                             D = 2
 *   lemniscate       Bernoulli's: (cos t, sin t cos t) / (1 + sin^2 t)      D = 2
 *   swiss_roll       2-D spiral (t cos t, t sin t) / (4.5 pi), t in [1.5pi, 4.5pi]  D = 2
 *   spiral3d         helix (cos t, sin t, t / (2pi) - 1), t in [0, 4pi]      D = 3
 *   manifold         u in [-1, 1]^k mapped smoothly into D (see manifoldMap)
 *   ppca             x = W z + noise * eps, z ~ N(0, I_q), W (D x q) ~ N(0, 1)
 *   ring             the unit circle in a random plane of R^D: x = Q (cos t, sin t), Q (D x 2) orthonormal
 */
import { checkAllocation } from '../core/allocation';
import { Rng } from '../core/random';
import { UserError, type SourceLocation } from '../core/errors';
import type { SyntheticDataSpec, SyntheticKind } from '../core/spec';
import { DEFAULT_INTRINSIC_DIM, syntheticSizeProblems } from '../core/specParts/syntheticChecks';
import type { Dataset } from './dataset';

export type SyntheticParams = Pick<SyntheticDataSpec, 'synthetic' | 'n' | 'noise' | 'seed' | 'dim' | 'intrinsicDim'>;

/** Observed dimension of each fixed-dimension set. */
type CurveKind = Exclude<SyntheticKind, 'manifold' | 'ppca' | 'ring'>;
/** Kinds whose observed dimension D comes from `data.dim`. */
const NEEDS_DIM: ReadonlySet<SyntheticKind> = new Set<SyntheticKind>(['manifold', 'ppca', 'ring']);
export const SYNTHETIC_DIMS: Record<CurveKind, number> = {
  circle: 2,
  eight_gaussians: 2,
  cosine: 2,
  lemniscate: 2,
  swiss_roll: 2,
  spiral3d: 3,
};

const TWO_PI = 2 * Math.PI;

type CurvePoint = (rng: Rng, out: Float64Array) => void;

const CURVES: Record<CurveKind, CurvePoint> = {
  circle: (rng, out) => {
    const t = TWO_PI * rng.uniform();
    out[0] = Math.cos(t);
    out[1] = Math.sin(t);
  },
  eight_gaussians: (rng, out) => {
    const t = (TWO_PI * rng.int(8)) / 8;
    out[0] = Math.cos(t);
    out[1] = Math.sin(t);
  },
  cosine: (rng, out) => {
    const t = Math.PI * (2 * rng.uniform() - 1);
    out[0] = t;
    out[1] = Math.cos(t);
  },
  lemniscate: (rng, out) => {
    const t = TWO_PI * rng.uniform();
    const s = Math.sin(t);
    const c = Math.cos(t);
    const d = 1 + s * s;
    out[0] = c / d;
    out[1] = (s * c) / d;
  },
  swiss_roll: (rng, out) => {
    const t = 1.5 * Math.PI + 3 * Math.PI * rng.uniform();
    out[0] = (t * Math.cos(t)) / (4.5 * Math.PI);
    out[1] = (t * Math.sin(t)) / (4.5 * Math.PI);
  },
  spiral3d: (rng, out) => {
    const t = 2 * TWO_PI * rng.uniform();
    out[0] = Math.cos(t);
    out[1] = Math.sin(t);
    out[2] = t / TWO_PI - 1;
  },
};

export function describeSynthetic(p: SyntheticParams): string {
  const extra =
    p.synthetic === 'manifold' || p.synthetic === 'ppca'
      ? `, dim=${p.dim}, intrinsicDim=${p.intrinsicDim ?? DEFAULT_INTRINSIC_DIM}`
      : p.synthetic === 'ring'
        ? `, dim=${p.dim}`
        : '';
  return `synthetic ${p.synthetic} (n=${p.n}, noise=${p.noise}, seed=${p.seed}${extra})`;
}

/** `where` locates the spec, for errors about its values. */
export function generateSynthetic(p: SyntheticParams, where: SourceLocation = {}): Dataset {
  checkParams(p, where);
  checkSize(p, where);
  const ds = drawSynthetic(p);
  // Only the noise is unbounded: a point beyond float32 would train as Infinity, then NaN.
  if (!allFinite(ds.values))
    throw new UserError(
      `data.noise is ${p.noise}: points drawn with it are beyond the float32 range VAE Lens computes in (about ±3.4e38); use a smaller noise`,
      { ...where, field: 'data.noise' },
    );
  return ds;
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i]! - values[i]! !== 0) return false;
  return true;
}

function drawSynthetic(p: SyntheticParams): Dataset {
  const rng = new Rng(p.seed);
  const source = describeSynthetic(p);
  if (p.synthetic === 'manifold') return manifold(p, rng, source);
  if (p.synthetic === 'ppca') return ppca(p, rng, source);
  if (p.synthetic === 'ring') return ring(p, rng, source);
  const dim = SYNTHETIC_DIMS[p.synthetic];
  const curve = CURVES[p.synthetic];
  const values = new Float32Array(p.n * dim);
  const point = new Float64Array(dim);
  for (let i = 0; i < p.n; i++) {
    curve(rng, point);
    for (let d = 0; d < dim; d++) values[i * dim + d] = point[d]! + p.noise * rng.normal();
  }
  return { values, n: p.n, dim, sourceType: 'float32', source };
}

/** The matrix (and pPCA's D x D covariance) must fit before a single point is drawn. */
function checkSize(p: SyntheticParams, where: SourceLocation): void {
  const D = NEEDS_DIM.has(p.synthetic) ? p.dim! : SYNTHETIC_DIMS[p.synthetic as keyof typeof SYNTHETIC_DIMS];
  const advice = 'use a smaller data.n or data.dim';
  checkAllocation({ what: `the synthetic set (${p.n} x ${D} float32)`, elements: p.n * D, bytesPerElement: 4, at: { ...where, field: 'data.n' }, advice });
  if (p.synthetic === 'ppca')
    checkAllocation({
      what: `the pPCA covariance (${D} x ${D} float64)`,
      elements: D * D,
      bytesPerElement: 8,
      at: { ...where, field: 'data.dim' },
      advice: 'use a smaller data.dim',
    });
}

function checkParams(p: SyntheticParams, where: SourceLocation): void {
  const bad = (field: string, message: string): never => {
    throw new UserError(message, { ...where, field: `data.${field}` });
  };
  if (!Object.hasOwn(CURVES, p.synthetic) && !NEEDS_DIM.has(p.synthetic)) bad('synthetic', `unknown synthetic set ${JSON.stringify(p.synthetic)}`);
  if (!Number.isInteger(p.n) || p.n < 1) bad('n', `data.n must be a positive integer (got ${p.n})`);
  if (!(p.noise >= 0) || !Number.isFinite(p.noise)) bad('noise', `data.noise must be a finite number >= 0 (got ${p.noise})`);
  if (!Number.isInteger(p.seed) || p.seed < 0) bad('seed', `data.seed must be a non-negative integer (got ${p.seed})`);
  if (!NEEDS_DIM.has(p.synthetic)) return;
  const dim = p.dim;
  if (dim === undefined || !Number.isInteger(dim) || dim < 1)
    bad('dim', `data.dim (the observed dimension D) is required for "${p.synthetic}" and must be a positive integer`);
  const k = p.intrinsicDim ?? DEFAULT_INTRINSIC_DIM;
  if (p.synthetic !== 'ring' && (!Number.isInteger(k) || k < 1)) bad('intrinsicDim', `data.intrinsicDim must be a positive integer (got ${k})`);
  const [problem] = syntheticSizeProblems(p);
  if (problem) throw new UserError(problem.message, { ...where, field: problem.field });
}

function gaussianMatrix(rng: Rng, rows: number, cols: number, std = 1): Float64Array {
  const m = new Float64Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = std * rng.normal();
  return m;
}

/**
 * A smooth curved k-manifold in D dimensions: x = (A u + B sin(Omega u + phi)) / sqrt(k + m)
 * with m = 8k + 8 random Fourier features (enough bends, cheap for large D). The linear part A u keeps the map injective
 * (almost surely, for D > k); the sine features bend it. Coordinates have variance O(1).
 */
function manifold(p: SyntheticParams, rng: Rng, source: string): Dataset {
  const D = p.dim!;
  const k = p.intrinsicDim ?? DEFAULT_INTRINSIC_DIM;
  const m = 8 * k + 8;
  const A = gaussianMatrix(rng, D, k);
  const B = gaussianMatrix(rng, D, m);
  const omega = gaussianMatrix(rng, m, k, 1.5);
  const phi = new Float64Array(m);
  for (let j = 0; j < m; j++) phi[j] = TWO_PI * rng.uniform();
  const norm = 1 / Math.sqrt(k + m);
  const u = new Float64Array(k);
  const features = new Float64Array(m);
  const values = new Float32Array(p.n * D);
  for (let i = 0; i < p.n; i++) {
    for (let h = 0; h < k; h++) u[h] = 2 * rng.uniform() - 1;
    for (let j = 0; j < m; j++) {
      let a = phi[j]!;
      for (let h = 0; h < k; h++) a += omega[j * k + h]! * u[h]!;
      features[j] = Math.sin(a);
    }
    for (let d = 0; d < D; d++) {
      let x = 0;
      for (let h = 0; h < k; h++) x += A[d * k + h]! * u[h]!;
      for (let j = 0; j < m; j++) x += B[d * m + j]! * features[j]!;
      values[i * D + d] = x * norm + p.noise * rng.normal();
    }
  }
  return { values, n: p.n, dim: D, sourceType: 'float32', source };
}

/** Probabilistic PCA data; `truth.covariance` = W W^T + noise^2 I exactly. */
function ppca(p: SyntheticParams, rng: Rng, source: string): Dataset {
  const D = p.dim!;
  const q = p.intrinsicDim ?? DEFAULT_INTRINSIC_DIM;
  const W = gaussianMatrix(rng, D, q);
  const covariance = new Float64Array(D * D);
  for (let a = 0; a < D; a++) {
    for (let b = 0; b < D; b++) {
      let s = a === b ? p.noise * p.noise : 0;
      for (let h = 0; h < q; h++) s += W[a * q + h]! * W[b * q + h]!;
      covariance[a * D + b] = s;
    }
  }
  const z = new Float64Array(q);
  const values = new Float32Array(p.n * D);
  for (let i = 0; i < p.n; i++) {
    for (let h = 0; h < q; h++) z[h] = rng.normal();
    for (let d = 0; d < D; d++) {
      let x = 0;
      for (let h = 0; h < q; h++) x += W[d * q + h]! * z[h]!;
      values[i * D + d] = x + p.noise * rng.normal();
    }
  }
  return { values, n: p.n, dim: D, sourceType: 'float32', source, truth: { covariance } };
}

/**
 * A ring-shaped pPCA-like set: the unit circle in a random plane of R^D (the plane's basis Q has
 * orthonormal columns, so the ring keeps radius 1) plus isotropic noise in all D directions.
 * Its covariance is Q Q^T / 2 + noise^2 I: PCA sees a plane, the data are a curve in it.
 */
function ring(p: SyntheticParams, rng: Rng, source: string): Dataset {
  const D = p.dim!;
  const q = orthonormalPair(gaussianMatrix(rng, D, 2), D);
  const values = new Float32Array(p.n * D);
  for (let i = 0; i < p.n; i++) {
    const t = TWO_PI * rng.uniform();
    const c = Math.cos(t);
    const s = Math.sin(t);
    for (let d = 0; d < D; d++) values[i * D + d] = q[d * 2]! * c + q[d * 2 + 1]! * s + p.noise * rng.normal();
  }
  return { values, n: p.n, dim: D, sourceType: 'float32', source };
}

/** Gram-Schmidt on the two columns of a D x 2 row-major matrix (Gaussian columns are independent almost surely). */
function orthonormalPair(m: Float64Array, D: number): Float64Array {
  const column = (j: number): Float64Array => Float64Array.from({ length: D }, (_, d) => m[d * 2 + j]!);
  const dot = (a: Float64Array, b: Float64Array): number => a.reduce((sum, v, d) => sum + v * b[d]!, 0);
  const a = column(0);
  const b = column(1);
  const na = Math.sqrt(dot(a, a));
  for (let d = 0; d < D; d++) a[d] = a[d]! / na;
  const proj = dot(a, b);
  for (let d = 0; d < D; d++) b[d] = b[d]! - proj * a[d]!;
  const nb = Math.sqrt(dot(b, b));
  const out = new Float64Array(D * 2);
  for (let d = 0; d < D; d++) {
    out[d * 2] = a[d]!;
    out[d * 2 + 1] = b[d]! / nb;
  }
  return out;
}
