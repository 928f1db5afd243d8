/** What the GEMM tests share: seeded operands, and the product they are checked against. */
import { Rng } from '../../src/core/random';

/** n values uniform in [-1, 1), from a seed. */
export function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.uniform() * 2 - 1;
  return v;
}

/** op(A)·op(B) in float64, from row-major storage (op = transpose where ta / tb). */
export function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number, ta: boolean, tb: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const x = ta ? a[p * m + i]! : a[i * k + p]!;
      for (let j = 0; j < n; j++) c[i * n + j]! += x * (tb ? b[j * k + p]! : b[p * n + j]!);
    }
  return c;
}
