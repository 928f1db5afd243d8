/**
 * The diagnostics pass: run the encoder once per point and the decoder on S samples per
 * point, block by block, and gather the sufficient statistics of core/entropy.ts.
 * The ELBO's own per-sample terms (log p(x|z), KL) and the decomposition's statistics
 * (squared errors, second moments, log-variances) are read separately, so the identity
 * ELBO - Hsum = R_dec + R_prior checks the implementation rather than restating it.
 */
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { LOG_2PI, LOG_2PIE } from '../core/constants';
import type { NetworkPlan } from '../core/layers';
import { MODEL_TYPE_INFO } from '../core/modelTypes';
import { decompose, emptyPassStatistics, ratioToVariance, type Decomposition, type DecoderVariance, type PassStatistics } from '../core/entropy';
import { DEFAULT_DIAGNOSTIC_SUBSET, type VaeSpec } from '../core/spec';
import type { Dataset } from '../data/dataset';
import { gatherRows, subsetIndices } from '../data/scaling';
import type { Tf } from './tf';
import type { Vae } from './model';
import { activationBytes } from './modelSize';

/**
 * Decoder rows per random draw: the noise for a chunk of points is drawn at once with the
 * seed `seed + chunk`, which fixes the samples independently of how the work is blocked.
 */
const ROWS_PER_DRAW = 16384;
/**
 * Decoder rows evaluated at once (and their points encoded at once), at most. Every [rows, D]
 * intermediate lives in the engine's memory until its block ends, and the wasm engine's heap
 * grows to the largest working set and never shrinks: at 512 rows of 784 floats a block needs
 * ~16 MB. Each block repacks the decoder's weights (~0.2 ms), which larger blocks would save at
 * the price of memory.
 */
const ROWS_PER_BLOCK = 512;
/**
 * Engine memory a block may take. Measured with no hidden layers at 512 rows of D = 20000: the
 * heap grew by 7 (VAE-1) and 15 (VAE-3) copies of [rows, D]; the hidden layers' own outputs come
 * on top. Without this bound, 512 samples of a 100k-dimensional point took ~3 GiB and the pass
 * died past the engine's 2 GiB.
 */
const BLOCK_BYTES = 256 * 2 ** 20;
const PASS_COPIES_OF_OUTPUT = 16;
/**
 * Beyond this |log s^2|, float32's exp(±log s^2) overflows or goes subnormal (e^-87.3 is its least normal
 * number): a row whose variance reaches it has its decoder terms computed again in float64.
 */
const FLOAT32_EXP_RANGE = 87;

/** Rows of a block for this model: ROWS_PER_BLOCK, fewer where a row's intermediates are large. */
export function passBlockRows(dim: number, plan: NetworkPlan, budgetBytes = BLOCK_BYTES): number {
  const rowBytes = PASS_COPIES_OF_OUTPUT * dim * 4 + activationBytes(plan, 1);
  return Math.max(1, Math.min(ROWS_PER_BLOCK, Math.floor(budgetBytes / rowBytes)));
}

export interface PassInput {
  /** Row-major points to evaluate, n x dim. */
  values: Float32Array;
  n: number;
  samples: number;
  seed: number;
}

/** Each point's encoder mean nu and log-variance log t^2, n x latentDim: the evidence beside the gap reads them. */
export interface Encodings {
  nu: Float32Array;
  logT2: Float32Array;
}

/**
 * The points a run's diagnostics passes evaluate: a fixed, seeded subset of the training data
 * (`diagnostics.subset`, default all up to DEFAULT_DIAGNOSTIC_SUBSET). With `points`, that many
 * from the front of the same seeded shuffle: fewer points are a subset of the run's. The same
 * for every pass of a run and for `vae-lens eval`.
 */
export function diagnosticSubset(train: Dataset, spec: VaeSpec, points?: number): { values: Float32Array; n: number } {
  const k = Math.min(train.n, points ?? spec.diagnostics.subset ?? DEFAULT_DIAGNOSTIC_SUBSET);
  // All of them, in order: the data itself, not a copy (eval --points 60000 would double the memory).
  if (k === train.n) return { values: train.values.subarray(0, train.n * train.dim), n: train.n };
  const rows = subsetIndices(train.n, k, spec.training.seed + 7);
  return { values: gatherRows(train.values, train.dim, rows, 0, rows.length, new Float32Array(rows.length * train.dim)), n: rows.length };
}

export function gatherStatistics(tf: Tf, vae: Vae, input: PassInput, encodings?: Encodings, blockRows = passBlockRows(vae.dim, vae.plan)): PassStatistics {
  const { n: N, samples: S } = input;
  const D = vae.dim;
  const H = vae.spec.latentDim;
  const latentVar = MODEL_TYPE_INFO[vae.spec.type].decoderVariance === 'per-point';
  const st = emptyPassStatistics(N, S, D, H, latentVar);
  const pointsPerChunk = Math.max(1, Math.floor(ROWS_PER_DRAW / S));
  // Whole points where their samples fit in a block; else one point at a time, its samples split.
  const pointsPerBlock = Math.max(1, Math.floor(blockRows / S));
  const samplesPerBlock = Math.min(S, blockRows);
  const read = (t: Tensor): Float32Array => t.dataSync() as Float32Array;
  const sharedLogS2 = vae.params.logS2?.dataSync() as Float32Array | undefined;
  const logA2 = priorLogVariance(vae);
  // A prior variance whose 1/a^2 float32 cannot hold puts every point's KL in float64 (pointsInFloat64).
  const widePrior = logA2.some((v) => Math.abs(v) > FLOAT32_EXP_RANGE);

  for (let start = 0, chunk = 0; start < N; start += pointsPerChunk, chunk++) {
    const C = Math.min(pointsPerChunk, N - start);
    // Rows n*S + s: the same order as PassStatistics.
    const eps = tf.randomNormal([C * S, H], 0, 1, 'float32', input.seed + chunk) as Tensor2D;
    for (let p0 = 0; p0 < C; p0 += pointsPerBlock) {
      const P = Math.min(pointsPerBlock, C - p0);
      const first = start + p0;
      for (let s0 = 0; s0 < S; s0 += samplesPerBlock) {
        const B = Math.min(samplesPerBlock, S - s0);
        // The point's own terms once, with its first samples.
        const once = s0 === 0;
        const out = tf.tidy(() => {
          const x = tf.tensor2d(input.values.subarray(first * D, (first + P) * D), [P, D]);
          const e = vae.encode(x);
          const klLatent = vae.klPerLatent(e, vae.priorLogVar());
          // Encodings and x are broadcast over each point's B samples, never repeated.
          const blockEps = tf.slice(eps, [p0 * S + s0, 0], [P * B, H]);
          const dec = vae.decode(vae.samplePerPoint(e, blockEps, B));
          // One fused pass over the decoder means where the engine has it (one variance for all points).
          const fused = vae.dataTermsPerSample(x, dec, B);
          const sq = fused ? undefined : tf.square(tf.sub(tf.reshape(x, [P, 1, D]), tf.reshape(dec.mu, [P, B, D])));
          // Column sums as ones·sq: the engine sums over leading axes by transposing first.
          const columnSums = (t: Tensor) => tf.reshape(tf.matMul(tf.ones([1, P * B]), tf.reshape(t, [P * B, D])), [D]);
          return {
            kl: once ? tf.sum(klLatent, 1) : undefined,
            sumLogT2: once ? tf.sum(e.logT2, 1) : undefined,
            klLatentSum: once ? tf.sum(klLatent, 0) : undefined,
            momentSum: once ? tf.sum(tf.add(tf.square(e.nu), tf.exp(e.logT2)), 0) : undefined,
            logLik: fused?.logLik ?? vae.logLikelihoodPerSample(x, dec, B),
            sqErrSum: fused?.sqErrSum ?? columnSums(sq!),
            hDec: latentVar ? tf.mul(tf.add(tf.sum(dec.logS2, 1), D * LOG_2PIE), 0.5) : undefined,
            normSqErr: latentVar ? tf.reshape(tf.sum(tf.mul(sq!, tf.exp(tf.neg(tf.reshape(dec.logS2, [P, B, D])))), -1), [P * B]) : undefined,
            // Per row, added up in float64 below: one float32 sum over a block's rows x D values loses digits.
            varianceSum: latentVar ? tf.sum(tf.exp(dec.logS2), 1) : undefined,
            // Each row's range of log s^2(z), and the outputs themselves, for the rows float32 cannot hold (rowsInFloat64).
            logS2Max: latentVar ? tf.max(dec.logS2, 1) : undefined,
            logS2Min: latentVar ? tf.min(dec.logS2, 1) : undefined,
            mu: dec.mu,
            logS2: latentVar ? dec.logS2 : undefined,
            nu: once ? e.nu : undefined,
            logT2: once ? e.logT2 : undefined,
          };
        });
        if (out.nu && out.logT2) {
          const [nu, logT2] = [read(out.nu), read(out.logT2)];
          if (encodings) {
            encodings.nu.set(nu, first * H);
            encodings.logT2.set(logT2, first * H);
          }
          const kl = read(out.kl!);
          const klLatentSum = read(out.klLatentSum!);
          const momentSum = read(out.momentSum!);
          st.klPerPoint.set(kl, first);
          st.sumLogT2PerPoint.set(read(out.sumLogT2!), first);
          const redo: number[] = [];
          for (let p = 0; p < P; p++)
            if (widePrior || !Number.isFinite(kl[p]!) || logT2.subarray(p * H, (p + 1) * H).some((v) => v > FLOAT32_EXP_RANGE)) redo.push(p);
          if (redo.length > 0 || !klLatentSum.every(Number.isFinite) || !momentSum.every(Number.isFinite))
            pointsInFloat64(st, first, P, redo, nu, logT2, logA2);
          else {
            addInto(st.klPerLatentSum, klLatentSum);
            addInto(st.secondMomentSum, momentSum);
          }
        }
        // A block's rows are contiguous: all of P whole points, or samples s0.. of one point.
        const row = first * S + s0;
        const logLik = read(out.logLik);
        st.logLikPerSample.set(logLik, row);
        addInto(st.sqErrSum, read(out.sqErrSum));
        const redo: number[] = [];
        if (st.latentVariance) {
          const norm = read(out.normSqErr!);
          const variance = read(out.varianceSum!);
          const [hi, lo] = [read(out.logS2Max!), read(out.logS2Min!)];
          st.latentVariance.hDecPerSample.set(read(out.hDec!), row);
          st.latentVariance.normSqErrPerSample.set(norm, row);
          for (let r = 0; r < P * B; r++) {
            const beyond = hi[r]! > FLOAT32_EXP_RANGE || lo[r]! < -FLOAT32_EXP_RANGE;
            if (beyond || !Number.isFinite(logLik[r]!) || !Number.isFinite(norm[r]!) || !Number.isFinite(variance[r]!)) redo.push(r);
            else st.latentVariance.varianceSum += variance[r]!;
          }
        } else for (let r = 0; r < P * B; r++) if (!Number.isFinite(logLik[r]!)) redo.push(r);
        if (redo.length > 0) {
          const x = input.values.subarray(first * D, (first + P) * D);
          rowsInFloat64(st, row, redo, B, x, read(out.mu), out.logS2 ? read(out.logS2) : sharedLogS2!);
        }
        for (const t of Object.values(out)) t?.dispose();
      }
    }
    eps.dispose();
  }
  return st;
}

/**
 * The decoder terms of a block's rows `redo` again, in float64 from the networks' float32 outputs: rows whose
 * exp(±log s^2) float32 cannot hold (a log-variance beyond ±87), or whose terms overflowed it (a squared error
 * over a variance of e^-80). Row r of the block is sample r % B of point r / B; its statistics are at `row` + r.
 * For these rows the log-likelihood is read off the same sums as the decomposition's terms, so the identity
 * ELBO - Hsum = R_dec + R_prior restates rather than checks them there.
 */
function rowsInFloat64(st: PassStatistics, row: number, redo: readonly number[], B: number, x: Float32Array, mu: Float32Array, logS2: Float32Array): void {
  const D = st.dim;
  const perRow = logS2.length > D;
  for (const r of redo) {
    const xr = x.subarray(Math.floor(r / B) * D);
    let sumLogS2 = 0;
    let norm = 0;
    let variance = 0;
    for (let d = 0; d < D; d++) {
      const lv = perRow ? logS2[r * D + d]! : logS2[logS2.length === 1 ? 0 : d]!;
      const e = xr[d]! - mu[r * D + d]!;
      sumLogS2 += lv;
      norm += ratioToVariance(e * e, lv);
      variance += Math.exp(lv);
    }
    st.logLikPerSample[row + r] = -0.5 * (D * LOG_2PI + sumLogS2 + norm);
    const lv = st.latentVariance;
    if (lv) {
      lv.hDecPerSample[row + r] = 0.5 * (sumLogS2 + D * LOG_2PIE);
      lv.normSqErrPerSample[row + r] = norm;
      lv.varianceSum += variance;
    }
  }
}

/**
 * The latent terms of a block's P points in float64 from the encoder's float32 outputs, where float32 could not
 * hold them: the KL of the points `redo` (a prior variance beyond e^±87, an encoder variance beyond e^87, or a KL
 * that overflowed), and the block's sums over points of the per-latent KL and second moments. Other points keep
 * the model's own KL, bit for bit.
 */
function pointsInFloat64(
  st: PassStatistics,
  first: number,
  P: number,
  redo: readonly number[],
  nu: Float32Array,
  logT2: Float32Array,
  logA2: Float64Array,
): void {
  const H = st.latentDim;
  const again = new Set(redo);
  for (let p = 0; p < P; p++) {
    let kl = 0;
    for (let h = 0; h < H; h++) {
      const [m, lt, la] = [nu[p * H + h]!, logT2[p * H + h]!, logA2[h]!];
      // KL(N(m, e^lt) || N(0, e^la)) = 1/2 (la - lt + e^(lt - la) + m^2 / e^la - 1).
      const klH = 0.5 * (la - lt + Math.exp(lt - la) + ratioToVariance(m * m, la) - 1);
      kl += klH;
      st.klPerLatentSum[h] = st.klPerLatentSum[h]! + klH;
      st.secondMomentSum[h] = st.secondMomentSum[h]! + m * m + Math.exp(lt);
    }
    if (again.has(p)) st.klPerPoint[first + p] = kl;
  }
}

/** The decoder variance as the decomposition needs it. */
export function decoderVariance(vae: Vae): DecoderVariance {
  const p = vae.params;
  if (!p.logS2) return { kind: 'latent' };
  // log s^2 as the model holds it: exponentiated here, a log-variance of ±1e4 would reach the entropy as 0 or infinity.
  const logValues = Float64Array.from(p.logS2.dataSync());
  const kind = MODEL_TYPE_INFO[vae.spec.type].decoderVariance === 'fixed' ? 'fixed' : logValues.length > 1 ? 'per-dimension' : 'scalar';
  return { kind, logValues };
}

export function priorVariance(vae: Vae): Float64Array {
  return Float64Array.from(priorLogVariance(vae), Math.exp);
}

/** log a_h^2: 0 unless the prior variance is learned (VAE-2). */
export function priorLogVariance(vae: Vae): Float64Array {
  const H = vae.spec.latentDim;
  return vae.params.logA2 ? Float64Array.from(vae.params.logA2.dataSync()) : new Float64Array(H);
}

/**
 * The decomposition of one pass; with `encodings` (n x latentDim each), the pass also keeps every
 * point's encoder output there, so the evidence beside the gap needs no second encoder pass.
 */
export function diagnose(tf: Tf, vae: Vae, input: PassInput, encodings?: Encodings): Decomposition {
  return decomposeStatistics(vae, gatherStatistics(tf, vae, input, encodings));
}

/** The decomposition of a pass's statistics, for the model that gave them. */
export function decomposeStatistics(vae: Vae, st: PassStatistics): Decomposition {
  const d = decompose(st, decoderVariance(vae), priorLogVariance(vae));
  // Only where one s^2 serves every point can it be moved to its optimum (the table says which).
  return MODEL_TYPE_INFO[vae.spec.type].diagnostics.includes('elboAtOptVariance') ? d : { ...d, elboAtOptVariance: null };
}

function addInto(acc: Float64Array, v: ArrayLike<number>): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + v[i]!;
}
