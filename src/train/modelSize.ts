/**
 * How much memory a spec's network needs, checked before anything is allocated: a layer
 * of 65536 x 65536 weights asks for 16 GiB and would otherwise hang the machine in
 * tfjs's allocator (or die there with an engine error) instead of being a user error.
 */
import { UserError } from '../core/errors';
import { MODEL_TYPE_INFO } from '../core/modelTypes';
import type { ModelSpec } from '../core/spec';

/** Weights + biases of a dense stack from `input` through `hidden` widths. */
function stackParameters(input: number, hidden: readonly number[]): { count: number; out: number } {
  let count = 0;
  let width = input;
  for (const h of hidden) {
    count += (width + 1) * h;
    width = h;
  }
  return { count, out: width };
}

/** Trainable numbers of the VAE of `model` on data of dimension `dim` (as model.ts builds it). */
export function parameterCount(model: ModelSpec, dim: number): number {
  const H = model.latentDim;
  const enc = stackParameters(dim, model.encoder.hidden);
  const dec = stackParameters(H, model.decoder.hidden);
  const info = MODEL_TYPE_INFO[model.type];
  const perPoint = info.decoderVariance === 'per-point';
  const heads = 2 * (enc.out + 1) * H + (dec.out + 1) * dim * (perPoint ? 2 : 1);
  const globalVariance = perPoint ? 0 : model.decoderVariance === 'per-dimension' && info.decoderVariance === 'global' ? dim : 1;
  const variances = globalVariance + (info.learnsPriorVariance ? H : 0);
  return enc.count + dec.count + heads + variances;
}

/** Weights, their gradients and Adam's two moments, as float32. */
const BYTES_PER_PARAMETER = 4 * 4;
/** The wasm engine's memory cannot grow past 4 GiB; keep well clear of it. */
export const MAX_MODEL_BYTES = 2 ** 31;

export function checkModelFits(model: ModelSpec, dim: number, specPath: string): void {
  const count = parameterCount(model, dim);
  const bytes = count * BYTES_PER_PARAMETER;
  if (bytes <= MAX_MODEL_BYTES) return;
  throw new UserError(
    `the model has ${count.toExponential(2)} parameters on data of dimension ${dim}: training needs about ${(bytes / 2 ** 30).toFixed(1)} GiB, ` +
      `more than the ${MAX_MODEL_BYTES / 2 ** 30} GiB the trainer allows. Use narrower hidden layers (model.encoder.hidden, model.decoder.hidden) or fewer latents.`,
    { file: specPath, field: 'model' },
  );
}
