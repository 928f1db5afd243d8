/**
 * The gradient of a dense (MLP) VAE's objective, written out on the trainer's kernels: the same
 * loss as Vae.objective (model.ts), minus the single-sample ELBO averaged over the batch,
 *   L = 1/N Σ_n [KL_n − log p(x_n|z_n)],  z = ν + exp(½ log t²)·ε,
 *   −log p(x|z) = ½ [D log 2π + Σ_d log s²_d + Σ_d (x_d − μ_d)² / s²_d],
 *   KL_n = ½ Σ_h [log a²_h − log t²_nh + (t²_nh + ν²_nh) / a²_h − 1],
 * with the backward pass in the other direction through the same layers. With tfjs's operations
 * and autodiff a step was about 160 kernel calls, and the bookkeeping around them (the tape, the
 * tensors made and freed, a third of them clones) cost 1.5-2 ms of the main thread per step, which
 * no kernel thread can share. Here every buffer is allocated once, the products and the
 * per-element passes are the kernels' (split over the kernel threads), and the latent side (N x H
 * numbers) is a loop in float64.
 *
 * Only for models it can do exactly: dense layers with ReLU or no activation, and one decoder
 * variance for all points (VAE-0, 1, 2), whose gradient it follows. Everything else, and every
 * other engine, trains through tfjs (Vae.objective); test/unit/train-denseStep.test.ts checks the
 * two give the same gradients.
 */
import type { NamedTensorMap, Tensor, Variable } from '@tensorflow/tfjs-core';
import { LOG_2PI } from '../core/constants';
import type { Tf } from './tf';
import type { LayerParams, Vae } from './model';
import type { MemoryKernels } from './wasmKernels';

interface Layer {
  w: Variable;
  b: Variable;
  relu: boolean;
  inputs: number;
  outputs: number;
  /** This layer's output (B x outputs) and the gradient of the loss with respect to it. */
  y: Tensor;
  dy: Tensor;
}

/** The gradient of every trainable variable, and the loss, for one batch. */
export interface DenseGradients {
  loss: number;
  grads: NamedTensorMap;
}

export class DenseStep {
  private readonly buffers: Tensor[] = [];
  private readonly grads = new Map<Variable, Tensor>();
  private readonly encoder: Layer[];
  private readonly decoder: Layer[];
  private readonly heads: { mean: Layer; logVar: Layer };
  private readonly x: Tensor;
  private readonly eps: Tensor;
  private readonly z: Tensor;
  private readonly dz: Tensor;
  private readonly e: Tensor;
  private readonly de: Tensor;
  private readonly iv: Tensor;
  private readonly colSums: Tensor;
  /** The second head's share of dL/dh, added into the first's. */
  private readonly dhScratch: Tensor | undefined;

  /** The step for `vae`, or undefined when it has a layer, activation or variance this step does not do. */
  static for(tf: Tf, vae: Vae, k: MemoryKernels | undefined, trainable: readonly Variable[], batch: number): DenseStep | undefined {
    const p = vae.params;
    if (!k || !p.logS2 || p.decoderLogVar) return undefined;
    const layers = [...p.encoderLayers, ...p.decoderLayers];
    const fits = (l: LayerParams) => l.planned.layer.type === 'dense' && ['relu', 'linear'].includes(l.planned.layer.activation) && l.w && l.b;
    // Dense layers read and write flat rows, images included (row-major, as the data are stored).
    if (!layers.every(fits) || vae.plan.output !== p.decoderLayers.length - 1) return undefined;
    return new DenseStep(tf, vae, k, trainable, batch);
  }

  private constructor(
    private readonly tf: Tf,
    private readonly vae: Vae,
    private readonly k: MemoryKernels,
    trainable: readonly Variable[],
    private readonly batch: number,
  ) {
    const p = vae.params;
    const H = vae.spec.latentDim;
    const D = vae.dim;
    const layer = (w: Variable, b: Variable, relu: boolean): Layer => {
      const [inputs, outputs] = w.shape as [number, number];
      return { w, b, relu, inputs, outputs, y: this.buffer(batch, outputs), dy: this.buffer(batch, outputs) };
    };
    const planned = (l: LayerParams) => layer(l.w!, l.b!, l.planned.layer.type === 'dense' && l.planned.layer.activation === 'relu');
    this.encoder = p.encoderLayers.map(planned);
    this.decoder = p.decoderLayers.map(planned);
    this.heads = { mean: layer(p.encoderMean.w, p.encoderMean.b, false), logVar: layer(p.encoderLogVar.w, p.encoderLogVar.b, false) };
    this.x = this.buffer(batch, D);
    this.eps = this.buffer(batch, H);
    this.z = this.buffer(batch, H);
    this.dz = this.buffer(batch, H);
    this.e = this.buffer(batch);
    this.de = this.buffer(batch);
    this.iv = this.buffer(p.logS2!.size);
    // The Gaussian term's column sums, and the bias gradient of a bias that is not trained.
    this.colSums = this.buffer(Math.max(D, ...[...this.encoder, ...this.decoder].map((l) => l.outputs), H));
    this.dhScratch = this.encoder.length > 0 ? this.buffer(batch, this.heads.mean.inputs) : undefined;
    for (const v of trainable) this.grads.set(v, this.keep(tf.zerosLike(v)));
  }

  private buffer(...shape: number[]): Tensor {
    return this.keep(this.tf.zeros(shape));
  }

  private keep(t: Tensor): Tensor {
    this.buffers.push(t);
    return this.tf.keep(t);
  }

  private at(t: Tensor): number {
    return this.k.address(t);
  }

  /** The gradient's buffer of `v`, or 0 when v is not trained (its gradient is not needed). */
  private gradAt(v: Variable): number {
    const g = this.grads.get(v);
    return g ? this.at(g) : 0;
  }

  /**
   * Loss and gradients for the first n rows of `rows` (n x D) with the noise ε (n x H). The
   * gradients are this step's buffers: valid until the next call.
   */
  gradients(rows: Float32Array, n: number, eps: Float32Array): DenseGradients {
    if (n > this.batch) throw new Error(`dense step: a batch of ${n} rows, buffers for ${this.batch}`);
    const { k, vae } = this;
    const p = vae.params;
    const D = vae.dim;
    const H = vae.spec.latentDim;
    const F = k.floats();
    const view = (t: Tensor, length: number) => F.subarray(this.at(t) >> 2, (this.at(t) >> 2) + length);
    view(this.x, n * D).set(rows.subarray(0, n * D));
    view(this.eps, n * H).set(eps.subarray(0, n * H));

    // Forward: the encoder, the two heads, z, the decoder (bias and ReLU inside each product).
    const forward = (l: Layer, input: number) =>
      k.gemm(n, l.outputs, l.inputs, input, false, this.at(l.w), false, this.at(l.y), { bias: this.at(l.b), relu: l.relu });
    let h = this.at(this.x);
    for (const l of this.encoder) {
      forward(l, h);
      h = this.at(l.y);
    }
    const { mean, logVar } = this.heads;
    forward(mean, h);
    forward(logVar, h);
    const nu = view(mean.y, n * H);
    const logT2 = view(logVar.y, n * H);
    const e = view(this.eps, n * H);
    const z = view(this.z, n * H);
    for (let i = 0; i < n * H; i++) z[i] = nu[i]! + Math.exp(0.5 * logT2[i]!) * e[i]!;
    let g = this.at(this.z);
    for (const l of this.decoder) {
      forward(l, g);
      g = this.at(l.y);
    }
    const out = this.decoder[this.decoder.length - 1]!;

    // The Gaussian term: e_n = Σ_d (x − μ)² / s²_d, with iv = 1 / s².
    const logS2 = p.logS2!.dataSync();
    const iv = view(this.iv, logS2.length);
    let sumLogS2 = 0;
    for (let d = 0; d < logS2.length; d++) {
      iv[d] = Math.exp(-logS2[d]!);
      sumLogS2 += logS2[d]!;
    }
    if (logS2.length === 1) sumLogS2 *= D;
    const args = { n, d: D, x: this.at(this.x), mu: this.at(out.y), iv: this.at(this.iv), ivPerDim: logS2.length > 1 };
    k.squaredError(args, this.at(this.e));
    const errors = view(this.e, n);

    const logA2 = p.logA2 ? p.logA2.dataSync() : new Float32Array(H);
    const invA2 = Float64Array.from(logA2, (a) => Math.exp(-a));
    let loss = 0;
    for (let r = 0; r < n; r++) {
      let kl = 0;
      for (let j = 0; j < H; j++) {
        const i = r * H + j;
        kl += logA2[j]! - logT2[i]! + (Math.exp(logT2[i]!) + nu[i]! * nu[i]!) * invA2[j]! - 1;
      }
      loss += 0.5 * kl + 0.5 * (D * LOG_2PI + sumLogS2 + errors[r]!);
    }
    loss /= n;

    // Backward. dL/de_n = 1/(2n); the kernel gives dL/dμ and Σ_n (1/(2n)) (x − μ)²_nd.
    view(this.de, n).fill(0.5 / n);
    k.squaredErrorGrad(args, this.at(this.de), this.at(out.dy), this.at(this.colSums));
    const logS2Grad = this.gradAt(p.logS2!);
    if (logS2Grad) {
      // dL/d log s²_d = ½ − Σ_n (x − μ)²_nd / (2n s²_d), summed over d for one s².
      const sums = view(this.colSums, D);
      const grad = F.subarray(logS2Grad >> 2, (logS2Grad >> 2) + logS2.length);
      if (logS2.length === 1) {
        let s = 0;
        for (let d = 0; d < D; d++) s += sums[d]!;
        grad[0] = 0.5 * D - iv[0]! * s;
      } else for (let d = 0; d < D; d++) grad[d] = 0.5 - iv[d]! * sums[d]!;
    }

    // Through the decoder, top down; the first layer's input gradient is dL/dz.
    for (let i = this.decoder.length - 1; i >= 0; i--) {
      const l = this.decoder[i]!;
      const input = i > 0 ? this.decoder[i - 1]! : undefined;
      this.backward(l, n, input ? this.at(input.y) : this.at(this.z), input ? this.at(input.dy) : this.at(this.dz));
    }

    // The latent side: dL/dν and dL/d log t² from z and from the KL; dL/d log a² from the KL.
    const dz = view(this.dz, n * H);
    const dNu = view(mean.dy, n * H);
    const dLogT2 = view(logVar.dy, n * H);
    const logA2Grad = p.logA2 ? this.gradAt(p.logA2) : 0;
    const dLogA2 = new Float64Array(H);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < H; j++) {
        const i = r * H + j;
        const t2 = Math.exp(logT2[i]!);
        dNu[i] = dz[i]! + (nu[i]! * invA2[j]!) / n;
        dLogT2[i] = dz[i]! * 0.5 * Math.exp(0.5 * logT2[i]!) * e[i]! + (0.5 * (t2 * invA2[j]! - 1)) / n;
        dLogA2[j] += (0.5 * (1 - (t2 + nu[i]! * nu[i]!) * invA2[j]!)) / n;
      }
    }
    if (logA2Grad) F.set(Float32Array.from(dLogA2), logA2Grad >> 2);

    // The heads, then the encoder, top down; the data needs no gradient.
    const top = this.encoder[this.encoder.length - 1];
    const headInput = top ? this.at(top.y) : this.at(this.x);
    this.backward(mean, n, headInput, top ? this.at(top.dy) : 0);
    if (top) {
      this.backward(logVar, n, headInput, this.at(this.dhScratch!));
      k.addInto(this.at(top.dy), this.at(this.dhScratch!), n * top.outputs);
    } else this.backward(logVar, n, headInput, 0);
    for (let i = this.encoder.length - 1; i >= 0; i--) {
      const l = this.encoder[i]!;
      const input = i > 0 ? this.encoder[i - 1]! : undefined;
      this.backward(l, n, input ? this.at(input.y) : this.at(this.x), input ? this.at(input.dy) : 0);
    }

    const grads: NamedTensorMap = {};
    for (const [v, t] of this.grads) grads[v.name] = t;
    return { loss, grads };
  }

  /**
   * One layer backward from l.dy: its ReLU mask (in place) and bias gradient, dL/dW = inputᵀ·dpre,
   * and dL/d input = dpre·Wᵀ into `inputGrad` (0: not needed).
   */
  private backward(l: Layer, n: number, input: number, inputGrad: number): void {
    const { k } = this;
    const dy = this.at(l.dy);
    const bias = this.gradAt(l.b);
    k.activationGrad(n, l.outputs, this.at(l.y), dy, l.relu, dy, bias || this.at(this.colSums));
    const w = this.gradAt(l.w);
    if (w) k.gemm(l.inputs, l.outputs, n, input, true, dy, false, w);
    if (inputGrad) k.gemm(n, l.inputs, l.outputs, dy, false, this.at(l.w), true, inputGrad);
  }

  dispose(): void {
    this.tf.dispose(this.buffers);
    this.buffers.length = 0;
    this.grads.clear();
  }
}
