/**
 * im2col and its adjoint col2im for NHWC images, so that a convolution and both its gradients
 * are products of the trainer's GEMM (src/train/wasmConvKernels.ts):
 *   cols[(b, oy, ox), (ky, kx, c)] = x[b, oy·sh - padTop + ky, ox·sw - padLeft + kx, c]   (0 outside)
 * Both work on the rows [row0, row0 + rows) of that matrix, so a caller can go through it in
 * blocks that stay in cache. A row is kh runs of kw·c floats; where the window lies inside the
 * image each run is one contiguous stretch of x, copied whole.
 */
import { storeTransposed4 } from './gemm';

/**
 * A run of floats copied or cleared inline: runs are short (kw·c floats, or c for an edge pixel;
 * 4 and 1 for a one-channel image), and memory.copy and memory.fill are calls whose cost, for 16
 * bytes, was most of im2col's time on a one-channel layer.
 */
@inline function copyRun(dst: usize, src: usize, bytes: usize): void {
  let o: usize = 0;
  for (; o + 16 <= bytes; o += 16) v128.store(dst + o, v128.load(src + o));
  for (; o < bytes; o += 4) store<f32>(dst + o, load<f32>(src + o));
}

@inline function zeroRun(dst: usize, bytes: usize): void {
  let o: usize = 0;
  for (; o + 16 <= bytes; o += 16) v128.store(dst + o, f32x4.splat(0));
  for (; o < bytes; o += 4) store<f32>(dst + o, 0);
}

@inline function addRun(dst: usize, src: usize, floats: i32): void {
  let i: i32 = 0;
  for (; i + 4 <= floats; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < floats; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/**
 * Rows [row0, row0 + rows) of the column matrix of x (n×h×w×c), into cols: the columns of window
 * rows [ky0, ky1) (all of them for 0, kh), so rows × (ky1 - ky0)·kw·c floats; a thread's part of
 * a filter gradient is some of the window's rows (conv.ts). n is implied by the rows asked for.
 */
export function im2col(
  x: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32,
  row0: i32, rows: i32, ky0: i32, ky1: i32, cols: usize,
): void {
  const pixelBytes = <usize>c << 2;
  const runBytes = <usize>(kw * c) << 2;
  let d = cols;
  let b = row0 / (oh * ow);
  let oy = (row0 / ow) % oh;
  let ox = row0 % ow;
  for (let r = 0; r < rows; r++) {
    const ix0 = ox * sw - padLeft;
    const inside = ix0 >= 0 && ix0 + kw <= w;
    for (let ky = ky0; ky < ky1; ky++) {
      const iy = oy * sh - padTop + ky;
      if (iy < 0 || iy >= h) {
        zeroRun(d, runBytes);
      } else {
        const rowStart = x + (<usize>((b * h + iy) * w) << 2) * c;
        if (inside) copyRun(d, rowStart + <usize>ix0 * pixelBytes, runBytes);
        else {
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx;
            const dk = d + <usize>kx * pixelBytes;
            if (ix < 0 || ix >= w) zeroRun(dk, pixelBytes);
            else copyRun(dk, rowStart + <usize>ix * pixelBytes, pixelBytes);
          }
        }
      }
      d += runBytes;
    }
    if (++ox == ow) {
      ox = 0;
      if (++oy == oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/**
 * The adjoint of im2col for rows [row0, row0 + rows): every entry of cols added into the pixel
 * of dx (n×h×w×c) it came from. dx is not cleared here (blocks accumulate into it).
 */
export function col2im(
  cols: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32,
  row0: i32, rows: i32, dx: usize,
): void {
  const pixelBytes = <usize>c << 2;
  const runBytes = <usize>(kw * c) << 2;
  let s = cols;
  let b = row0 / (oh * ow);
  let oy = (row0 / ow) % oh;
  let ox = row0 % ow;
  for (let r = 0; r < rows; r++) {
    const ix0 = ox * sw - padLeft;
    const inside = ix0 >= 0 && ix0 + kw <= w;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - padTop + ky;
      if (iy >= 0 && iy < h) {
        const rowStart = dx + (<usize>((b * h + iy) * w) << 2) * c;
        if (inside) addRun(rowStart + <usize>ix0 * pixelBytes, s, kw * c);
        else {
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx;
            if (ix >= 0 && ix < w) addRun(rowStart + <usize>ix * pixelBytes, s + <usize>kx * pixelBytes, c);
          }
        }
      }
      s += runBytes;
    }
    if (++ox == ow) {
      ox = 0;
      if (++oy == oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/**
 * Where each of rows [row0, row0 + rows) of the column matrix reads x, 16 bytes a row at info:
 * its image's address, and the top and left of its window (oy·sh - padTop, ox·sw - padLeft).
 * Computed once for a block of rows, so that reading their windows (conv.ts, im2colPanels,
 * im2colPanelsT) does not divide for every row and window row.
 */
export function windowRows(x: usize, h: i32, w: i32, c: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32, row0: i32, rows: i32, info: usize): void {
  const image = <usize>(h * w * c) << 2;
  let b = row0 / (oh * ow);
  let oy = (row0 / ow) % oh;
  let ox = row0 % ow;
  for (let r = 0; r < rows; r++) {
    const at = info + (<usize>r << 4);
    store<u32>(at, <u32>(x + <usize>b * image));
    store<i32>(at, oy * sh - padTop, 4);
    store<i32>(at, ox * sw - padLeft, 8);
    if (++ox == ow) {
      ox = 0;
      if (++oy == oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/**
 * Where row `row` (of those windowRows described at info) has window row ky: its kw·c floats,
 * contiguous in x where the window is inside the image; zeros where it is above or below it;
 * otherwise a copy in tmp with zeros outside the image.
 */
@inline function windowRun(info: usize, row: i32, ky: i32, h: i32, w: i32, c: i32, kw: i32, tmp: usize, zeros: usize): usize {
  const at = info + (<usize>row << 4);
  const iy = load<i32>(at, 4) + ky;
  if (iy < 0 || iy >= h) return zeros;
  const ix0 = load<i32>(at, 8);
  const pixelBytes = <usize>c << 2;
  const rowStart = <usize>load<u32>(at) + <usize>(iy * w) * pixelBytes;
  if (ix0 >= 0 && ix0 + kw <= w) return rowStart + <usize>ix0 * pixelBytes;
  for (let kx = 0; kx < kw; kx++) {
    const ix = ix0 + kx;
    const dk = tmp + <usize>kx * pixelBytes;
    if (ix < 0 || ix >= w) zeroRun(dk, pixelBytes);
    else copyRun(dk, rowStart + <usize>ix * pixelBytes, pixelBytes);
  }
  return tmp;
}

/**
 * Whether row `row` (of those windowRows described at info) has its whole kh x kw window inside
 * the image: then its window row ky is the kw·c floats at windowStart + ky · w·c floats.
 */
@inline export function windowInside(info: usize, row: i32, h: i32, w: i32, kh: i32, kw: i32): bool {
  const at = info + (<usize>row << 4);
  const top = load<i32>(at, 4);
  const left = load<i32>(at, 8);
  return top >= 0 && top + kh <= h && left >= 0 && left + kw <= w;
}

@inline export function windowStart(info: usize, row: i32, w: i32, c: i32): usize {
  const at = info + (<usize>row << 4);
  return <usize>load<u32>(at) + (<usize>((load<i32>(at, 4) * w + load<i32>(at, 8)) * c) << 2);
}

/** len floats of four rows (at p0..p3) into a panel at d, transposed: row r's float j at d + 16·j + 4·r. */
@inline function panelColumns(p0: usize, p1: usize, p2: usize, p3: usize, len: i32, d: usize): void {
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const o = <usize>j << 2;
    storeTransposed4(v128.load(p0 + o), v128.load(p1 + o), v128.load(p2 + o), v128.load(p3 + o), d, 16);
    d += 64;
  }
  for (; j < len; j++) {
    const o = <usize>j << 2;
    store<f32>(d, load<f32>(p0 + o));
    store<f32>(d, load<f32>(p1 + o), 4);
    store<f32>(d, load<f32>(p2 + o), 8);
    store<f32>(d, load<f32>(p3 + o), 12);
    d += 16;
  }
}

/**
 * Rows [0, rows) of those described at info (windowRows) and columns [k0, k0 + kc) of the column
 * matrix, written straight into the GEMM's packed layout of A (gemm.ts packA): panels of 4 rows,
 * k-major, the last panel padded with zeros. So a convolution's forward product reads x once,
 * without the column matrix being written out and packed again. tmp holds 4 · kw·c floats, and
 * zeros kw·c zeros. A panel whose four windows all lie inside the image (most of them) reads x
 * straight, without asking windowRun where each window row is: for a one-channel image that
 * asking was a third of the forward convolution's time.
 */
export function im2colPanels(
  info: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32, rows: i32, k0: i32, kc: i32, dst: usize, tmp: usize, zeros: usize,
): void {
  const run = kw * c;
  const runBytes = <usize>run << 2;
  const rowBytes = <usize>(w * c) << 2;
  // Column k0's window row and place in it; each chunk below ends a window row, or the slice.
  const firstKy = k0 / run;
  const firstWithin = k0 - firstKy * run;
  for (let i0 = 0; i0 < rows; i0 += 4) {
    const panel = dst + (<usize>(i0 * kc) << 2);
    const n = min(4, rows - i0);
    if (
      n == 4 &&
      windowInside(info, i0, h, w, kh, kw) &&
      windowInside(info, i0 + 1, h, w, kh, kw) &&
      windowInside(info, i0 + 2, h, w, kh, kw) &&
      windowInside(info, i0 + 3, h, w, kh, kw)
    ) {
      const s0 = windowStart(info, i0, w, c);
      const s1 = windowStart(info, i0 + 1, w, c);
      const s2 = windowStart(info, i0 + 2, w, c);
      const s3 = windowStart(info, i0 + 3, w, c);
      let ky = firstKy;
      let within = firstWithin;
      for (let col = k0; col < k0 + kc; ) {
        const len = min(run - within, k0 + kc - col);
        const o = <usize>ky * rowBytes + (<usize>within << 2);
        panelColumns(s0 + o, s1 + o, s2 + o, s3 + o, len, panel + (<usize>(col - k0) << 4));
        col += len;
        ky++;
        within = 0;
      }
      continue;
    }
    let ky = firstKy;
    let within = firstWithin;
    for (let col = k0; col < k0 + kc; ky++, within = 0) {
      const off = <usize>within << 2;
      const len = min(run - within, k0 + kc - col);
      // The four rows' sources; a row past the end reads zeros.
      const p0 = windowRun(info, i0, ky, h, w, c, kw, tmp, zeros) + off;
      const p1 = (n > 1 ? windowRun(info, i0 + 1, ky, h, w, c, kw, tmp + runBytes, zeros) : zeros) + off;
      const p2 = (n > 2 ? windowRun(info, i0 + 2, ky, h, w, c, kw, tmp + 2 * runBytes, zeros) : zeros) + off;
      const p3 = (n > 3 ? windowRun(info, i0 + 3, ky, h, w, c, kw, tmp + 3 * runBytes, zeros) : zeros) + off;
      panelColumns(p0, p1, p2, p3, len, panel + (<usize>(col - k0) << 4));
      col += len;
    }
  }
}

/**
 * Row `row`'s whole kh x kw window (of those windowRows described at info) copied to dst as kh runs
 * of kw·c floats, with zeros outside the image: a window across the border, made contiguous.
 */
export function windowCopy(info: usize, row: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, dst: usize): void {
  const at = info + (<usize>row << 4);
  const top = load<i32>(at, 4);
  const left = load<i32>(at, 8);
  const pixelBytes = <usize>c << 2;
  for (let ky = 0; ky < kh; ky++) {
    const iy = top + ky;
    for (let kx = 0; kx < kw; kx++) {
      const ix = left + kx;
      const d = dst + <usize>(ky * kw + kx) * pixelBytes;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) zeroRun(d, pixelBytes);
      else copyRun(d, <usize>load<u32>(at) + <usize>(iy * w + ix) * pixelBytes, pixelBytes);
    }
  }
}

/**
 * Rows [0, kc) of those described at info (windowRows) and the columns of window rows [ky0, ky1)
 * of the column matrix, written straight into the GEMM's packed layout of its transpose (gemm.ts
 * packA with transA): panel p holds columns 4p..4p+3 of every row, so 4 rows' 4 columns are 64
 * contiguous bytes. For a filter gradient; kw·c must be a multiple of 4. tmp holds 4 · kw·c
 * floats, and zeros kw·c zeros. Four rows whose windows all lie inside the image read x straight
 * (as im2colPanels).
 */
export function im2colPanelsT(
  info: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32, kc: i32, ky0: i32, ky1: i32, dst: usize, tmp: usize, zeros: usize,
): void {
  const run = kw * c;
  const runBytes = <usize>run << 2;
  const rowBytes = <usize>(w * c) << 2;
  // Bytes from one panel to the next.
  const panelBytes = <usize>kc << 4;
  let kk = 0;
  for (; kk + 4 <= kc; kk += 4) {
    const inside =
      windowInside(info, kk, h, w, kh, kw) &&
      windowInside(info, kk + 1, h, w, kh, kw) &&
      windowInside(info, kk + 2, h, w, kh, kw) &&
      windowInside(info, kk + 3, h, w, kh, kw);
    const s0 = inside ? windowStart(info, kk, w, c) : 0;
    const s1 = inside ? windowStart(info, kk + 1, w, c) : 0;
    const s2 = inside ? windowStart(info, kk + 2, w, c) : 0;
    const s3 = inside ? windowStart(info, kk + 3, w, c) : 0;
    for (let ky = ky0; ky < ky1; ky++) {
      const o = <usize>ky * rowBytes;
      const p0 = inside ? s0 + o : windowRun(info, kk, ky, h, w, c, kw, tmp, zeros);
      const p1 = inside ? s1 + o : windowRun(info, kk + 1, ky, h, w, c, kw, tmp + runBytes, zeros);
      const p2 = inside ? s2 + o : windowRun(info, kk + 2, ky, h, w, c, kw, tmp + 2 * runBytes, zeros);
      const p3 = inside ? s3 + o : windowRun(info, kk + 3, ky, h, w, c, kw, tmp + 3 * runBytes, zeros);
      let d = dst + <usize>((ky - ky0) * run / 4) * panelBytes + (<usize>kk << 4);
      for (let o: usize = 0; o < runBytes; o += 16) {
        v128.store(d, v128.load(p0 + o));
        v128.store(d, v128.load(p1 + o), 16);
        v128.store(d, v128.load(p2 + o), 32);
        v128.store(d, v128.load(p3 + o), 48);
        d += panelBytes;
      }
    }
  }
  for (; kk < kc; kk++) {
    for (let ky = ky0; ky < ky1; ky++) {
      const p = windowRun(info, kk, ky, h, w, c, kw, tmp, zeros);
      let d = dst + <usize>((ky - ky0) * run / 4) * panelBytes + (<usize>kk << 4);
      for (let o: usize = 0; o < runBytes; o += 16) {
        v128.store(d, v128.load(p + o));
        d += panelBytes;
      }
    }
  }
}

/** dst[i] += src[i] for i < n. */
export function addInto(dst: usize, src: usize, n: i32): void {
  addRun(dst, src, n);
}

/**
 * rows runs of rowBytes bytes (a multiple of 4) from src to dst, the runs srcStride and dstStride
 * bytes apart: a concatenation along an inner axis, or one part of a split, as one call where
 * the engine's own kernels copy row by row from JavaScript.
 */
export function copyRows(rows: i32, rowBytes: i32, src: usize, srcStride: i32, dst: usize, dstStride: i32): void {
  for (let r = 0; r < rows; r++) copyRun(dst + <usize>r * <usize>dstStride, src + <usize>r * <usize>srcStride, <usize>rowBytes);
}
