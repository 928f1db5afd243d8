/**
 * A convolution and its two gradients (src/train/wasmConvKernels.ts), each as one call per
 * thread over that thread's part, going through the column matrix a block of rows at a time
 * without returning to JavaScript between blocks:
 *   forward       y  = im2col(x) · W          a thread's part: rows of y (output pixels)
 *   filter grad   dW = Σ_blocks colsᵀ · dy    a thread's part: the window rows ky0..ky1 of dW,
 *                                              i.e. rows ky0·kw·c .. ky1·kw·c of the K x Cout matrix
 *   input grad    dx = col2im(dy · Wᵀ)        a thread's part: whole images of dx
 * Where a window row is at least 16 floats, the forward pass builds no columns: the GEMM's tile
 * reads each row's window in x itself (tileRuns), one image row of the window after another,
 * against the filter packed once the whole depth deep. Otherwise, where it can, the forward pass
 * and the filter gradient write the columns straight into the GEMM's packed layout of A
 * (im2colPanels, im2colPanelsT) and run its blocks on them, so the column matrix is never written
 * out and packed again; else, and for the input gradient, a block of columns goes through sgemm.
 * The forward pass and the input gradient multiply every block by the same filter, packed once.
 * (Shorter window rows, a one-channel image's 4 floats, ran slower in place: a loop per window
 * row.)
 *
 * Each output element is summed in the same order whatever the parts (the forward pass's in one
 * chain over the whole depth; the others as sgemm sums, KC-deep slices in ascending order, each
 * summed from zero and added in): the blocks of
 * the filter gradient are the same blocks of output pixels, added into dW in ascending order, and
 * an input gradient's pixel only receives from its own image, in ascending row order. So a
 * convolution split over threads has the same bits as one that is not.
 *
 * The geometry is 21 int32 words at `geom` (wasmConvKernels.ts): h, w, c (input), kh, kw, sh, sw, padTop,
 * padLeft, oh, ow, cout, the batch size n, the rows of a block, which path is taken (0, 1, 2 below),
 * then where in a part's scratch its regions start (bytes; the caller lays them out): the block of
 * columns (or of packed A), sgemm's scratch, the filter packed whole (-1: none), a packed block of
 * dy, an edge tile, and room for four whole windows, a window row of zeros and 16 bytes for each
 * row of a block.
 */
import { block as multiplyBlock, blockCols, KC, MR, NR, packB, packBWhole, sgemmInto, tileRuns } from './gemm';
import { col2im, im2col, im2colPanels, im2colPanelsT, windowCopy, windowInside, windowRows, windowStart } from './im2col';

export const CONV_FORWARD = 0;
export const CONV_FILTER_GRAD = 1;
export const CONV_INPUT_GRAD = 2;
/** Geometry word 14: columns through sgemm (0), written packed (1), or not at all (2: the forward pass's windows read in place). */
const CONV_WINDOWS_IN_PLACE = 2;

/**
 * Where row i of a block (of those windowRows described at info; n of its panel exist) has its
 * window for tileRuns: in x when the window is inside the image, else copied to `copy`; zeros
 * for a row past the block's end.
 */
@inline function rowWindow(info: usize, i: i32, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, copy: usize, zeros: usize): usize {
  if (i % MR >= n) return zeros;
  if (windowInside(info, i, h, w, kh, kw)) return windowStart(info, i, w, c);
  windowCopy(info, i, h, w, c, kh, kw, copy);
  return copy;
}

/** The bytes from one of that window's rows to the next: an image row in x, a window row in a copy, none in zeros. */
@inline function rowStride(info: usize, i: i32, n: i32, h: i32, w: i32, kh: i32, kw: i32, rowBytes: usize, runBytes: usize): usize {
  if (i % MR >= n) return 0;
  return windowInside(info, i, h, w, kh, kw) ? rowBytes : runBytes;
}

@inline function word(geom: usize, i: i32): i32 {
  return load<i32>(geom + (<usize>i << 2));
}

/**
 * One thread's part of a convolution: kind CONV_FORWARD (a = x, b = filter, out = y, part = output
 * rows [start, end)), CONV_FILTER_GRAD (a = x, b = dy, out = dW, part = window rows [start, end))
 * or CONV_INPUT_GRAD (a = dy, b = filter, out = dx, part = images [start, end), which it clears
 * first). scratch is 16-aligned and laid out as the geometry says.
 */
export function conv(kind: i32, geom: usize, a: usize, b: usize, out: usize, start: i32, end: i32, scratch: usize): void {
  const h = word(geom, 0), w = word(geom, 1), c = word(geom, 2);
  const kh = word(geom, 3), kw = word(geom, 4), sh = word(geom, 5), sw = word(geom, 6);
  const padTop = word(geom, 7), padLeft = word(geom, 8), oh = word(geom, 9), ow = word(geom, 10);
  const cout = word(geom, 11), n = word(geom, 12), block = word(geom, 13);
  const packed = word(geom, 14) != 0;
  const inPlace = word(geom, 14) == CONV_WINDOWS_IN_PLACE;
  const cols = scratch + <usize>word(geom, 15);
  const packing = scratch + <usize>word(geom, 16);
  const filterAt = word(geom, 17);
  const filter = filterAt >= 0 ? scratch + <usize>filterAt : 0;
  const packedDy = scratch + <usize>word(geom, 18);
  const edge = scratch + <usize>word(geom, 19);
  const tmp = scratch + <usize>word(geom, 20);
  const depth = kh * kw * c;
  // After tmp's four windows: a window row of zeros, then where each row of a block reads x (windowRows).
  const runBytes = <usize>(kw * c) << 2;
  const windowBytes = <usize>kh * runBytes;
  const zeros = tmp + 4 * windowBytes;
  const info = zeros + runBytes;
  if (packed) memory.fill(zeros, 0, runBytes);
  if (kind == CONV_FORWARD) {
    if (inPlace) {
      // The filter packed as NR-column panels the whole depth deep; x is not packed at all: each
      // row's window is read where it lies (tileRuns), or from a copy where it crosses the border.
      packB(cout, cout, b, false, 0, depth, filter);
      const rowBytes = <usize>(w * c) << 2;
      for (let r = start; r < end; r += block) {
        const rows = min(block, end - r);
        windowRows(a, h, w, c, sh, sw, padTop, padLeft, oh, ow, r, rows, info);
        for (let i0 = 0; i0 < rows; i0 += MR) {
          const n = min(MR, rows - i0);
          const a0 = rowWindow(info, i0, n, h, w, c, kh, kw, tmp, zeros);
          const a1 = rowWindow(info, i0 + 1, n, h, w, c, kh, kw, tmp + windowBytes, zeros);
          const a2 = rowWindow(info, i0 + 2, n, h, w, c, kh, kw, tmp + 2 * windowBytes, zeros);
          const a3 = rowWindow(info, i0 + 3, n, h, w, c, kh, kw, tmp + 3 * windowBytes, zeros);
          const s0 = rowStride(info, i0, n, h, w, kh, kw, rowBytes, runBytes);
          const s1 = rowStride(info, i0 + 1, n, h, w, kh, kw, rowBytes, runBytes);
          const s2 = rowStride(info, i0 + 2, n, h, w, kh, kw, rowBytes, runBytes);
          const s3 = rowStride(info, i0 + 3, n, h, w, kh, kw, rowBytes, runBytes);
          const y = out + (<usize>(r + i0) * <usize>cout << 2);
          for (let j0 = 0; j0 < cout; j0 += NR) {
            const pb = filter + (<usize>(j0 * depth) << 2);
            if (n == MR && j0 + NR <= cout) {
              tileRuns(kh, kw * c, a0, s0, a1, s1, a2, s2, a3, s3, pb, y + (<usize>j0 << 2), cout);
              continue;
            }
            // A partial tile: computed whole, only what exists kept.
            tileRuns(kh, kw * c, a0, s0, a1, s1, a2, s2, a3, s3, pb, edge, NR);
            const cols = min(NR, cout - j0);
            for (let i = 0; i < n; i++) memory.copy(y + (<usize>(i * cout + j0) << 2), edge + (<usize>(i * NR) << 2), <usize>cols << 2);
          }
        }
      }
    } else if (packed) {
      // As sgemmInto with the filter packed whole (cout is at most NC): slices of KC columns.
      packBWhole(cout, depth, b, cout, false, filter);
      for (let r = start; r < end; r += block) {
        const rows = min(block, end - r);
        windowRows(a, h, w, c, sh, sw, padTop, padLeft, oh, ow, r, rows, info);
        for (let k0 = 0; k0 < depth; k0 += KC) {
          const kc = min(KC, depth - k0);
          im2colPanels(info, h, w, c, kh, kw, rows, k0, kc, cols, tmp, zeros);
          multiplyBlock(rows, cout, kc, cols, filter + (<usize>(blockCols(cout) * k0) << 2), out + (<usize>r * <usize>cout << 2), cout, k0 > 0, edge);
        }
      }
    } else {
      for (let r = start; r < end; r += block) {
        const rows = min(block, end - r);
        im2col(a, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow, r, rows, 0, kh, cols);
        sgemmInto(rows, cout, depth, cols, depth, false, b, cout, false, out + (<usize>r * <usize>cout << 2), cout, packing, false, filter);
      }
    }
  } else if (kind == CONV_FILTER_GRAD) {
    const part = (end - start) * kw * c;
    const total = n * oh * ow;
    const dw = out + (<usize>(start * kw * c) * <usize>cout << 2);
    for (let r = 0; r < total; r += block) {
      const rows = min(block, total - r);
      const dy = b + (<usize>r * <usize>cout << 2);
      if (packed) {
        // As sgemmInto(part, cout, rows, colsᵀ, dy) into dW: slices of KC rows (the product's depth).
        for (let k0 = 0; k0 < rows; k0 += KC) {
          const kc = min(KC, rows - k0);
          windowRows(a, h, w, c, sh, sw, padTop, padLeft, oh, ow, r + k0, kc, info);
          im2colPanelsT(info, h, w, c, kh, kw, kc, start, end, cols, tmp, zeros);
          packB(cout, cout, dy, false, k0, kc, packedDy);
          multiplyBlock(part, cout, kc, cols, packedDy, dw, cout, r > 0 || k0 > 0, edge);
        }
      } else {
        im2col(a, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow, r, rows, start, end, cols);
        sgemmInto(part, cout, rows, cols, part, true, dy, cout, false, dw, cout, packing, r > 0, 0);
      }
    }
  } else {
    const image = <usize>(h * w * c) << 2;
    memory.fill(out + <usize>start * image, 0, <usize>(end - start) * image);
    const last = end * oh * ow;
    if (filter != 0) packBWhole(depth, cout, b, cout, true, filter);
    for (let r = start * oh * ow; r < last; r += block) {
      const rows = min(block, last - r);
      sgemmInto(rows, depth, cout, a + (<usize>r * <usize>cout << 2), cout, false, b, cout, true, cols, depth, packing, false, filter);
      col2im(cols, h, w, c, kh, kw, sh, sw, padTop, padLeft, oh, ow, r, rows, out);
    }
  }
}
