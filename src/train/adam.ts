/**
 * Adam exactly as tfjs's AdamOptimizer computes it (same operations, same order, same state),
 * but with each variable's update in a tidy of its own. tfjs runs the whole update in one tidy,
 * so the dozen temporaries of every variable stay allocated until the last variable is done:
 * for the 784-512-20 VAE that is about 13 copies of the model (43 MB) at once, and the wasm
 * engine's heap, which grows to its largest working set and never shrinks, grew by that much
 * on the first step. Here a temporary is freed as soon as it is used. The state (moments, iterations) is tfjs's own, so checkpoints written with
 * getWeights and read with setWeights are unchanged.
 */
import type { AdamOptimizer, NamedTensorMap, Optimizer, Tensor, Variable } from '@tensorflow/tfjs-core';
import type { Tf } from './tf';
import type { AdamUpdate, WasmKernels } from './wasmKernels';

interface Moment {
  originalName: string;
  variable: Variable;
}

/** AdamOptimizer's fields as tfjs-core 4.x names them (TypeScript-private, plain at run time). */
interface AdamFields {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: Moment[];
  accumulatedSecondMoment: Moment[];
}

/** `result`, after freeing the temporaries it was computed from. */
function done<T extends Tensor>(result: T, ...used: Tensor[]): T {
  for (const t of used) t.dispose();
  return result;
}

/**
 * tf.train.adam(learningRate) with tfjs's defaults (beta1 0.9, beta2 0.999, the engine's epsilon).
 * With the wasm engine's kernels, a step's updates are one job for the kernel threads (all
 * variables end to end), and each variable's update is one fused pass over its memory
 * instead of fourteen tensor operations, with the same float32 operations in the same order.
 */
export function createAdam(tf: Tf, learningRate: number, kernels?: WasmKernels): AdamOptimizer {
  class PerVariableTidyAdam extends tf.AdamOptimizer {
    override applyGradients(variableGradients: NamedTensorMap | { name: string; tensor: Tensor }[]): void {
      const s = this as unknown as AdamFields;
      const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
      const oneMinusAccBeta1 = tf.sub(1, s.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, s.accBeta2);
      // The numbers tfjs would turn into a scalar tensor at every use, made once per step, and
      // only where the tensor operations below need them (the fused update takes them as numbers).
      let c: Record<'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'epsilon' | 'minusLearningRate', Tensor> | undefined;
      const scalars = () =>
        (c ??= {
          beta1: tf.scalar(s.beta1),
          oneMinusBeta1: tf.scalar(1 - s.beta1),
          beta2: tf.scalar(s.beta2),
          oneMinusBeta2: tf.scalar(1 - s.beta2),
          epsilon: tf.scalar(s.epsilon),
          minusLearningRate: tf.scalar(-s.learningRate),
        });
      const zeroMoment = (name: string, value: Tensor): Moment => ({
        originalName: name,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      });
      const updates: AdamUpdate[] = [];
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        s.accumulatedFirstMoment[i] ??= zeroMoment(`${name}/m`, value);
        s.accumulatedSecondMoment[i] ??= zeroMoment(`${name}/v`, value);
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        if (kernels) {
          updates.push({ value, gradient, firstMoment: s.accumulatedFirstMoment[i]!.variable, secondMoment: s.accumulatedSecondMoment[i]!.variable });
          return;
        }
        // Each temporary is freed as soon as the next operation has used it, so only a few
        // variable-sized tensors exist at once; the tidy releases the handles of the new
        // moments and value (the variables keep their data).
        const c = scalars();
        tf.tidy(() => {
          const firstMoment = s.accumulatedFirstMoment[i]!.variable;
          const secondMoment = s.accumulatedSecondMoment[i]!.variable;
          const m1 = tf.mul(firstMoment, c.beta1);
          const m2 = tf.mul(gradient, c.oneMinusBeta1);
          const newFirstMoment = done(tf.add(m1, m2), m1, m2);
          const v1 = tf.mul(secondMoment, c.beta2);
          const g2 = tf.square(gradient);
          const v2 = done(tf.mul(g2, c.oneMinusBeta2), g2);
          const newSecondMoment = done(tf.add(v1, v2), v1, v2);
          const biasCorrectedFirstMoment = tf.div(newFirstMoment, oneMinusAccBeta1);
          const biasCorrectedSecondMoment = tf.div(newSecondMoment, oneMinusAccBeta2);
          firstMoment.assign(newFirstMoment);
          secondMoment.assign(newSecondMoment);
          const root = done(tf.sqrt(biasCorrectedSecondMoment), biasCorrectedSecondMoment);
          const denominator = done(tf.add(root, c.epsilon), root);
          const ratio = done(tf.div(biasCorrectedFirstMoment, denominator), biasCorrectedFirstMoment, denominator);
          const step = done(tf.mul(ratio, c.minusLearningRate), ratio);
          value.assign(done(tf.add(step, value), step));
        });
      });
      // Every variable's update as one job: one pass of the kernel threads, not one per variable.
      if (kernels && updates.length > 0)
        kernels.adamUpdate(updates, {
          beta1: s.beta1,
          beta2: s.beta2,
          epsilon: s.epsilon,
          learningRate: s.learningRate,
          oneMinusAccBeta1: oneMinusAccBeta1.dataSync()[0]!,
          oneMinusAccBeta2: oneMinusAccBeta2.dataSync()[0]!,
        });
      tf.tidy(() => {
        s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
        s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
      });
      tf.dispose([oneMinusAccBeta1, oneMinusAccBeta2, ...Object.values(c ?? {})]);
      this.incrementIterations();
    }
  }
  return new PerVariableTidyAdam(learningRate, 0.9, 0.999);
}

/**
 * After setWeights, put beta1^(t+1) and beta2^(t+1) (the bias corrections' powers after t steps)
 * as t steps multiply them up, one float32 product a step. setWeights computes them with pow,
 * which rounds differently, and a resumed run's steps would differ in the last bits from those of
 * a run never stopped. The products reach 0 within about 10^5 steps, after which nothing changes.
 */
export function restoreAdamProducts(tf: Tf, optimizer: Optimizer, steps: number): void {
  const s = optimizer as unknown as Partial<AdamFields>;
  if (!s.accBeta1 || !s.accBeta2 || s.beta1 === undefined || s.beta2 === undefined) return;
  const product = (beta: number) => {
    const b = Math.fround(beta);
    let p = b;
    for (let t = 0; t < steps && p !== 0; t++) p = Math.fround(p * b);
    return p;
  };
  const [a1, a2] = [tf.scalar(product(s.beta1)), tf.scalar(product(s.beta2))];
  s.accBeta1.assign(a1);
  s.accBeta2.assign(a2);
  tf.dispose([a1, a2]);
}
