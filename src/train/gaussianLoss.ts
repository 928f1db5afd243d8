/**
 * The data term of the Gaussian decoder's log-likelihood as one fused operation where the engine
 * has it (the wasm engine, with the trainer's kernels: kernels/gaussian.ts):
 *   e[n] = Σ_d (x[n,d] - μ[n,d])² · iv[d],   iv = exp(-log s²), one value or one per dimension,
 * so that log p(x|z) = -1/2 (e + Σ_d log s²_d + D log 2π). Written with tfjs operations this is
 * five passes over the N×D batch forward and about ten backward (square, broadcasts, sums); fused
 * it is one each way, split over the kernel threads. The gradient is
 *   ∂e/∂μ = -2 dy (x - μ) iv,   ∂e/∂iv_d = Σ_n dy_n (x - μ)²_nd  (summed over d for one iv).
 * x is data, so it gets no gradient.
 */
import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import type { Tf } from './tf';

export const SQUARED_ERROR_KERNEL = 'VaeLensWeightedSquaredError';
export const SQUARED_ERROR_GRAD_KERNEL = 'VaeLensWeightedSquaredErrorGrad';
export const SAMPLE_SQUARED_ERROR_KERNEL = 'VaeLensSampleSquaredError';

/** e for x and μ (N×D) and iv ([1, 1] or [1, D]); undefined where the engine has no fused kernel. */
export function weightedSquaredError(tf: Tf, x: Tensor2D, mu: Tensor2D, iv: Tensor2D): Tensor1D | undefined {
  if (!tf.getKernel(SQUARED_ERROR_KERNEL, tf.getBackend())) return undefined;
  const op = tf.customGrad((...args) => {
    const [m, v, save] = args as [Tensor2D, Tensor2D, (ts: Tensor[]) => void];
    save([m, v]);
    return {
      value: tf.engine().runKernel(SQUARED_ERROR_KERNEL, { x, mu: m, iv: v }) as Tensor1D,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [ms, vs] = saved as [Tensor2D, Tensor2D];
        const [dmu, colSums] = tf.engine().runKernel(SQUARED_ERROR_GRAD_KERNEL, { x, mu: ms, iv: vs, dy }) as [Tensor2D, Tensor1D];
        return [dmu, tf.reshape(vs.size === 1 ? tf.sum(colSums) : colSums, vs.shape)];
      },
    };
  });
  return op(mu, iv) as Tensor1D;
}

/**
 * The diagnostics pass's data terms in one pass over its decoder means, where the engine has the
 * fused kernel: x is P×D, mu P·S×D with rows p·S + s (S samples of each point). e holds each row's
 * Σ_d (x − μ)²·iv as weightedSquaredError sums it, colSums each column's Σ_rows (x − μ)². Forward
 * only (no gradient); undefined where the engine has no such kernel.
 */
export function sampleSquaredError(tf: Tf, x: Tensor2D, mu: Tensor2D, iv: Tensor2D, samples: number): { e: Tensor1D; colSums: Tensor1D } | undefined {
  if (!tf.getKernel(SAMPLE_SQUARED_ERROR_KERNEL, tf.getBackend())) return undefined;
  const [e, colSums] = tf.engine().runKernel(SAMPLE_SQUARED_ERROR_KERNEL, { x, mu, iv }, { samples }) as [Tensor1D, Tensor1D];
  return { e, colSums };
}
