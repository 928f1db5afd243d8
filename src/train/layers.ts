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
import type { Tf } from './tf';

export interface DenseParams {
  w: Variable; // in x out
  b: Variable; // out
}

export type DenseFn = (x: Tensor2D, w: Tensor2D, b: Tensor1D, activation: Activation) => Tensor2D;

function inputGradient(tf: Tf, dy: Tensor2D, w: Tensor2D): Tensor2D {
  return tf.matMul(dy, w, false, true);
}

function weightGradient(tf: Tf, dy: Tensor2D, x: Tensor2D): Tensor2D {
  return tf.matMul(x, dy, true, false);
}

/** A row of ones per engine and length, kept: every layer's bias gradient of every step needs one. */
const onesRows = new WeakMap<Tf, Map<number, Tensor2D>>();
function onesRow(tf: Tf, rows: number): Tensor2D {
  let byLength = onesRows.get(tf);
  if (!byLength) onesRows.set(tf, (byLength = new Map<number, Tensor2D>()));
  let ones = byLength.get(rows);
  if (!ones || ones.isDisposed) byLength.set(rows, (ones = tf.keep(tf.ones([1, rows]) as Tensor2D)));
  return ones;
}

/**
 * dL/db = the column sums of dy, as ones·dy: the wasm engine sums over axis 0 by transposing
 * dy first, which took 3-10x longer than this product (0.56 vs 0.19 ms for 128x784).
 */
function biasGradient(tf: Tf, dy: Tensor2D): Tensor1D {
  const [rows, cols] = dy.shape;
  return tf.reshape(tf.matMul(onesRow(tf, rows), dy), [cols]);
}

/**
 * The wasm engine's fused dense layer (registered by wasmKernels.ts): y = act(x·W + b), the bias
 * and ReLU applied to each block of the product as it is computed; and its backward pass's ReLU
 * mask and bias gradient in one pass over dy. Elsewhere a layer is a product, a sum and an activation.
 */
export const DENSE_KERNEL = 'VaeLensDense';
export const ACTIVATION_GRAD_KERNEL = 'VaeLensActivationGrad';
export const BIAS_ACTIVATION_KERNEL = 'VaeLensBiasActivation';

type Fused = 'relu' | 'linear';

function fusedActivation(tf: Tf, activation: Activation): Fused | undefined {
  if (activation !== 'relu' && activation !== 'linear') return undefined;
  return tf.getKernel(DENSE_KERNEL, tf.getBackend()) ? activation : undefined;
}

function fusedForward(tf: Tf, x: Tensor2D, w: Tensor2D, b: Tensor1D, act: Fused): Tensor2D {
  return tf.engine().runKernel(DENSE_KERNEL, { x, w, b }, { relu: act === 'relu' }) as Tensor2D;
}

/** dL/d(x·W + b) and dL/db from the layer's output y and dL/dy. */
function fusedBackward(tf: Tf, y: Tensor2D, dy: Tensor2D, act: Fused): [Tensor2D, Tensor1D] {
  const out = tf.engine().runKernel(ACTIVATION_GRAD_KERNEL, { y, dy }, { relu: act === 'relu' }) as Tensor[];
  return act === 'relu' ? [out[0] as Tensor2D, out[1] as Tensor1D] : [dy, out[0] as Tensor1D];
}

/** y = act(x·W + b). */
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
  const fusedOf = (act: Fused) =>
    tf.customGrad((...args) => {
      const [x, w, b, save] = args as [Tensor2D, Tensor2D, Tensor1D, (ts: Tensor[]) => void];
      const value = fusedForward(tf, x, w, b, act);
      save([x, w, value]);
      return {
        value,
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [xs, ws, ys] = saved as [Tensor2D, Tensor2D, Tensor2D];
          const [dpre, db] = fusedBackward(tf, ys, dy as Tensor2D, act);
          return [inputGradient(tf, dpre, ws), weightGradient(tf, dpre, xs), db];
        },
      };
    }) as (x: Tensor2D, w: Tensor2D, b: Tensor1D) => Tensor;
  const fused: Record<Fused, (x: Tensor2D, w: Tensor2D, b: Tensor1D) => Tensor> = { relu: fusedOf('relu'), linear: fusedOf('linear') };
  return (x, w, b, activation) => {
    const act = fusedActivation(tf, activation);
    if (act) return fused[act](x, w, b) as Tensor2D;
    return activate(tf, op(x, w, b) as Tensor2D, activation);
  };
}

/**
 * The same layer for an input that is data, never a function of the parameters (the
 * encoder's first layer). tfjs's customGrad computes every input's gradient eagerly, so the
 * x of makeDense would get a dL/dx that nothing reads: a full-size matMul per step. Here x
 * is not an input of the gradient at all; W and b get exactly the gradients makeDense gives.
 */
export function makeDataDense(tf: Tf): DenseFn {
  return (x, w, b, activation) => {
    const act = fusedActivation(tf, activation);
    if (act) {
      const fusedOp = tf.customGrad((...args) => {
        const [wi, bi, save] = args as [Tensor2D, Tensor1D, (ts: Tensor[]) => void];
        const value = fusedForward(tf, x, wi, bi, act);
        save([value]);
        return {
          value,
          gradFunc: (dy: Tensor, saved: Tensor[]) => {
            const [dpre, db] = fusedBackward(tf, saved[0] as Tensor2D, dy as Tensor2D, act);
            return [weightGradient(tf, dpre, x), db];
          },
        };
      });
      return fusedOp(w, b) as Tensor2D;
    }
    const op = tf.customGrad((...args) => {
      const [wi, bi, save] = args as [Tensor2D, Tensor1D, (ts: Tensor[]) => void];
      save([]);
      return {
        value: tf.add(tf.matMul(x, wi), bi) as Tensor2D,
        gradFunc: (dy: Tensor) => [weightGradient(tf, dy as Tensor2D, x), biasGradient(tf, dy as Tensor2D)],
      };
    });
    return activate(tf, op(w, b) as Tensor2D, activation);
  };
}

/**
 * A variable holding the value `make` returns. tf.variable takes a reference of its own to the
 * value's data and leaves the tensor to its caller, who must free it, or the tensor keeps the data
 * alive once the variable is assigned new values (a copy of the weights for the process's life):
 * made in a tidy, the tensor is freed and the variable keeps the data.
 */
export function variableOf(tf: Tf, make: () => Tensor, trainable: boolean, name?: string): Variable {
  return tf.tidy(() => tf.variable(make(), trainable, name));
}

/** Glorot-uniform weights drawn from our seeded generator, so every engine starts from the same point. */
export function initDense(tf: Tf, rng: Rng, fanIn: number, fanOut: number, name: string): DenseParams {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const w = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < w.length; i++) w[i] = (rng.uniform() * 2 - 1) * limit;
  return {
    w: variableOf(tf, () => tf.tensor2d(w, [fanIn, fanOut]), true, `${name}/w`),
    b: variableOf(tf, () => tf.zeros([fanOut]), true, `${name}/b`),
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
      return { w: variableOf(tf, () => tf.tensor4d(w, shape), true, `${name}/w`), b: variableOf(tf, () => tf.zeros([outC]), true, `${name}/b`) };
    }
    case 'upsample2d':
    case 'flatten':
    case 'reshape':
      return {};
  }
}

/**
 * act(y + b) over the channels of an NHWC batch (a convolution's bias and activation). Where the
 * engine has the fused kernels, one pass forward and one back (the ReLU mask and the bias
 * gradient, the column sums of dy as [rows, C]); elsewhere y + b, whose bias gradient is taken as
 * ones·dy (see biasGradient: tfjs sums over the three leading axes by transposing dy first on the
 * wasm engine), then the activation.
 */
export function makeChannelBias(tf: Tf): (y: Tensor4D, b: Tensor1D, activation: Activation) => Tensor4D {
  const op = tf.customGrad((...args) => {
    const [y, b, save] = args as [Tensor4D, Tensor1D, (ts: Tensor[]) => void];
    save([]);
    return {
      value: tf.add(y, b) as Tensor4D,
      gradFunc: (dy: Tensor) => [dy, biasGradient(tf, tf.reshape(dy, [-1, b.shape[0]]) as Tensor2D)],
    };
  });
  const fusedOf = (act: Fused) =>
    tf.customGrad((...args) => {
      const [y, b, save] = args as [Tensor4D, Tensor1D, (ts: Tensor[]) => void];
      const value = tf.engine().runKernel(BIAS_ACTIVATION_KERNEL, { x: y, b }, { relu: act === 'relu' }) as Tensor4D;
      save([value]);
      return {
        value,
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const C = b.shape[0];
          const [dpre, db] = fusedBackward(tf, tf.reshape(saved[0]!, [-1, C]) as Tensor2D, tf.reshape(dy, [-1, C]) as Tensor2D, act);
          return [tf.reshape(dpre, y.shape), db];
        },
      };
    }) as (y: Tensor4D, b: Tensor1D) => Tensor;
  const fused: Record<Fused, (y: Tensor4D, b: Tensor1D) => Tensor> = { relu: fusedOf('relu'), linear: fusedOf('linear') };
  return (y, b, activation) => {
    const act = fusedActivation(tf, activation);
    if (act) return fused[act](y, b) as Tensor4D;
    return activate(tf, op(y, b) as Tensor4D, activation);
  };
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
