/**
 * The Gaussian VAE of the paper, in its variants:
 *   encoder  q(z|x) = N(nu(x), diag(t^2(x)))         layers, then two linear heads (nu, log t^2)
 *   decoder  p(x|z) = N(mu(z), diag(s^2))            layers ending in a linear output layer mu
 * (the layers are an MLP from `hidden`, or dense/convolutional `layers`: core/layers.ts).
 *   VAE-0  s^2 fixed (initialVariance, 1 by default)
 *   VAE-1  s^2 learned: one scalar, or one per dimension (decoderVariance)
 *   VAE-2  VAE-1 and learned prior variances a_h^2 (p(z) = N(0, diag(a^2)))
 *   VAE-3  s^2(z) from a second linear decoder head (log s^2)
 * Variances are parametrised by their logarithms.
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor4D, Variable } from '@tensorflow/tfjs-core';
import { UserError } from '../core/errors';
import { networkDataShape, planNetworks, type NetworkPlan, type PlannedLayer } from '../core/layers';
import { LOG_2PI } from '../core/constants';
import { MODEL_TYPE_INFO } from '../core/modelTypes';
import { Rng } from '../core/random';
import type { Activation, ModelSpec } from '../core/spec';
import type { Tf } from './tf';
import { sampleSquaredError, weightedSquaredError } from './gaussianLoss';
import { DENSE_KERNEL, initDense, initLayer, makeChannelBias, makeDataDense, makeDense, variableOf, type DenseFn, type DenseParams } from './layers';

export interface VaeParams {
  /** The encoder's layers (weights where they have them), as planned by core/layers.ts. */
  encoderLayers: LayerParams[];
  encoderMean: DenseParams;
  encoderLogVar: DenseParams;
  /** The decoder's layers; the one at `plan.output` is the output layer (the mean). */
  decoderLayers: LayerParams[];
  /** Per-point variance only (VAE-3): a twin of the decoder's output layer, for log s^2(z). */
  decoderLogVar?: LayerParams;
  /** log s^2: shape [1] or [D]; not trainable for a fixed variance or when held at its optimum. */
  logS2?: Variable;
  /** log a_h^2, learned prior variances only. */
  logA2?: Variable;
}

export interface LayerParams {
  planned: PlannedLayer;
  /** Dense [in, out]; conv2d [k, k, in, out]; conv2dTranspose [k, k, out, in]. Absent for layers without weights. */
  w?: Variable;
  b?: Variable;
}

export interface Encoded {
  nu: Tensor2D;
  logT2: Tensor2D;
}

export interface Decoded {
  mu: Tensor2D;
  /** [N, D] for a per-point variance, [1, 1] or [1, D] (broadcasting) otherwise. */
  logS2: Tensor2D;
}

let instances = 0;

export class Vae {
  readonly params: VaeParams;
  /** Every layer's shapes and parameter count, from the spec and the data's shape. */
  readonly plan: NetworkPlan;
  /** tfjs needs globally unique variable names; checkpoints use the names without this prefix. */
  private readonly prefix = `vae${++instances}/`;
  private readonly dense: DenseFn;
  /** For layers fed by the data itself, whose input gradient nothing needs. */
  private readonly dataDense: DenseFn;
  private readonly channelBias: (y: Tensor4D, b: Tensor1D, activation: Activation) => Tensor4D;

  constructor(
    private readonly tf: Tf,
    readonly spec: ModelSpec,
    readonly dim: number,
    seed: number,
    /** Starting decoder variance s^2 (resolved from the data when the spec leaves it open). */
    initialVariance = 1,
    /** One example's image shape ([h, w] or [h, w, c]) where the data are images. */
    imageShape?: readonly number[],
  ) {
    this.dense = makeDense(tf);
    this.dataDense = makeDataDense(tf);
    this.channelBias = makeChannelBias(tf);
    const info = MODEL_TYPE_INFO[spec.type];
    const perPoint = info.decoderVariance === 'per-point';
    const { plan, problems } = planNetworks(spec, networkDataShape(dim, imageShape), perPoint);
    if (!plan)
      throw new UserError(
        problems[0]!.message,
        { field: problems[0]!.field },
        problems.slice(1).map((p) => ({ message: p.message, location: { field: p.field } })),
      );
    this.plan = plan;
    const rng = new Rng(seed ^ 0x5eed);
    const H = spec.latentDim;
    const init = (l: PlannedLayer, name = l.name): LayerParams => ({ planned: l, ...initLayer(tf, rng, l, `${this.prefix}${name}`) });
    // Drawn in the order the MLP-only versions drew them, so their seeds give the same networks.
    const encoderLayers = plan.encoder.map((l) => init(l));
    const decoderLayers: LayerParams[] = plan.decoder.map((l) => ({ planned: l }));
    for (let i = 0; i < plan.output; i++) decoderLayers[i] = init(plan.decoder[i]!);
    const learnedVariance = info.decoderVariance === 'global' && spec.varianceUpdate === 'gradient';
    const varianceShape = spec.decoderVariance === 'per-dimension' && info.decoderVariance === 'global' ? [dim] : [1];
    const encoderMean = initDense(tf, rng, plan.heads.input, H, `${this.prefix}enc_mean`);
    const encoderLogVar = initDense(tf, rng, plan.heads.input, H, `${this.prefix}enc_logvar`);
    decoderLayers[plan.output] = init(plan.decoder[plan.output]!);
    this.params = {
      encoderLayers,
      encoderMean,
      encoderLogVar,
      decoderLayers,
      decoderLogVar: perPoint ? init(plan.decoder[plan.output]!, 'dec_logvar') : undefined,
      logS2: perPoint ? undefined : variableOf(tf, () => tf.fill(varianceShape, Math.log(initialVariance)), learnedVariance, `${this.prefix}log_s2`),
      logA2: info.learnsPriorVariance ? variableOf(tf, () => tf.zeros([H]), true, `${this.prefix}log_a2`) : undefined,
    };
    // Variance heads start flat: q(z|x) = N(nu(x), I) for every x, and VAE-3's decoder at one variance
    // for every z. With random weights there log t^2 swings with x from the first step, and on the
    // linear pPCA example minibatch Adam never recovered from it (R_prior stuck near -0.6).
    this.startFlat(this.params.encoderLogVar, 0);
    if (this.params.decoderLogVar) this.startFlat(this.params.decoderLogVar as DenseParams, Math.log(initialVariance));
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
    const add = (d: { w?: Variable; b?: Variable } | undefined) => {
      if (d?.w) set(d.w);
      if (d?.b) set(d.b);
    };
    p.encoderLayers.forEach(add);
    add(p.encoderMean);
    add(p.encoderLogVar);
    p.decoderLayers.forEach(add);
    add(p.decoderLogVar);
    if (p.logS2) set(p.logS2);
    if (p.logA2) set(p.logA2);
    return m;
  }

  /** The weights of every dense layer (the latent heads and variance head included): what the diagnostics pass may keep packed. */
  denseWeights(): Variable[] {
    const p = this.params;
    const layers = [...p.encoderLayers, ...p.decoderLayers, ...(p.decoderLogVar ? [p.decoderLogVar] : [])];
    return [...layers.filter((l) => l.planned.layer.type === 'dense').map((l) => l.w!), p.encoderMean.w, p.encoderLogVar.w];
  }

  trainableVariables(): Variable[] {
    return [...this.namedVariables().values()].filter((v) => v.trainable);
  }

  encode(x: Tensor2D): Encoded {
    const { tf, params: p } = this;
    const N = x.shape[0];
    const input = this.plan.encoder[0]?.input ?? [this.dim];
    let h: Tensor = input.length > 1 ? tf.reshape(x, [N, ...input]) : x;
    for (const l of p.encoderLayers) h = this.apply(l, h, h === x);
    const flat = h.rank === 2 ? (h as Tensor2D) : (tf.reshape(h, [N, -1]) as Tensor2D);
    const dense = flat === x ? this.dataDense : this.dense;
    if (!tf.getKernel(DENSE_KERNEL, tf.getBackend())) {
      const head = (d: DenseParams) => dense(flat, d.w as Tensor2D, d.b as Tensor1D, 'linear');
      return { nu: head(p.encoderMean), logT2: head(p.encoderLogVar) };
    }
    // Both heads as one product with the trainer's kernels: the wide input (a convolutional
    // encoder's 3136 features) is packed once, not twice, in each of the three products.
    const H = this.spec.latentDim;
    const w = tf.concat([p.encoderMean.w, p.encoderLogVar.w], 1) as Tensor2D;
    const b = tf.concat([p.encoderMean.b, p.encoderLogVar.b]) as Tensor1D;
    const both = dense(flat, w, b, 'linear');
    return { nu: tf.slice(both, [0, 0], [N, H]), logT2: tf.slice(both, [0, H], [N, H]) };
  }

  decode(z: Tensor2D): Decoded {
    const { tf, params: p } = this;
    const N = z.shape[0];
    const out = this.plan.output;
    let h: Tensor = z;
    for (let i = 0; i < out; i++) h = this.apply(p.decoderLayers[i]!, h, false);
    const beforeOutput = h;
    const rest = (t: Tensor): Tensor2D => {
      let y = t;
      for (let i = out + 1; i < p.decoderLayers.length; i++) y = this.apply(p.decoderLayers[i]!, y, false);
      return (y.rank === 2 ? y : tf.reshape(y, [N, this.dim])) as Tensor2D;
    };
    const mu = rest(this.apply(p.decoderLayers[out]!, beforeOutput, false));
    const logS2 = p.decoderLogVar ? rest(this.apply(p.decoderLogVar, beforeOutput, false, 'linear')) : (tf.reshape(p.logS2!, [1, -1]) as Tensor2D);
    return { mu, logS2 };
  }

  /** One layer on a batch; `fromData` when its input is the data (no input gradient needed). */
  private apply(l: LayerParams, h: Tensor, fromData: boolean, activation?: Activation): Tensor {
    const tf = this.tf;
    const layer = l.planned.layer;
    const N = h.shape[0]!;
    switch (layer.type) {
      case 'dense': {
        return (fromData ? this.dataDense : this.dense)(h as Tensor2D, l.w as Tensor2D, l.b as Tensor1D, activation ?? layer.activation);
      }
      case 'conv2d':
      case 'conv2dTranspose': {
        const [oh, ow, oc] = l.planned.output as [number, number, number];
        const y =
          layer.type === 'conv2d'
            ? tf.conv2d(h as Tensor4D, l.w as Tensor4D, layer.stride, layer.padding)
            : tf.conv2dTranspose(h as Tensor4D, l.w as Tensor4D, [N, oh, ow, oc], layer.stride, layer.padding);
        return this.channelBias(y, l.b as Tensor1D, activation ?? layer.activation);
      }
      case 'upsample2d': {
        // Nearest neighbour as two broadcast products with ones, each pixel repeated `size` times
        // along the width, then each row along the height: rank 3 throughout, where tfjs has
        // every gradient (broadcastTo's is a tile, whose gradient stops at rank 4).
        const [ih, iw, c] = l.planned.input as [number, number, number];
        const s = layer.size;
        const ones = tf.ones([1, s, 1]);
        const wide = tf.mul(tf.reshape(h, [N * ih * iw, 1, c]), ones);
        return tf.reshape(tf.mul(tf.reshape(wide, [N * ih, 1, iw * s * c]), ones), [N, ih * s, iw * s, c]);
      }
      case 'flatten':
      case 'reshape':
        return tf.reshape(h, [N, ...l.planned.output]);
    }
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

  /**
   * log p(x|z) per sample for S samples per point, with the column sums of (x − μ)² over them, in
   * one fused pass over d.mu (the diagnostics pass's data terms): x is [C, D], d.mu [C*S, D] with
   * rows n*S + s. Each row's log p(x|z) has the bits logLikelihood gives for it on this engine.
   * Undefined where the engine has no fused kernel, or the variance varies with z (VAE-3).
   */
  dataTermsPerSample(x: Tensor2D, d: Decoded, samples: number): { logLik: Tensor1D; sqErrSum: Tensor1D } | undefined {
    const tf = this.tf;
    // A per-point variance is [rows, D], and a block of one row would look like a shared one.
    if (this.params.decoderLogVar) return undefined;
    const fused = sampleSquaredError(tf, x, d.mu, tf.exp(tf.neg(d.logS2)) as Tensor2D, samples);
    return fused && { logLik: this.logLikelihoodOfError(fused.e, d.logS2), sqErrSum: fused.colSums };
  }

  /** log p(x|z) from e = Σ_d (x − μ)²/s_d² per row, for a variance shared by every row ([1, 1] or [1, D]). */
  private logLikelihoodOfError(e: Tensor1D, logS2: Tensor2D): Tensor1D {
    const tf = this.tf;
    // Σ_d log s_d²: a scalar log s² counts once per dimension.
    return tf.mul(tf.add(e, tf.add(tf.mul(tf.sum(logS2), this.dim / logS2.size), this.dim * LOG_2PI)), -0.5);
  }

  private logLikelihoodOverLastAxis(x: Tensor, mu: Tensor, logS2: Tensor): Tensor {
    const tf = this.tf;
    if (x.rank === 2 && mu.rank === 2 && logS2.shape[0] === 1) {
      const e = weightedSquaredError(tf, x as Tensor2D, mu as Tensor2D, tf.exp(tf.neg(logS2)) as Tensor2D);
      if (e) return this.logLikelihoodOfError(e, logS2 as Tensor2D);
    }
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
