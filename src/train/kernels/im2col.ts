/**
 * im2col and its adjoint col2im for NHWC images, so that a convolution and both its gradients
 * are products of the trainer's GEMM (src/train/wasmConvKernels.ts):
 *   cols[(b, oy, ox), (ky, kx, c)] = x[b, oy·sh - padTop + ky, ox·sw - padLeft + kx, c]   (0 outside)
 * Both work on the rows [row0, row0 + rows) of that matrix, so a caller can go through it in
 * blocks that stay in cache. A row is kh runs of kw·c floats; where the window lies inside the
 * image each run is one contiguous stretch of x, copied whole.
 */

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
 * Rows [row0, row0 + rows) of the column matrix of x (n×h×w×c), into cols (rows × kh·kw·c).
 * n is implied by the rows asked for.
 */
export function im2col(
  x: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32,
  row0: i32, rows: i32, cols: usize,
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
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - padTop + ky;
      if (iy < 0 || iy >= h) {
        memory.fill(d, 0, runBytes);
      } else {
        const rowStart = x + (<usize>((b * h + iy) * w) << 2) * c;
        if (inside) memory.copy(d, rowStart + <usize>ix0 * pixelBytes, runBytes);
        else {
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx;
            const dk = d + <usize>kx * pixelBytes;
            if (ix < 0 || ix >= w) memory.fill(dk, 0, pixelBytes);
            else memory.copy(dk, rowStart + <usize>ix * pixelBytes, pixelBytes);
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

/** dst[i] += src[i] for i < n. */
export function addInto(dst: usize, src: usize, n: i32): void {
  addRun(dst, src, n);
}
