/**
 * The Gaussian VAE of the paper, in its variants:
 *   encoder  q(z|x) = N(nu(x), diag(t^2(x)))         MLP with two linear heads (nu, log t^2)
 *   decoder  p(x|z) = N(mu(z), diag(s^2))            MLP with a linear head mu
 *   VAE-0  s^2 fixed (initialVariance, 1 by default)
 *   VAE-1  s^2 learned: one scalar, or one per dimension (decoderVariance)
 *   VAE-2  VAE-1 and learned prior variances a_h^2 (p(z) = N(0, diag(a^2)))
 *   VAE-3  s^2(z) from a second linear decoder head (log s^2)
 * Variances are parametrised by their logarithms.
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs-core';
import { Rng } from '../core/random';
import type { ModelSpec } from '../core/spec';
import type { Tf } from './backend';
import { activate, initDense, makeDataDense, makeDense, type DenseFn, type DenseParams } from './layers';

export const LOG_2PI = Math.log(2 * Math.PI);

export interface VaeParams {
  encoderHidden: DenseParams[];
  encoderMean: DenseParams;
  encoderLogVar: DenseParams;
  decoderHidden: DenseParams[];
  decoderMean: DenseParams;
  /** VAE-3 only. */
  decoderLogVar?: DenseParams;
  /** log s^2: shape [1] or [D]; not trainable for VAE-0 or when held at its optimum. */
  logS2?: Variable;
  /** log a_h^2, VAE-2 only. */
  logA2?: Variable;
}

export interface Encoded {
  nu: Tensor2D;
  logT2: Tensor2D;
}

export interface Decoded {
  mu: Tensor2D;
  /** [N, D] for VAE-3, [1, 1] or [1, D] (broadcasting) otherwise. */
  logS2: Tensor2D;
}

let instances = 0;

export class Vae {
  readonly params: VaeParams;
  /** tfjs needs globally unique variable names; checkpoints use the names without this prefix. */
  private readonly prefix = `vae${++instances}/`;
  private readonly dense: DenseFn;
  /** For layers fed by the data itself, whose input gradient nothing needs. */
  private readonly dataDense: DenseFn;

  constructor(
    private readonly tf: Tf,
    readonly spec: ModelSpec,
    readonly dim: number,
    seed: number,
    /** Starting decoder variance s^2 (resolved from the data when the spec leaves it open). */
    initialVariance = 1,
  ) {
    this.dense = makeDense(tf);
    this.dataDense = makeDataDense(tf);
    const rng = new Rng(seed ^ 0x5eed);
    const H = spec.latentDim;
    const stack = (sizes: number[], from: number, name: string) => {
      const layers: DenseParams[] = [];
      let fanIn = from;
      sizes.forEach((width, i) => {
        layers.push(initDense(tf, rng, fanIn, width, `${this.prefix}${name}${i}`));
        fanIn = width;
      });
      return { layers, out: fanIn };
    };
    const enc = stack(spec.encoder.hidden, dim, 'enc');
    const dec = stack(spec.decoder.hidden, H, 'dec');
    const learnedVariance = spec.type !== 'VAE-0' && spec.type !== 'VAE-3' && spec.varianceUpdate === 'gradient';
    const varianceShape = spec.decoderVariance === 'per-dimension' && spec.type !== 'VAE-0' ? [dim] : [1];
    this.params = {
      encoderHidden: enc.layers,
      encoderMean: initDense(tf, rng, enc.out, H, `${this.prefix}enc_mean`),
      encoderLogVar: initDense(tf, rng, enc.out, H, `${this.prefix}enc_logvar`),
      decoderHidden: dec.layers,
      decoderMean: initDense(tf, rng, dec.out, dim, `${this.prefix}dec_mean`),
      decoderLogVar: spec.type === 'VAE-3' ? initDense(tf, rng, dec.out, dim, `${this.prefix}dec_logvar`) : undefined,
      logS2: spec.type === 'VAE-3' ? undefined : tf.variable(tf.fill(varianceShape, Math.log(initialVariance)), learnedVariance, `${this.prefix}log_s2`),
      logA2: spec.type === 'VAE-2' ? tf.variable(tf.zeros([H]), true, `${this.prefix}log_a2`) : undefined,
    };
    // Variance heads start flat: q(z|x) = N(nu(x), I) for every x, and VAE-3's decoder at one variance
    // for every z. With random weights there log t^2 swings with x from the first step, and on the
    // linear pPCA example minibatch Adam never recovered from it (R_prior stuck near -0.6).
    this.startFlat(this.params.encoderLogVar, 0);
    if (this.params.decoderLogVar) this.startFlat(this.params.decoderLogVar, Math.log(initialVariance));
  }

  private startFlat(head: DenseParams, bias: number): void {
    const tf = this.tf;
    tf.tidy(() => {
      head.w.assign(tf.zerosLike(head.w));
      head.b.assign(tf.fill(head.b.shape, bias));
    });
  }

  /** Every variable, by a stable name (checkpoints). */
  namedVariables(): Map<string, Variable> {
    const p = this.params;
    const m = new Map<string, Variable>();
    const set = (v: Variable) => m.set(v.name.slice(this.prefix.length), v);
    const add = (d: DenseParams | undefined) => {
      if (!d) return;
      set(d.w);
      set(d.b);
    };
    p.encoderHidden.forEach(add);
    add(p.encoderMean);
    add(p.encoderLogVar);
    p.decoderHidden.forEach(add);
    add(p.decoderMean);
    add(p.decoderLogVar);
    if (p.logS2) set(p.logS2);
    if (p.logA2) set(p.logA2);
    return m;
  }

  trainableVariables(): Variable[] {
    return [...this.namedVariables().values()].filter((v) => v.trainable);
  }

  encode(x: Tensor2D): Encoded {
    const { tf, params: p, spec } = this;
    const layer = (h: Tensor2D, l: DenseParams) => (h === x ? this.dataDense : this.dense)(h, l.w as Tensor2D, l.b as Tensor1D);
    let h = x;
    for (const l of p.encoderHidden) h = activate(tf, layer(h, l), spec.encoder.activation);
    return { nu: layer(h, p.encoderMean), logT2: layer(h, p.encoderLogVar) };
  }

  decode(z: Tensor2D): Decoded {
    const { tf, params: p, spec } = this;
    let h = z;
    for (const l of p.decoderHidden) h = activate(tf, this.dense(h, l.w as Tensor2D, l.b as Tensor1D), spec.decoder.activation);
    const mu = this.dense(h, p.decoderMean.w as Tensor2D, p.decoderMean.b as Tensor1D);
    const logS2 = p.decoderLogVar ? this.dense(h, p.decoderLogVar.w as Tensor2D, p.decoderLogVar.b as Tensor1D) : (tf.reshape(p.logS2!, [1, -1]) as Tensor2D);
    return { mu, logS2 };
  }

  /** log a^2 as [1, H] (zeros unless VAE-2). */
  priorLogVar(): Tensor2D {
    const { tf, params: p } = this;
    return (p.logA2 ? tf.reshape(p.logA2, [1, -1]) : tf.zeros([1, this.spec.latentDim])) as Tensor2D;
  }

  /** z = nu + t * eps, the reparametrisation. */
  sample(e: Encoded, eps: Tensor2D): Tensor2D {
    return this.reparametrise(e.nu, e.logT2, eps) as Tensor2D;
  }

  /**
   * `samples` draws of z per point: eps is [C*S, H] with rows n*S + s, and each point's
   * encoding is broadcast over its S rows rather than repeated (the engine's tile is slow).
   */
  samplePerPoint(e: Encoded, eps: Tensor2D, samples: number): Tensor2D {
    const tf = this.tf;
    const [C, H] = e.nu.shape;
    const z = this.reparametrise(tf.reshape(e.nu, [C, 1, H]), tf.reshape(e.logT2, [C, 1, H]), tf.reshape(eps, [C, samples, H]));
    return tf.reshape(z, [C * samples, H]);
  }

  private reparametrise(nu: Tensor, logT2: Tensor, eps: Tensor): Tensor {
    const tf = this.tf;
    return tf.add(nu, tf.mul(tf.exp(tf.mul(logT2, 0.5)), eps));
  }

  /** log p(x|z) per row: -1/2 sum_d [log 2 pi + log s_d^2 + (x_d - mu_d)^2 / s_d^2]. */
  logLikelihood(x: Tensor2D, d: Decoded): Tensor1D {
    return this.logLikelihoodOverLastAxis(x, d.mu, d.logS2) as Tensor1D;
  }

  /**
   * The same log p(x|z) for S decoder samples per point, without repeating x S times:
   * x is [C, D], d.mu (and d.logS2 for VAE-3) are [C*S, D] with rows n*S + s; returns [C*S].
   */
  logLikelihoodPerSample(x: Tensor2D, d: Decoded, samples: number): Tensor1D {
    const tf = this.tf;
    const C = x.shape[0];
    const x3 = tf.reshape(x, [C, 1, this.dim]);
    const mu3 = tf.reshape(d.mu, [C, samples, this.dim]);
    const logS2 = d.logS2.shape[0] === 1 ? tf.reshape(d.logS2, [1, 1, -1]) : tf.reshape(d.logS2, [C, samples, this.dim]);
    return tf.reshape(this.logLikelihoodOverLastAxis(x3, mu3, logS2), [C * samples]) as Tensor1D;
  }

  private logLikelihoodOverLastAxis(x: Tensor, mu: Tensor, logS2: Tensor): Tensor {
    const tf = this.tf;
    const sq = tf.square(tf.sub(x, mu));
    // Full shape by broadcasting, so a scalar log s^2 is counted once per dimension.
    const perDim = tf.add(logS2, tf.mul(sq, tf.exp(tf.neg(logS2))));
    return tf.mul(tf.add(tf.sum(perDim, -1), this.dim * LOG_2PI), -0.5);
  }

  /** KL(q(z|x) || p(z)) per row and latent: 1/2 [log a^2 - log t^2 + (t^2 + nu^2)/a^2 - 1]. */
  klPerLatent(e: Encoded, logA2: Tensor2D): Tensor2D {
    const tf = this.tf;
    const ratio = tf.mul(tf.add(tf.exp(e.logT2), tf.square(e.nu)), tf.exp(tf.neg(logA2)));
    return tf.mul(tf.sub(tf.add(tf.sub(logA2, e.logT2), ratio), 1), 0.5) as Tensor2D;
  }

  /**
   * The training objective: minus the single-sample ELBO, averaged over the batch; also the
   * batch's mean squared error (per dimension, or over all of them for a scalar variance),
   * which the closed-form variance update needs.
   */
  objective(x: Tensor2D, eps: Tensor2D, withSqErr = false): { loss: Scalar; sqErr?: Tensor1D } {
    const tf = this.tf;
    const e = this.encode(x);
    const d = this.decode(this.sample(e, eps));
    const kl = tf.sum(this.klPerLatent(e, this.priorLogVar()), 1);
    const loss = tf.mean(tf.sub(kl, this.logLikelihood(x, d))) as Scalar;
    if (!withSqErr) return { loss };
    const sq = tf.square(tf.sub(x, d.mu));
    const sqErr = (this.params.logS2 && this.params.logS2.size > 1 ? tf.mean(sq, 0) : tf.reshape(tf.mean(sq), [1])) as Tensor1D;
    return { loss, sqErr };
  }

  dispose(): void {
    for (const v of this.namedVariables().values()) v.dispose();
  }
}
