/**
 * One Adam update of a parameter tensor in place, with the operations of tfjs's AdamOptimizer
 * in the same order and in float32, so that it gives the same bits as the tfjs engine's own
 * (src/train/adam.ts): no fused multiply-add here.
 *   m ← β1·m + (1-β1)·g,  v ← β2·v + (1-β2)·g²
 *   p ← (m/(1-β1ᵗ)) / (√(v/(1-β2ᵗ)) + ε) · (-lr) + p
 */
export function adamUpdate(
  n: i32, param: usize, grad: usize, firstMoment: usize, secondMoment: usize,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  oneMinusAccBeta1: f32, oneMinusAccBeta2: f32, epsilon: f32, minusLearningRate: f32,
): void {
  const vb1 = f32x4.splat(beta1), vomb1 = f32x4.splat(oneMinusBeta1);
  const vb2 = f32x4.splat(beta2), vomb2 = f32x4.splat(oneMinusBeta2);
  const vc1 = f32x4.splat(oneMinusAccBeta1), vc2 = f32x4.splat(oneMinusAccBeta2);
  const veps = f32x4.splat(epsilon), vlr = f32x4.splat(minusLearningRate);
  const vectorEnd = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < vectorEnd; o += 16) {
    const g = v128.load(grad + o);
    const m = f32x4.add(f32x4.mul(v128.load(firstMoment + o), vb1), f32x4.mul(g, vomb1));
    const v = f32x4.add(f32x4.mul(v128.load(secondMoment + o), vb2), f32x4.mul(f32x4.mul(g, g), vomb2));
    v128.store(firstMoment + o, m);
    v128.store(secondMoment + o, v);
    const denominator = f32x4.add(f32x4.sqrt(f32x4.div(v, vc2)), veps);
    const step = f32x4.mul(f32x4.div(f32x4.div(m, vc1), denominator), vlr);
    v128.store(param + o, f32x4.add(step, v128.load(param + o)));
  }
  const end = <usize>n << 2;
  for (; o < end; o += 4) {
    const g = load<f32>(grad + o);
    const m = load<f32>(firstMoment + o) * beta1 + g * oneMinusBeta1;
    const v = load<f32>(secondMoment + o) * beta2 + g * g * oneMinusBeta2;
    store<f32>(firstMoment + o, m);
    store<f32>(secondMoment + o, v);
    const step = (m / oneMinusAccBeta1) / (Mathf.sqrt(v / oneMinusAccBeta2) + epsilon) * minusLearningRate;
    store<f32>(param + o, step + load<f32>(param + o));
  }
}

/**
 * Adam on the elements [start, end) of several parameter tensors taken end to end, each described
 * in `table` by five int32 words: its length and the byte addresses of its parameter, gradient
 * and both moments. The update is element-wise, so any cut gives the same bits.
 */
export function adamUpdateTable(
  table: usize, count: i32, start: i32, end: i32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  oneMinusAccBeta1: f32, oneMinusAccBeta2: f32, epsilon: f32, minusLearningRate: f32,
): void {
  let offset = 0;
  for (let i = 0; i < count && offset < end; i++) {
    const entry = table + (<usize>(i * 5) << 2);
    const n = load<i32>(entry);
    const from = max(start, offset);
    const to = min(end, offset + n);
    if (from < to) {
      const skip = <usize>(from - offset) << 2;
      adamUpdate(
        to - from, load<u32>(entry, 4) + skip, load<u32>(entry, 8) + skip, load<u32>(entry, 12) + skip, load<u32>(entry, 16) + skip,
        beta1, oneMinusBeta1, beta2, oneMinusBeta2, oneMinusAccBeta1, oneMinusAccBeta2, epsilon, minusLearningRate,
      );
    }
    offset += n;
  }
}
