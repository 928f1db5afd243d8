/**
 * A layer's bias and activation around the trainer's GEMM (src/train/layers.ts): a dense layer's
 * bias and ReLU are applied to each block of the product where it was just computed (a
 * convolution's to its output, channels last), and the backward pass's ReLU mask and bias
 * gradient are one pass over dy.
 */

/**
 * dst[i, j] = act(src[i, j] + bias[j]) on an m×n block of row stride ld (src may be dst: a product's
 * block, in place); act is ReLU or the identity.
 */
export function biasActivation(m: i32, n: i32, src: usize, dst: usize, ld: i32, bias: usize, relu: bool): void {
  const vectorEnd = n & ~3;
  const zero = f32x4.splat(0);
  for (let i = 0; i < m; i++) {
    const offset = <usize>(i * ld) << 2;
    const from = src + offset;
    const to = dst + offset;
    let j = 0;
    for (; j < vectorEnd; j += 4) {
      const o = <usize>j << 2;
      const v = f32x4.add(v128.load(from + o), v128.load(bias + o));
      v128.store(to + o, relu ? f32x4.max(v, zero) : v);
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(from + o) + load<f32>(bias + o);
      store<f32>(to + o, relu ? max<f32>(v, 0) : v);
    }
  }
}

/**
 * Columns [col0, col0 + cols) of an m×n layer output y and its gradient dy: for ReLU,
 * dpre = dy where y > 0, else 0 (the gradient before the activation); colSums[j] = Σ_i dpre[i, j],
 * the bias gradient (dpre is dy itself without ReLU, and is not written).
 */
export function activationGradColumns(m: i32, n: i32, col0: i32, cols: i32, y: usize, dy: usize, relu: bool, dpre: usize, colSums: usize): void {
  const end = col0 + cols;
  const vectorEnd = col0 + (cols & ~3);
  const zero = f32x4.splat(0);
  memory.fill(colSums + (<usize>col0 << 2), 0, <usize>cols << 2);
  for (let i = 0; i < m; i++) {
    const row = <usize>(i * n) << 2;
    let j = col0;
    for (; j < vectorEnd; j += 4) {
      const o = <usize>j << 2;
      let g = v128.load(dy + row + o);
      if (relu) {
        g = v128.and(g, f32x4.gt(v128.load(y + row + o), zero));
        v128.store(dpre + row + o, g);
      }
      v128.store(colSums + o, f32x4.add(v128.load(colSums + o), g));
    }
    for (; j < end; j++) {
      const o = <usize>j << 2;
      let g = load<f32>(dy + row + o);
      if (relu) {
        g = load<f32>(y + row + o) > 0 ? g : 0;
        store<f32>(dpre + row + o, g);
      }
      store<f32>(colSums + o, load<f32>(colSums + o) + g);
    }
  }
}
