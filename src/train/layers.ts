/**
 * Dense layers whose gradients are arranged for the wasm engine: its matMul is fast for
 * plain A·B but 10-25x slower with transposeA/transposeB (ENVIRONMENT.md), which is what
 * tfjs's own matMul gradient uses. Here the backward pass transposes explicitly and then
 * multiplies plainly. Numerically it is the same gradient.
 */
import type { Tensor, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs-core';
import type { Rng } from '../core/random';
import type { Activation } from '../core/spec';
import type { Tf } from './backend';

export interface DenseParams {
  w: Variable; // in x out
  b: Variable; // out
}

export type DenseFn = (x: Tensor2D, w: Tensor2D, b: Tensor1D) => Tensor2D;

/** y = x·W + b, with a transpose-then-multiply backward pass. */
export function makeDense(tf: Tf): DenseFn {
  const op = tf.customGrad((...args) => {
    const [x, w, b, save] = args as [Tensor2D, Tensor2D, Tensor1D, (ts: Tensor[]) => void];
    save([x, w]);
    const value = tf.add(tf.matMul(x, w), b) as Tensor2D;
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xs, ws] = saved as [Tensor2D, Tensor2D];
        const dy2 = dy as Tensor2D;
        return [tf.matMul(dy2, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy2), tf.sum(dy2, 0)];
      },
    };
  });
  return (x, w, b) => op(x, w, b) as Tensor2D;
}

/** Glorot-uniform weights drawn from our seeded generator, so every engine starts from the same point. */
export function initDense(tf: Tf, rng: Rng, fanIn: number, fanOut: number, name: string): DenseParams {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const w = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < w.length; i++) w[i] = (rng.uniform() * 2 - 1) * limit;
  return {
    w: tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true, `${name}/w`),
    b: tf.variable(tf.zeros([fanOut]), true, `${name}/b`),
  };
}

export function activate(tf: Tf, x: Tensor2D, a: Activation): Tensor2D {
  switch (a) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'elu':
      return tf.elu(x);
    case 'softplus':
      return tf.softplus(x);
    case 'leaky_relu':
      return tf.leakyRelu(x, 0.2);
    case 'linear':
      return x;
  }
}
