/**
 * The diagnostics pass: run the encoder once per point and the decoder on S samples per
 * point, in large chunks, and gather the sufficient statistics of core/entropy.ts.
 * The ELBO's own per-sample terms (log p(x|z), KL) and the decomposition's statistics
 * (squared errors, second moments, log-variances) are read separately, so the identity
 * ELBO - Hsum = R_dec + R_prior checks the implementation rather than restating it.
 */
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { decompose, type Decomposition, type DecoderVariance, type PassStatistics } from '../core/entropy';
import type { Tf } from './backend';
import type { Vae } from './model';

/** Rows of decoder input per chunk: large enough to keep matmuls efficient, small enough for memory. */
const ROWS_PER_CHUNK = 16384;

export interface PassInput {
  /** Row-major points to evaluate, n x dim. */
  values: Float32Array;
  n: number;
  samples: number;
  seed: number;
}

export function gatherStatistics(tf: Tf, vae: Vae, input: PassInput): PassStatistics {
  const { n: N, samples: S } = input;
  const D = vae.dim;
  const H = vae.spec.latentDim;
  const latentVar = vae.spec.type === 'VAE-3';
  const st: PassStatistics = {
    n: N,
    samples: S,
    dim: D,
    latentDim: H,
    logLikPerSample: new Float64Array(N * S),
    klPerPoint: new Float64Array(N),
    sumLogT2PerPoint: new Float64Array(N),
    klPerLatentSum: new Float64Array(H),
    secondMomentSum: new Float64Array(H),
    sqErrSum: new Float64Array(D),
    latentVariance: latentVar
      ? { hDecPerSample: new Float64Array(N * S), normSqErrPerSample: new Float64Array(N * S), varianceSum: 0 }
      : undefined,
  };
  const pointsPerChunk = Math.max(1, Math.floor(ROWS_PER_CHUNK / S));
  const LOG_2PIE = Math.log(2 * Math.PI) + 1;

  for (let start = 0, chunk = 0; start < N; start += pointsPerChunk, chunk++) {
    const C = Math.min(pointsPerChunk, N - start);
    const out = tf.tidy(() => {
      const x = tf.tensor2d(input.values.subarray(start * D, (start + C) * D), [C, D]);
      const e = vae.encode(x);
      const logA2 = vae.priorLogVar();
      const klLatent = vae.klPerLatent(e, logA2);
      // Repeat each point S times (row n*S + s), the same order as PassStatistics.
      const rep = (t: Tensor2D) => tf.reshape(tf.tile(tf.reshape(t, [C, 1, -1]), [1, S, 1]), [C * S, -1]) as Tensor2D;
      const xr = rep(x);
      const er = { nu: rep(e.nu), logT2: rep(e.logT2) };
      const eps = tf.randomNormal([C * S, H], 0, 1, 'float32', input.seed + chunk) as Tensor2D;
      const dec = vae.decode(vae.sample(er, eps));
      const sq = tf.square(tf.sub(xr, dec.mu));
      const res = {
        logLik: vae.logLikelihood(xr, dec),
        kl: tf.sum(klLatent, 1),
        sumLogT2: tf.sum(e.logT2, 1),
        klLatentSum: tf.sum(klLatent, 0),
        momentSum: tf.sum(tf.add(tf.square(e.nu), tf.exp(e.logT2)), 0),
        sqErrSum: tf.sum(sq, 0),
        hDec: latentVar ? tf.mul(tf.add(tf.sum(dec.logS2, 1), D * LOG_2PIE), 0.5) : undefined,
        normSqErr: latentVar ? tf.sum(tf.mul(sq, tf.exp(tf.neg(dec.logS2))), 1) : undefined,
        varianceSum: latentVar ? tf.sum(tf.exp(dec.logS2)) : undefined,
      };
      return res;
    });
    const read = (t: { dataSync(): Float32Array | Int32Array | Uint8Array } | undefined) => (t ? (t.dataSync() as Float32Array) : undefined);
    st.logLikPerSample.set(read(out.logLik)!, start * S);
    st.klPerPoint.set(read(out.kl)!, start);
    st.sumLogT2PerPoint.set(read(out.sumLogT2)!, start);
    addInto(st.klPerLatentSum, read(out.klLatentSum)!);
    addInto(st.secondMomentSum, read(out.momentSum)!);
    addInto(st.sqErrSum, read(out.sqErrSum)!);
    if (st.latentVariance) {
      st.latentVariance.hDecPerSample.set(read(out.hDec)!, start * S);
      st.latentVariance.normSqErrPerSample.set(read(out.normSqErr)!, start * S);
      st.latentVariance.varianceSum += read(out.varianceSum)![0]!;
    }
    for (const t of Object.values(out)) t?.dispose();
  }
  return st;
}

/** The decoder variance as the decomposition needs it. */
export function decoderVariance(vae: Vae): DecoderVariance {
  const p = vae.params;
  if (!p.logS2) return { kind: 'latent' };
  const logs = p.logS2.dataSync();
  const values = Float64Array.from(logs, (v) => Math.exp(v));
  const kind = vae.spec.type === 'VAE-0' ? 'fixed' : values.length > 1 ? 'per-dimension' : 'scalar';
  return { kind, values };
}

export function priorVariance(vae: Vae): Float64Array {
  const H = vae.spec.latentDim;
  if (!vae.params.logA2) return new Float64Array(H).fill(1);
  return Float64Array.from(vae.params.logA2.dataSync(), (v) => Math.exp(v));
}

export function diagnose(tf: Tf, vae: Vae, input: PassInput): Decomposition {
  const st = gatherStatistics(tf, vae, input);
  return decompose(st, decoderVariance(vae), priorVariance(vae));
}

function addInto(acc: Float64Array, v: ArrayLike<number>): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + v[i]!;
}
