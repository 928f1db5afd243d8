/**
 * Scaling before training, the seeded validation split, and seeded subsets.
 * The scaled value is (x - offset) / scale, with per-column offset/scale for
 * `standardize`, `center` and `minmax`; `unscaleValues` maps model outputs back.
 * Everything can work in place, so the loader's matrix is the only copy of the data.
 */
import { Rng } from '../core/random';
import { UserError } from '../core/errors';
import type { Scaling } from '../core/spec';
import { heldOutRows, validationProblem } from '../core/specParts/syntheticChecks';
import type { Dataset, ScaledDataset } from './dataset';

export type ScalingParams = ScaledDataset['scaling'];

export interface InPlaceOption {
  /** Overwrite the input's values instead of copying them (the input must not be used afterwards). */
  inPlace?: boolean;
}

/** 8-bit sources (images) go to [0, 1]; everything else is left as it is. */
export function defaultScaling(ds: Pick<Dataset, 'sourceType'>): Scaling {
  return ds.sourceType === 'uint8' ? 'unit' : 'none';
}

interface ColumnStats {
  mean: Float64Array;
  std: Float64Array;
  min: Float64Array;
  max: Float64Array;
}

function columnStats(ds: Pick<Dataset, 'values' | 'n' | 'dim'>): ColumnStats {
  const { values, n, dim } = ds;
  const mean = new Float64Array(dim);
  const min = new Float64Array(dim).fill(Infinity);
  const max = new Float64Array(dim).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const base = i * dim;
    for (let d = 0; d < dim; d++) {
      const v = values[base + d]!;
      mean[d] += v;
      if (v < min[d]!) min[d] = v;
      if (v > max[d]!) max[d] = v;
    }
  }
  for (let d = 0; d < dim; d++) mean[d] /= n;
  // Second pass for the variance: no cancellation from sum-of-squares.
  const std = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const base = i * dim;
    for (let d = 0; d < dim; d++) {
      const r = values[base + d]! - mean[d]!;
      std[d] += r * r;
    }
  }
  for (let d = 0; d < dim; d++) std[d] = Math.sqrt(std[d]! / n);
  return { mean, std, min, max };
}

/** The transform `kind` would apply to `ds` (fit on training data, reuse for validation). */
export function fitScaling(ds: Dataset, kind: Scaling): ScalingParams {
  switch (kind) {
    case 'none':
      return { kind, offset: 0, scale: 1 };
    case 'unit':
      return { kind, offset: 0, scale: 255 };
    default:
      break;
  }
  const s = columnStats(ds);
  const offset = new Float32Array(ds.dim);
  const scale = new Float32Array(ds.dim).fill(1);
  for (let d = 0; d < ds.dim; d++) {
    // A constant column (min == max) keeps scale 1, so it becomes all zeros, never NaN.
    const constant = s.max[d]! === s.min[d]!;
    if (kind === 'minmax') {
      offset[d] = s.min[d]!;
      if (!constant) scale[d] = s.max[d]! - s.min[d]!;
    } else {
      offset[d] = s.mean[d]!;
      if (kind === 'standardize' && !constant && s.std[d]! > 0) scale[d] = s.std[d]!;
    }
  }
  return { kind, offset, scale };
}

export function applyScaling(ds: Dataset, params: ScalingParams, opts?: InPlaceOption): ScaledDataset {
  const values = opts?.inPlace ? ds.values : ds.values.slice();
  const { offset, scale } = params;
  if (typeof offset === 'number' && typeof scale === 'number') {
    if (offset !== 0 || scale !== 1) {
      const inv = 1 / scale;
      for (let i = 0; i < values.length; i++) values[i] = (values[i]! - offset) * inv;
    }
  } else {
    const dim = ds.dim;
    const off = typeof offset === 'number' ? new Float32Array(dim).fill(offset) : offset;
    const inv = new Float64Array(dim);
    for (let d = 0; d < dim; d++) inv[d] = 1 / (typeof scale === 'number' ? scale : scale[d]!);
    for (let i = 0; i < ds.n; i++) {
      const base = i * dim;
      for (let d = 0; d < dim; d++) values[base + d] = (values[base + d]! - off[d]!) * inv[d]!;
    }
  }
  return { ...ds, values, scaling: params };
}

/** Fit and apply in one step; `kind` undefined means the default for the source type. */
export function scaleDataset(ds: Dataset, kind?: Scaling, opts?: InPlaceOption): ScaledDataset {
  return applyScaling(ds, fitScaling(ds, kind ?? defaultScaling(ds)), opts);
}

/** Mean over columns of each column's sample variance (n - 1 in the denominator). */
export function meanColumnVariance(ds: Pick<Dataset, 'values' | 'n' | 'dim'>): number {
  const { n, dim } = ds;
  if (n < 2) return NaN;
  const { std } = columnStats(ds);
  let acc = 0;
  for (let d = 0; d < dim; d++) acc += std[d]! * std[d]!;
  return (acc / dim) * (n / (n - 1));
}

/** Back to the data's own units (for showing reconstructions and samples), in place. */
export function unscaleValues(values: Float32Array, dim: number, params: ScalingParams): Float32Array {
  const { offset, scale } = params;
  for (let i = 0; i < values.length; i++) {
    const d = i % dim;
    const o = typeof offset === 'number' ? offset : offset[d]!;
    const s = typeof scale === 'number' ? scale : scale[d]!;
    values[i] = values[i]! * s + o;
  }
  return values;
}

export interface Split<T extends Dataset> {
  train: T;
  validation?: T;
}

/**
 * Hold out round(n * fraction) rows, chosen by a seeded partial Fisher–Yates that
 * moves them to the end of the matrix. Train and validation are then views of one
 * array (no second copy of the data). Without `inPlace` the input is copied first.
 */
export function splitValidation<T extends Dataset>(ds: T, fraction: number, seed: number, opts?: InPlaceOption): Split<T> {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new UserError(`data.validation must be in [0, 1) (got ${fraction})`, { field: 'data.validation' });
  }
  if (fraction === 0) return { train: ds };
  const { n, dim } = ds;
  const problem = validationProblem(n, fraction);
  if (problem !== undefined) throw new UserError(problem, { field: 'data.validation' });
  const held = heldOutRows(n, fraction);
  const values = opts?.inPlace ? ds.values : ds.values.slice();
  const rng = new Rng(seed);
  const tmp = new Float32Array(dim);
  for (let i = n - 1; i >= n - held; i--) {
    const j = rng.int(i + 1);
    if (j === i) continue;
    tmp.set(values.subarray(i * dim, (i + 1) * dim));
    values.copyWithin(i * dim, j * dim, (j + 1) * dim);
    values.set(tmp, j * dim);
  }
  const trainRows = n - held;
  return {
    train: { ...ds, values: values.subarray(0, trainRows * dim), n: trainRows },
    validation: { ...ds, values: values.subarray(trainRows * dim, n * dim), n: held },
  };
}

/**
 * k distinct indices of [0, n), seeded, ascending; all of them when k >= n. The first k of a
 * seeded shuffle of all n: the training loop's diagnostics subset, so runs keep their subset.
 */
export function subsetIndices(n: number, k: number, seed: number): Uint32Array {
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  if (k >= n) return all;
  return new Rng(seed)
    .shuffle(all)
    .subarray(0, Math.max(0, Math.floor(k)))
    .sort();
}

/** Rows `idx[from..to)` of a row-major n x dim matrix, copied into `out`. */
export function gatherRows(src: Float32Array, dim: number, idx: ArrayLike<number>, from: number, to: number, out: Float32Array): Float32Array {
  for (let i = from; i < to; i++) out.set(src.subarray(idx[i]! * dim, (idx[i]! + 1) * dim), (i - from) * dim);
  return out.subarray(0, (to - from) * dim);
}
