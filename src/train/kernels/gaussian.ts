/**
 * The data term of the Gaussian decoder's log-likelihood in one pass over x and μ, and its
 * gradient in one more (src/train/gaussianLoss.ts puts them together):
 *   e[n] = Σ_d (x[n,d] - μ[n,d])² · iv[d]            iv = exp(-log s²), one value or one per d
 *   ∂e/∂μ[n,d]    = -2 · dy[n] · (x - μ)[n,d] · iv[d]
 *   colSums[d]    = Σ_n dy[n] · (x - μ)[n,d]²          (∂e/∂iv[d], or summed over d for one iv)
 * The forward pass works on whole rows and the gradient on whole columns, so every sum runs in
 * the same order however the rows or columns are shared out between threads.
 */

/** e[n] for rows [row0, row0 + rows) of x and μ (N×D, row-major); ivPerDim: iv has D values, else 1. */
export function weightedSquaredErrorRows(row0: i32, rows: i32, d: i32, x: usize, mu: usize, iv: usize, ivPerDim: bool, out: usize): void {
  const vectorEnd = d & ~3;
  const scalar = f32x4.splat(load<f32>(iv));
  for (let n = row0; n < row0 + rows; n++) {
    const xr = x + (<usize>(n * d) << 2);
    const mr = mu + (<usize>(n * d) << 2);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < vectorEnd; j += 4) {
      const o = <usize>j << 2;
      const r = f32x4.sub(v128.load(xr + o), v128.load(mr + o));
      const w = ivPerDim ? v128.load(iv + o) : scalar;
      acc = f32x4.add(acc, f32x4.mul(f32x4.mul(r, r), w));
    }
    let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    for (; j < d; j++) {
      const o = <usize>j << 2;
      const r = load<f32>(xr + o) - load<f32>(mr + o);
      sum += r * r * load<f32>(ivPerDim ? iv + o : iv);
    }
    store<f32>(out + (<usize>n << 2), sum);
  }
}

/**
 * The diagnostics pass's data terms for `points` points of x (points×D) and `samples` decoder
 * means of each (μ, row p·samples + s): e[r] as weightedSquaredErrorRows gives it for row r of μ
 * against its point's row of x (the same sums, in the same order), and
 *   colSums[d] = Σ_r (x[p,d] − μ[r,d])²,   summed over the rows in order, from zero,
 * in the same pass over μ. x is read once per point, never repeated per sample.
 */
export function sampleSquaredErrorRows(points: i32, samples: i32, d: i32, x: usize, mu: usize, iv: usize, ivPerDim: bool, out: usize, colSums: usize): void {
  const vectorEnd = d & ~3;
  const scalar = f32x4.splat(load<f32>(iv));
  memory.fill(colSums, 0, <usize>d << 2);
  for (let p = 0; p < points; p++) {
    const xr = x + (<usize>(p * d) << 2);
    for (let s = 0; s < samples; s++) {
      const n = p * samples + s;
      const mr = mu + (<usize>(n * d) << 2);
      let acc = f32x4.splat(0);
      let j = 0;
      for (; j < vectorEnd; j += 4) {
        const o = <usize>j << 2;
        const r = f32x4.sub(v128.load(xr + o), v128.load(mr + o));
        const sq = f32x4.mul(r, r);
        const w = ivPerDim ? v128.load(iv + o) : scalar;
        acc = f32x4.add(acc, f32x4.mul(sq, w));
        v128.store(colSums + o, f32x4.add(v128.load(colSums + o), sq));
      }
      let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      for (; j < d; j++) {
        const o = <usize>j << 2;
        const r = load<f32>(xr + o) - load<f32>(mr + o);
        const sq = r * r;
        sum += sq * load<f32>(ivPerDim ? iv + o : iv);
        store<f32>(colSums + o, load<f32>(colSums + o) + sq);
      }
      store<f32>(out + (<usize>n << 2), sum);
    }
  }
}

/** ∂e/∂μ and colSums for columns [col0, col0 + cols) over all n rows. */
export function weightedSquaredErrorGradColumns(
  n: i32, d: i32, col0: i32, cols: i32, x: usize, mu: usize, iv: usize, ivPerDim: bool, dy: usize, dmu: usize, colSums: usize,
): void {
  const end = col0 + cols;
  const vectorEnd = col0 + (cols & ~3);
  const scalar = f32x4.splat(load<f32>(iv));
  const minusTwo = f32x4.splat(-2);
  memory.fill(colSums + (<usize>col0 << 2), 0, <usize>cols << 2);
  for (let i = 0; i < n; i++) {
    const row = <usize>(i * d) << 2;
    const g = load<f32>(dy + (<usize>i << 2));
    const vg = f32x4.splat(g);
    let j = col0;
    for (; j < vectorEnd; j += 4) {
      const o = <usize>j << 2;
      const r = f32x4.sub(v128.load(x + row + o), v128.load(mu + row + o));
      const w = ivPerDim ? v128.load(iv + o) : scalar;
      const gr = f32x4.mul(vg, r);
      v128.store(dmu + row + o, f32x4.mul(minusTwo, f32x4.mul(gr, w)));
      v128.store(colSums + o, f32x4.add(v128.load(colSums + o), f32x4.mul(gr, r)));
    }
    for (; j < end; j++) {
      const o = <usize>j << 2;
      const r = load<f32>(x + row + o) - load<f32>(mu + row + o);
      const gr = g * r;
      store<f32>(dmu + row + o, -2 * (gr * load<f32>(ivPerDim ? iv + o : iv)));
      store<f32>(colSums + o, load<f32>(colSums + o) + gr * r);
    }
  }
}
