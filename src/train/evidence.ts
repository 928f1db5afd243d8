/**
 * The trainer's side of the evidence beside the gap (core/evidence.ts has the math):
 *  - active units, per-latent entropies and the mutual information, from the encodings the
 *    diagnostics pass keeps;
 *  - a running average of recent weights, evaluated in the diagnostics pass: when the averaged
 *    model's ELBO beats the current one, the learning rate's noise is what holds the ELBO down,
 *    and the difference is what a smaller step would gain (Polyak-Ruppert averaging: the average of
 *    iterates that jitter around an optimum sits closer to it than any one iterate).
 */
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { latentEvidence, type LatentEvidence } from '../core/evidence';
import { Rng } from '../core/random';
import type { Tf } from './tf';
import type { Encodings } from './diagnostics';

/** Points of the mutual-information estimate: its cost grows with their square. */
export const MI_POINTS = 512;

/** Active units, per-latent entropies and I(x; z) from the diagnostics pass's encodings (diagnostics.ts). */
export function encoderEvidence(encodings: Encodings, n: number, latentDim: number, seed: number): LatentEvidence {
  const M = Math.min(n, MI_POINTS);
  const rng = new Rng(seed);
  const eps = Float64Array.from({ length: M * latentDim }, () => rng.normal());
  return latentEvidence(encodings.nu, encodings.logT2, n, latentDim, eps);
}

/**
 * An exponential moving average of the trainable variables with a horizon of about `horizonSteps`
 * optimizer steps. It is updated every `stride` steps (a sparse average costs the step nothing
 * measurable, even on a small model where a few extra tensor ops per step would).
 */
export class WeightAverage {
  private readonly averages: Variable[];
  private readonly stride: number;
  private readonly alpha: number;
  private updates = 0;

  constructor(
    private readonly tf: Tf,
    private readonly variables: readonly Variable[],
    readonly horizonSteps: number,
  ) {
    this.stride = Math.max(1, Math.floor(horizonSteps / 16));
    this.alpha = Math.min(1, this.stride / horizonSteps);
    this.averages = variables.map((v) => tf.variable(v.clone() as Tensor, false));
  }

  /** Call after every optimizer step (`step` counts them). */
  update(step: number): void {
    if (step % this.stride !== 0) return;
    this.updates++;
    // Until the horizon is filled, weigh the updates equally (a plain mean of what has been seen).
    const a = Math.max(this.alpha, 1 / this.updates);
    this.tf.tidy(() => {
      this.variables.forEach((v, i) => {
        const avg = this.averages[i]!;
        avg.assign(this.tf.add(this.tf.mul(avg, 1 - a), this.tf.mul(v, a)));
      });
    });
  }

  /** Start the average over from the current weights (after a resume). */
  reset(): void {
    this.updates = 0;
    this.tf.tidy(() => this.variables.forEach((v, i) => this.averages[i]!.assign(v)));
  }

  /** Run `fn` with the averaged weights in place of the current ones; they are put back after. */
  withAveragedWeights<T>(fn: () => T): T {
    const saved = this.variables.map((v) => v.clone() as Tensor);
    try {
      this.variables.forEach((v, i) => v.assign(this.averages[i]!));
      return fn();
    } finally {
      this.variables.forEach((v, i) => v.assign(saved[i]!));
      saved.forEach((t) => t.dispose());
    }
  }

  dispose(): void {
    this.averages.forEach((v) => v.dispose());
  }
}
