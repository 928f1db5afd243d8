/**
 * Dense layers with their gradients written out: dL/dx = dy·Wᵀ, dL/dW = xᵀ·dy, dL/db = Σ dy.
 * The transposes are the matMul's flags, never copies: on the wasm engine the trainer's GEMM
 * (src/train/wasmKernels.ts) reads a transposed operand while packing it, and tfjs-node and
 * the cpu engine take the flags natively.
 */
import type { Tensor, Tensor1D, Tensor2D, Tensor4D, Variable } from '@tensorflow/tfjs-core';
import type { PlannedLayer } from '../core/layers';
import type { Rng } from '../core/random';
import type { Activation } from '../core/spec';
import type { Tf } from './backend';

export interface DenseParams {
  w: Variable; // in x out
  b: Variable; // out
}

export type DenseFn = (x: Tensor2D, w: Tensor2D, b: Tensor1D) => Tensor2D;

function inputGradient(tf: Tf, dy: Tensor2D, w: Tensor2D): Tensor2D {
  return tf.matMul(dy, w, false, true);
}

function weightGradient(tf: Tf, dy: Tensor2D, x: Tensor2D): Tensor2D {
  return tf.matMul(x, dy, true, false);
}

/**
 * dL/db = the column sums of dy, as ones·dy: the wasm engine sums over axis 0 by transposing
 * dy first, which took 3-10x longer than this product (0.56 vs 0.19 ms for 128x784).
 */
function biasGradient(tf: Tf, dy: Tensor2D): Tensor1D {
  const [rows, cols] = dy.shape;
  return tf.reshape(tf.matMul(tf.ones([1, rows]), dy), [cols]);
}

/** y = x·W + b. */
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
        return [inputGradient(tf, dy2, ws), weightGradient(tf, dy2, xs), biasGradient(tf, dy2)];
      },
    };
  });
  return (x, w, b) => op(x, w, b) as Tensor2D;
}

/**
 * The same layer for an input that is data, never a function of the parameters (the
 * encoder's first layer). tfjs's customGrad computes every input's gradient eagerly, so the
 * x of makeDense would get a dL/dx that nothing reads: a full-size matMul per step. Here x
 * is not an input of the gradient at all; W and b get exactly the gradients makeDense gives.
 */
export function makeDataDense(tf: Tf): DenseFn {
  return (x, w, b) => {
    const op = tf.customGrad((...args) => {
      const [wi, bi, save] = args as [Tensor2D, Tensor1D, (ts: Tensor[]) => void];
      save([]);
      return {
        value: tf.add(tf.matMul(x, wi), bi) as Tensor2D,
        gradFunc: (dy: Tensor) => [weightGradient(tf, dy as Tensor2D, x), biasGradient(tf, dy as Tensor2D)],
      };
    });
    return op(w, b) as Tensor2D;
  };
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

/** √(2/π), in GELU's tanh form. */
const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * Weights of a planned layer: Glorot-uniform with fan-in k·k·in and fan-out k·k·out for
 * convolutions (as Keras and PyTorch's xavier_uniform count them), zero biases.
 */
export function initLayer(tf: Tf, rng: Rng, l: PlannedLayer, name: string): { w?: Variable; b?: Variable } {
  const layer = l.layer;
  switch (layer.type) {
    case 'dense':
      return initDense(tf, rng, l.input[0]!, layer.units, name);
    case 'conv2d':
    case 'conv2dTranspose': {
      const k = layer.kernel;
      const inC = l.input[2]!;
      const outC = layer.filters;
      const limit = Math.sqrt(6 / (k * k * (inC + outC)));
      // conv2d filters are [k, k, in, out]; conv2dTranspose's are [k, k, out, in].
      const shape: [number, number, number, number] = layer.type === 'conv2d' ? [k, k, inC, outC] : [k, k, outC, inC];
      const w = new Float32Array(k * k * inC * outC);
      for (let i = 0; i < w.length; i++) w[i] = (rng.uniform() * 2 - 1) * limit;
      return { w: tf.variable(tf.tensor4d(w, shape), true, `${name}/w`), b: tf.variable(tf.zeros([outC]), true, `${name}/b`) };
    }
    case 'upsample2d':
    case 'flatten':
    case 'reshape':
      return {};
  }
}

/**
 * y + b over the channels of an NHWC batch. Its bias gradient is the column sums of dy as
 * [rows, C], taken as ones·dy (see biasGradient): tfjs's own sums over the three leading
 * axes by transposing dy first on the wasm engine.
 */
export function makeChannelBias(tf: Tf): (y: Tensor4D, b: Tensor1D) => Tensor4D {
  const op = tf.customGrad((...args) => {
    const [y, b, save] = args as [Tensor4D, Tensor1D, (ts: Tensor[]) => void];
    save([]);
    return {
      value: tf.add(y, b) as Tensor4D,
      gradFunc: (dy: Tensor) => [dy, biasGradient(tf, tf.reshape(dy, [-1, b.shape[0]]) as Tensor2D)],
    };
  });
  return (y, b) => op(y, b) as Tensor4D;
}

/**
 * ReLU whose gradient is dy · step(y), one product: tfjs's own is dy · cast(step(x)), which on
 * the conv VAE's 128x14x14x32 activations cost a third pass over them for the cast.
 */
const reluOps = new WeakMap<Tf, (x: Tensor) => Tensor>();
function relu<T extends Tensor>(tf: Tf, x: T): T {
  let op = reluOps.get(tf);
  if (!op) {
    op = tf.customGrad((...args) => {
      const [xi, save] = args as [Tensor, (ts: Tensor[]) => void];
      const y = tf.relu(xi);
      save([y]);
      return { value: y, gradFunc: (dy: Tensor, saved: Tensor[]) => tf.mul(dy, tf.step(saved[0]!)) };
    }) as (x: Tensor) => Tensor;
    reluOps.set(tf, op);
  }
  return op(x) as T;
}

export function activate<T extends Tensor>(tf: Tf, x: T, a: Activation): T {
  switch (a) {
    case 'relu':
      return relu(tf, x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'elu':
      return tf.elu(x);
    case 'softplus':
      return tf.softplus(x);
    case 'leaky_relu':
    case 'leakyRelu':
      return tf.leakyRelu(x, 0.2);
    case 'gelu':
      // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))): the form PyTorch's approximate="tanh" and most VAEs use.
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C)), 1));
    case 'swish':
    case 'silu':
      return tf.mul(x, tf.sigmoid(x));
    case 'linear':
      return x;
  }
}
