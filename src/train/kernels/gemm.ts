/**
 * Single-precision kernels for the wasm engine, in AssemblyScript (compiled by scripts/build.mjs
 * into dist/vae-lens-kernels-{relaxed,simd}.wasm). They run on the wasm engine's own memory,
 * which the module imports, so tensors are used in place: every pointer is a byte address in
 * that memory, and the module has no data segment of its own.
 *
 * sgemm is a packed GEMM in the usual register-blocked form: op(A) is packed into panels of
 * MR rows and op(B) into panels of NR columns, KC deep, so that the inner kernel reads both
 * sequentially, and the 4x8 tile of C stays in eight 128-bit registers (V8 keeps 15 for wasm,
 * and a 6x8 tile spilled). Packing also absorbs transposes, which is why the trainer can ask
 * for Aᵀ·B and A·Bᵀ directly. With relaxed SIMD the multiply-add is fused where the
 * processor has FMA; without it the module is built from the same source with mul then add.
 *
 * The packed operands are blocks of at most MC rows of op(A) and NC columns of op(B), so the
 * scratch memory a product needs is bounded (about 5 MiB) whatever its size: packing all of a
 * wide operand took (m + n) · KC · 4 bytes, a gigabyte of the engine's heap (2 GiB at most) for a
 * million columns, and the engine ran out of memory. A product no larger than MC x NC (the MLP's,
 * a convolution's blocks) is one block, computed as before the blocking.
 */
export const MR: i32 = 4;
export const NR: i32 = 8;
export const KC: i32 = 256;
/** Rows of op(A) packed at a time (a multiple of MR): 1 MiB at KC deep. */
const MC: i32 = 1024;
/** Columns of op(B) packed at a time (a multiple of NR): 4 MiB at KC deep. */
export const NC: i32 = 4096;

@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

/**
 * Four rows of four floats, r0..r3, stored transposed at dst, dst + dstStride, ...: dst gets
 * column 0 of the four rows, dst + dstStride column 1, and so on (two shuffle rounds).
 */
@inline export function storeTransposed4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, dstStride: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/** Four rows of four floats at src, src + stride, ... stored transposed (storeTransposed4). */
@inline function transpose4(src: usize, stride: usize, dst: usize, dstStride: usize): void {
  storeTransposed4(v128.load(src), v128.load(src + stride), v128.load(src + 2 * stride), v128.load(src + 3 * stride), dst, dstStride);
}

/**
 * Rows [0, m) and columns [k0, k0 + kc) of op(A), as MR-row panels stored k-major. lda is the
 * row stride of A as stored (k for A, m for a transposed A, larger for a block of a bigger one).
 */
function packA(m: i32, lda: i32, a: usize, transA: bool, k0: i32, kc: i32, dst: usize): void {
  let first = 0;
  if (transA) {
    // A is stored k x m, so a panel's MR values of one k are contiguous; but going down one
    // panel reads 16 bytes per row of A, and at a power-of-two stride (lda = 512 for a
    // convolution's columns) those rows share a few sets of the L1 cache and the loads missed
    // it. Four k at a time across all whole panels instead: four rows of A read in order, and
    // 64 contiguous bytes written to each panel.
    const whole = m / MR * MR;
    const stride = <usize>lda << 2;
    let kk = 0;
    for (; kk + 4 <= kc; kk += 4) {
      const src = at(a, (k0 + kk) * lda);
      for (let i0 = 0; i0 < whole; i0 += MR) {
        const s = at(src, i0);
        const d = at(dst, i0 * kc + kk * MR);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s + stride), 16);
        v128.store(d, v128.load(s + 2 * stride), 32);
        v128.store(d, v128.load(s + 3 * stride), 48);
      }
    }
    for (; kk < kc; kk++) {
      const src = at(a, (k0 + kk) * lda);
      for (let i0 = 0; i0 < whole; i0 += MR) v128.store(at(dst, i0 * kc + kk * MR), v128.load(at(src, i0)));
    }
    first = whole;
  }
  for (let i0 = first; i0 < m; i0 += MR) {
    const panel = at(dst, i0 * kc);
    const rows = min(MR, m - i0);
    let kk = 0;
    if (!transA && rows == MR) {
      // A is stored m x k: four rows of four k at a time, transposed in registers (a scalar
      // gather here cost as much as the product itself for narrow results, e.g. n = 64).
      for (; kk + 4 <= kc; kk += 4) transpose4(at(a, i0 * lda + k0 + kk), <usize>lda << 2, at(panel, kk * MR), MR << 2);
    }
    for (; kk < kc; kk++) {
      for (let r = 0; r < MR; r++) {
        let value: f32 = 0;
        if (r < rows) value = transA ? load<f32>(at(a, (k0 + kk) * lda + i0 + r)) : load<f32>(at(a, (i0 + r) * lda + k0 + kk));
        store<f32>(at(panel, kk * MR + r), value);
      }
    }
  }
}

/** Rows [k0, k0 + kc) and columns [0, n) of op(B), as NR-column panels; ldb is B's row stride. */
export function packB(n: i32, ldb: i32, b: usize, transB: bool, k0: i32, kc: i32, dst: usize): void {
  for (let j0 = 0; j0 < n; j0 += NR) {
    const panel = at(dst, j0 * kc);
    const cols = min(NR, n - j0);
    if (!transB && cols == NR) {
      for (let kk = 0; kk < kc; kk++) {
        const src = at(b, (k0 + kk) * ldb + j0);
        const d = at(panel, kk * NR);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
      }
      continue;
    }
    let kk = 0;
    if (transB && cols == NR) {
      // B is stored n x k: columns j0..j0+3 and j0+4..j0+7, four k at a time, as in packA.
      for (; kk + 4 <= kc; kk += 4) {
        transpose4(at(b, j0 * ldb + k0 + kk), <usize>ldb << 2, at(panel, kk * NR), NR << 2);
        transpose4(at(b, (j0 + 4) * ldb + k0 + kk), <usize>ldb << 2, at(panel, kk * NR + 4), NR << 2);
      }
    }
    for (; kk < kc; kk++) {
      for (let c = 0; c < NR; c++) {
        let value: f32 = 0;
        if (c < cols) value = transB ? load<f32>(at(b, (j0 + c) * ldb + k0 + kk)) : load<f32>(at(b, (k0 + kk) * ldb + j0 + c));
        store<f32>(at(panel, kk * NR + c), value);
      }
    }
  }
}

/** The MR x NR tile of C at c (row stride ldc floats): set to, or added to, packed A · packed B. */
function tile(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let kk = 0; kk < kc; kk++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += MR * 4;
    pb += NR * 4;
  }
  const row = <usize>ldc << 2;
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + row));
    c11 = f32x4.add(c11, v128.load(c + row, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * row));
    c21 = f32x4.add(c21, v128.load(c + 2 * row, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * row));
    c31 = f32x4.add(c31, v128.load(c + 3 * row, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + row, c10);
  v128.store(c + row, c11, 16);
  v128.store(c + 2 * row, c20);
  v128.store(c + 2 * row, c21, 16);
  v128.store(c + 3 * row, c30);
  v128.store(c + 3 * row, c31, 16);
}

/**
 * The MR x NR tile of C at c (row stride ldc floats) set to A · packed B, with A's four rows read
 * where they lie instead of packed: row r is `runs` runs of `run` floats, its run j at
 * a_r + j·s_r bytes (a convolution's window in the image: one run per window row). pb is an
 * NR-column panel runs·run deep. Each element is summed from zero in one chain, k ascending.
 */
export function tileRuns(
  runs: i32, run: i32, a0: usize, s0: usize, a1: usize, s1: usize, a2: usize, s2: usize, a3: usize, s3: usize, pb: usize, c: usize, ldc: i32,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const runBytes = <usize>run << 2;
  for (let j = 0; j < runs; j++) {
    for (let o: usize = 0; o < runBytes; o += 4) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load32_splat(a0 + o);
      c00 = madd(a, b0, c00);
      c01 = madd(a, b1, c01);
      a = v128.load32_splat(a1 + o);
      c10 = madd(a, b0, c10);
      c11 = madd(a, b1, c11);
      a = v128.load32_splat(a2 + o);
      c20 = madd(a, b0, c20);
      c21 = madd(a, b1, c21);
      a = v128.load32_splat(a3 + o);
      c30 = madd(a, b0, c30);
      c31 = madd(a, b1, c31);
      pb += NR * 4;
    }
    a0 += s0;
    a1 += s1;
    a2 += s2;
    a3 += s3;
  }
  const row = <usize>ldc << 2;
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + row, c10);
  v128.store(c + row, c11, 16);
  v128.store(c + 2 * row, c20);
  v128.store(c + 2 * row, c21, 16);
  v128.store(c + 3 * row, c30);
  v128.store(c + 3 * row, c31, 16);
}

/** Rows of op(A) in its largest packed block: m rounded up to whole panels, at most MC. */
@inline function blockRows(m: i32): i32 {
  return (min(max(m, 0), MC) + MR - 1) / MR * MR;
}

/** Columns of op(B) in its largest packed block: n rounded up to whole panels, at most NC. */
@inline export function blockCols(n: i32): i32 {
  return (min(max(n, 0), NC) + NR - 1) / NR * NR;
}

/**
 * Bytes of scratch memory sgemm needs for an m x n result: packed blocks of op(A) and op(B)
 * and one edge tile, at most ((MC + NC) · KC + MR · NR) · 4 whatever m and n are.
 */
export function sgemmScratchBytes(m: i32, n: i32): i32 {
  return ((blockRows(m) + blockCols(n)) * KC + MR * NR) * 4;
}

/**
 * C (m x n) = op(A) · op(B), all row-major. op(A) is m x k: A itself, or the transpose of a
 * k x m A. op(B) is k x n: B, or the transpose of an n x k B.
 */
export function sgemm(m: i32, n: i32, k: i32, a: usize, transA: bool, b: usize, transB: bool, c: usize, scratch: usize): void {
  sgemmStrided(m, n, k, a, transA ? m : k, transA, b, transB ? k : n, transB, c, n, scratch);
}

/**
 * The mc x nc block of C at c (row stride ldc) set to, or added to, packed A · packed B over one
 * kc-deep slice: column panels outside, so one panel of B stays in cache over all of A's panels.
 */
export function block(mc: i32, nc: i32, kc: i32, packedA: usize, packedB: usize, c: usize, ldc: i32, accumulate: bool, edge: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const pb = at(packedB, j0 * kc);
    const cols = min(NR, nc - j0);
    for (let i0 = 0; i0 < mc; i0 += MR) {
      const pa = at(packedA, i0 * kc);
      const rows = min(MR, mc - i0);
      if (rows == MR && cols == NR) {
        tile(kc, pa, pb, at(c, i0 * ldc + j0), ldc, accumulate);
        continue;
      }
      // A partial tile at the bottom or right edge: compute it whole, keep what exists.
      tile(kc, pa, pb, edge, NR, false);
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < cols; q++) {
          const dst = at(c, (i0 + r) * ldc + j0 + q);
          const value = load<f32>(at(edge, r * NR + q));
          store<f32>(dst, accumulate ? load<f32>(dst) + value : value);
        }
      }
    }
  }
}

/**
 * sgemm on blocks of larger matrices: lda, ldb and ldc are the row strides (in floats) of A, B
 * and C as stored. The worker threads each compute a block of rows or columns of C this way.
 * Every element of C is summed in the same order whatever block it falls in, here or in a
 * thread's part (KC-deep slices in ascending order, each summed from zero with k ascending and
 * then added to C), so a product split over threads has the same bits as one that is not.
 * Blocks of NC columns of op(B) are outermost, each packed once per slice; blocks of MC rows of
 * op(A) innermost, so a product no larger than one block runs as if unblocked.
 */
export function sgemmStrided(
  m: i32, n: i32, k: i32, a: usize, lda: i32, transA: bool, b: usize, ldb: i32, transB: bool, c: usize, ldc: i32, scratch: usize,
): void {
  sgemmInto(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, scratch, false, 0);
}

/**
 * Bytes of op(B) (k x n) packed whole, every KC slice of it, for a caller that multiplies many
 * blocks by the same B (a convolution's filter): 0 when n is wider than one packed block (NC).
 */
export function packedBBytes(n: i32, k: i32): i32 {
  return n > NC ? 0 : blockCols(n) * max(k, 0) * 4;
}

/** op(B) packed whole into dst (packedBBytes(n, k) bytes): slice k0 at blockCols(n) · k0 floats. */
export function packBWhole(n: i32, k: i32, b: usize, ldb: i32, transB: bool, dst: usize): void {
  for (let k0 = 0; k0 < k; k0 += KC) packB(n, ldb, b, transB, k0, min(KC, k - k0), at(dst, blockCols(n) * k0));
}

/**
 * sgemmStrided, or with addToC C += op(A)·op(B): the product is summed as sgemmStrided sums it
 * and then added to C, as if into a separate block that was then added in. With packedB (not 0),
 * op(B) is already packed there by packBWhole (n at most NC) and b is not read.
 */
export function sgemmInto(
  m: i32, n: i32, k: i32, a: usize, lda: i32, transA: bool, b: usize, ldb: i32, transB: bool, c: usize, ldc: i32, scratch: usize,
  addToC: bool, packedB: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (addToC) return;
    for (let r = 0; r < m; r++) memory.fill(at(c, r * ldc), 0, <usize>n << 2);
    return;
  }
  const packedA = scratch;
  const packedBlock = at(packedA, blockRows(m) * KC);
  const edge = at(packedBlock, blockCols(n) * KC);
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = min(NC, n - j0);
    // Column j0 of op(B): column j0 of B, or row j0 of a transposed B.
    const bj = transB ? b + (<usize>j0 * <usize>ldb << 2) : at(b, j0);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = min(KC, k - k0);
      const accumulate = addToC || k0 > 0;
      let pb = at(packedBlock, 0);
      if (packedB != 0) pb = at(packedB, blockCols(n) * k0);
      else packB(nc, ldb, bj, transB, k0, kc, packedBlock);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = min(MC, m - i0);
        // Row i0 of op(A): row i0 of A, or column i0 of a transposed A.
        const ai = transA ? at(a, i0) : a + (<usize>i0 * <usize>lda << 2);
        packA(mc, lda, ai, transA, k0, kc, packedA);
        block(mc, nc, kc, packedA, pb, c + ((<usize>i0 * <usize>ldc + <usize>j0) << 2), ldc, accumulate, edge);
      }
    }
  }
}
