/**
 * The trainer's side of the evidence beside the gap (core/evidence.ts has the math):
 *  - active units, per-latent entropies and the mutual information, from the encodings the
 *    diagnostics pass keeps;
 *  - a running average of recent weights, evaluated in the diagnostics pass: when the averaged
 *    model's ELBO beats the current one, the learning rate's noise is what holds the ELBO down,
 *    and the difference is what a smaller step would gain (Polyak-Ruppert averaging: the average of
 *    iterates that jitter around an optimum sits closer to it than any one iterate);
 *  - the mean-field gap, from the decoder's Jacobian at the encoder means of a few points.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { latentEvidence, meanFieldGap, type LatentEvidence, type MeanFieldEvidence } from '../core/evidence';
import { EXP_NORMAL_RANGE } from '../core/entropy';
import { Rng } from '../core/random';
import type { Tf } from './tf';
import { passBlockRows, priorLogVariance, type Encodings } from './diagnostics';
import { variableOf } from './layers';
import type { Vae } from './model';

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
 * Points of the mean-field gap: the front of the diagnostics subset, the same at every pass, so the
 * gap has no sampling noise from pass to pass and its trend shows the smallest change. Each point
 * costs 2 x latentDim decoder rows; a pass spends at most MEAN_FIELD_ROWS on them (a conv decoder
 * with 20 latents: 51 points, about a third of its pass), and never fewer than 16 points. Beyond
 * MAX_MEAN_FIELD_LATENTS latents it is not computed: each point's Cholesky costs H³/6 and its
 * precision H² floats: 4096 latents would take 2 GiB and many minutes a pass.
 */
export const MEAN_FIELD_POINTS = 128;
const MEAN_FIELD_ROWS = 2048;
const MIN_MEAN_FIELD_POINTS = 16;
export const MAX_MEAN_FIELD_LATENTS = 256;
/**
 * Central-difference step in latent units: far below a posterior's width, far above float32's
 * rounding of the decoder's output (a ReLU decoder is piecewise linear, so only a kink within
 * the step makes the difference inexact). Where a latent's mean is large, at least STEP_ULPS of
 * its float32 rounding (the Python companion's rule), and the difference is divided by the step
 * the decoder was given: z ± step as rounded to float32.
 */
const JACOBIAN_STEP = 1e-2;
const STEP_ULPS = 4;
const FLOAT32_EPS = 2 ** -23;
/** Jacobians that differ between points by less than this share of their largest entry are one (a linear decoder). */
const LINEAR_TOLERANCE = 1e-3;

/** How many of `n` points the mean-field gap reads for `latentDim` latents (the Python companion's rule too, latent limit included). */
export function meanFieldPoints(n: number, latentDim: number): number {
  if (latentDim > MAX_MEAN_FIELD_LATENTS) return 0;
  const affordable = Math.max(MIN_MEAN_FIELD_POINTS, Math.floor(MEAN_FIELD_ROWS / (2 * latentDim)));
  return Math.min(n, MEAN_FIELD_POINTS, affordable);
}

/**
 * The mean-field gap (core/evidence.ts) of the first points of `values`: the decoder's Jacobian J at
 * each point's encoder mean by central differences, then Λ = diag(1/a^2) + Jᵀ diag(1/s^2) J per
 * point. Undefined where the weights give no finite gap, and for too many latents (meanFieldPoints).
 * `encoderMeans` (n x latentDim, from the diagnostics pass's encodings) saves encoding the points
 * again: the encoder gives each point the same bits in any batch.
 */
export function meanFieldEvidence(tf: Tf, vae: Vae, values: Float32Array, n: number, encoderMeans?: Float32Array): MeanFieldEvidence | undefined {
  const D = vae.dim;
  const H = vae.spec.latentDim;
  const P = meanFieldPoints(n, H);
  if (P === 0) return undefined;
  const centres = encoderMeans ? encoderMeans.subarray(0, P * H) : encoderMeansOf(tf, vae, values, P);
  const logS2 = decoderLogVariance(tf, vae, centres, P);
  // Rows (p, sign, h): nu_p + sign * step_ph * e_h, for the points of one block, sized as the pass's
  // blocks are (whole points: a point's 2H shifted copies stay together).
  const pointsPerBlock = Math.max(1, Math.floor(passBlockRows(D, vae.plan) / (2 * H)));
  const logA2 = priorLogVariance(vae);
  /** One point's 1/s^2 and a^2, both times e^-shift (below). */
  const w = new Float64Array(D);
  const a2 = new Float64Array(H);
  const precisions = new Float64Array(P * H * H);
  const jacobian = new Float64Array(H * D);
  const first = new Float64Array(H * D);
  /** Row h of the Jacobian times the point's 1/s^2, per d. */
  const weighted = new Float64Array(H * D);
  let spread = 0;
  let size = 0;
  let outputSize = 0;
  let smallestStep = Infinity;
  for (let p0 = 0; p0 < P; p0 += pointsPerBlock) {
    const B = Math.min(pointsPerBlock, P - p0);
    const rows = new Float32Array(B * 2 * H * H);
    const steps = new Float64Array(B * H);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const c = centres[(p0 + b) * H + h]!;
        const step = Math.max(JACOBIAN_STEP, STEP_ULPS * FLOAT32_EPS * Math.abs(c));
        const row = (sign: number) => (b * 2 + sign) * H * H + h * H;
        rows.set(centres.subarray((p0 + b) * H, (p0 + b + 1) * H), row(0));
        rows.set(centres.subarray((p0 + b) * H, (p0 + b + 1) * H), row(1));
        rows[row(0) + h] = c + step;
        rows[row(1) + h] = c - step;
        steps[b * H + h] = rows[row(0) + h]! - rows[row(1) + h]!;
        smallestStep = Math.min(smallestStep, steps[b * H + h]!);
      }
    const mu = tf.tidy(() => vae.decode(tf.tensor2d(rows, [B * 2 * H, H])).mu);
    const out = mu.dataSync() as Float32Array;
    mu.dispose();
    outputSize = Math.max(outputSize, largestMagnitude(out));
    for (let b = 0; b < B; b++) {
      const p = p0 + b;
      centralDifferences(out.subarray(b * 2 * H * D, (b + 1) * 2 * H * D), steps.subarray(b * H, (b + 1) * H), jacobian);
      // A linear decoder has one Jacobian for every point (up to the differences' rounding).
      if (p === 0) {
        first.set(jacobian);
        size = largestMagnitude(first);
      }
      spread = Math.max(spread, largestDifference(jacobian, first));
      scaledPrecisions(logS2.subarray(p * D, (p + 1) * D), logA2, w, a2);
      scaleColumns(jacobian, w, weighted);
      localPrecision(weighted, jacobian, H, D, a2, precisions.subarray(p * H * H, (p + 1) * H * H));
    }
  }
  const gap = meanFieldGap(precisions, P, H);
  // Weights that have diverged give no gap to speak of (the pass's own checks say what went wrong).
  if (!Number.isFinite(gap)) return undefined;
  // The rotation argument needs one decoder variance for all points too (a VAE-3's varies with z).
  let varies = false;
  for (let k = D; k < P * D && !varies; k++) varies = Math.abs(Math.expm1(logS2[k % D]! - logS2[k]!)) > LINEAR_TOLERANCE;
  // float32 rounds each mean by up to half an ulp of the largest (raw pixels, offsets): a difference of
  // two Jacobians holds four of them, over the smallest step.
  const rounding = (2 * FLOAT32_EPS * outputSize) / smallestStep;
  return { meanFieldGap: gap, meanFieldPoints: P, decoderLinear: P > 1 && spread <= LINEAR_TOLERANCE * size + rounding && !varies };
}

function encoderMeansOf(tf: Tf, vae: Vae, values: Float32Array, P: number): Float32Array {
  const nu = tf.tidy(() => vae.encode(tf.tensor2d(values.subarray(0, P * vae.dim), [P, vae.dim])).nu);
  const out = nu.dataSync() as Float32Array;
  nu.dispose();
  return out;
}

/** log s^2 at each point's encoder mean, P x D; a variance shared by every point is read off the model, not decoded. */
function decoderLogVariance(tf: Tf, vae: Vae, centres: Float32Array, P: number): Float32Array {
  const D = vae.dim;
  const H = vae.spec.latentDim;
  if (vae.params.decoderLogVar !== undefined) {
    const logS2 = tf.tidy(() => vae.decode(tf.tensor2d(centres, [P, H])).logS2);
    const values = logS2.dataSync() as Float32Array;
    logS2.dispose();
    return values;
  }
  // One value, or one per dimension, the same for every point.
  const values = vae.params.logS2!.dataSync() as Float32Array;
  const out = new Float32Array(P * D);
  for (let k = 0; k < P * D; k++) out[k] = values[values.length === 1 ? 0 : k % D]!;
  return out;
}

/**
 * One point's 1/s_d^2 into `w` and a_h^2 into `a2`, in float64 from the log-variances, all scaled by e^-shift:
 * that scales the point's precision Λ and leaves its gap (log-determinant against log-diagonal) as it is. The
 * shift is 0 unless a precision leaves float64's range (s^2 of e^-800): then the largest is 1.
 */
function scaledPrecisions(logS2: Float32Array, logA2: Float64Array, w: Float64Array, a2: Float64Array): void {
  let top = -Infinity;
  let bottom = Infinity;
  for (const v of logS2) [top, bottom] = [Math.max(top, -v), Math.min(bottom, -v)];
  for (const v of logA2) [top, bottom] = [Math.max(top, -v), Math.min(bottom, -v)];
  const shift = top > EXP_NORMAL_RANGE || bottom < -EXP_NORMAL_RANGE ? top : 0;
  for (let d = 0; d < logS2.length; d++) w[d] = Math.exp(-logS2[d]! - shift);
  for (let h = 0; h < logA2.length; h++) a2[h] = Math.exp(logA2[h]! + shift);
}

// The loops over a point's H x D Jacobian are small functions of their own: called for every point,
// they are compiled once and stay fast across passes, where inline in meanFieldEvidence (called
// once a pass) they ran mostly unoptimised, at several times the cost of the decoder's rows.

function largestMagnitude(a: Float32Array | Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]!));
  return m;
}

function largestDifference(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

/** J (H x D) from one point's decoded rows: its H rows shifted up, then its H rows shifted down, each by steps[h]. */
function centralDifferences(out: Float32Array, steps: Float64Array, jacobian: Float64Array): void {
  const H = steps.length;
  const D = jacobian.length / H;
  for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) jacobian[h * D + d] = (out[h * D + d]! - out[(H + h) * D + d]!) / steps[h]!;
}

/** Each row of `a` (H x D) times `w` (D) elementwise, into `out`. */
function scaleColumns(a: Float64Array, w: Float64Array, out: Float64Array): void {
  const D = w.length;
  for (let k = 0; k < a.length; k += D) for (let d = 0; d < D; d++) out[k + d] = a[k + d]! * w[d]!;
}

/**
 * Λ = diag(1/a^2) + Jᵀ diag(1/s^2) J of one point into `out` (H x H, both triangles), from
 * `weighted` (J's rows times 1/s^2) and `jacobian`, H x D each. Four entries of a row at a time:
 * each is still its own sum over d in ascending order, so the same bits as one at a time, but four
 * independent sums keep the core busy where one waits on its own additions.
 */
export function localPrecision(weighted: Float64Array, jacobian: Float64Array, H: number, D: number, a2: ArrayLike<number>, out: Float64Array): void {
  const put = (i: number, j: number, s: number) => {
    const v = s + (i === j ? 1 / a2[i]! : 0);
    out[i * H + j] = v;
    out[j * H + i] = v;
  };
  for (let i = 0; i < H; i++) {
    const wi = i * D;
    let j = 0;
    for (; j + 3 <= i; j += 4) {
      const j0 = j * D;
      const j1 = j0 + D;
      const j2 = j1 + D;
      const j3 = j2 + D;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < D; d++) {
        const x = weighted[wi + d]!;
        s0 += x * jacobian[j0 + d]!;
        s1 += x * jacobian[j1 + d]!;
        s2 += x * jacobian[j2 + d]!;
        s3 += x * jacobian[j3 + d]!;
      }
      put(i, j, s0);
      put(i, j + 1, s1);
      put(i, j + 2, s2);
      put(i, j + 3, s3);
    }
    for (; j <= i; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += weighted[wi + d]! * jacobian[j * D + d]!;
      put(i, j, s);
    }
  }
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
    this.averages = variables.map((v) => variableOf(tf, () => v.clone(), false));
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

  /** Start the average over from the current weights (a resume from a checkpoint that holds none). */
  reset(): void {
    this.updates = 0;
    this.tf.tidy(() => this.variables.forEach((v, i) => this.averages[i]!.assign(v)));
  }

  /** What a checkpoint keeps of it: the updates made, and the average of each variable, in their order. */
  state(): { updates: number; values: Float32Array[] } {
    return { updates: this.updates, values: this.averages.map((a) => a.dataSync() as Float32Array) };
  }

  /** Go on from a checkpoint's state (the values in the variables' order, of their shapes). */
  restore(updates: number, values: readonly Float32Array[]): void {
    this.updates = updates;
    this.tf.tidy(() => this.averages.forEach((a, i) => a.assign(this.tf.tensor(values[i]!, a.shape))));
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
