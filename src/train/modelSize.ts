/**
 * How much memory a spec's network needs, checked before anything is allocated: a layer
 * of 65536 x 65536 weights asks for 16 GiB and would otherwise hang the machine in
 * tfjs's allocator (or die there with an engine error) instead of being a user error.
 */
import { MAX_STRING_CHARS } from '../core/allocation';
import { UserError } from '../core/errors';
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
  const heads = 2 * (enc.out + 1) * H + (dec.out + 1) * dim * (model.type === 'VAE-3' ? 2 : 1);
  const variances = (model.decoderVariance === 'per-dimension' ? dim : 1) + (model.type === 'VAE-2' ? H : 0);
  return enc.count + dec.count + heads + variances;
}

/** Weights, their gradients and Adam's two moments, as float32. */
const BYTES_PER_PARAMETER = 4 * 4;
/** The wasm engine's memory cannot grow past 4 GiB; keep well clear of it. */
export const MAX_MODEL_BYTES = 2 ** 31;

/**
 * Characters of a checkpoint per parameter: the weight and Adam's two moments, 4 bytes each, in
 * base64 (4 characters per 3 bytes). The checkpoint is one JSON text, and V8 cannot build a
 * string longer than MAX_STRING_CHARS: past about 33 M parameters it could not be written.
 */
const CHECKPOINT_CHARS_PER_PARAMETER = (3 * 4 * 4) / 3;
/** Room for the JSON around the tensors (names, shapes, the epoch...). */
const CHECKPOINT_OVERHEAD_CHARS = 1 << 20;

/** The most parameters whose checkpoint can still be written. */
export const MAX_CHECKPOINT_PARAMETERS = Math.floor((MAX_STRING_CHARS - CHECKPOINT_OVERHEAD_CHARS) / CHECKPOINT_CHARS_PER_PARAMETER);

export function checkModelFits(model: ModelSpec, dim: number, specPath: string): void {
  const count = parameterCount(model, dim);
  const bytes = count * BYTES_PER_PARAMETER;
  if (bytes <= MAX_MODEL_BYTES && count > MAX_CHECKPOINT_PARAMETERS)
    throw new UserError(
      `the model has ${count.toExponential(2)} parameters on data of dimension ${dim}: its checkpoint (weights and Adam state, one JSON text of about ` +
        `${Math.round((count * CHECKPOINT_CHARS_PER_PARAMETER) / 2 ** 20)} M characters) would be longer than the ${Math.floor(MAX_STRING_CHARS / 2 ** 20)} M characters ` +
        `JavaScript can hold, so it could never be saved; at most ${MAX_CHECKPOINT_PARAMETERS.toExponential(2)} parameters can be. Use narrower hidden layers (model.encoder.hidden, model.decoder.hidden) or fewer latents.`,
      { file: specPath, field: 'model' },
    );
  if (bytes <= MAX_MODEL_BYTES) return;
  throw new UserError(
    `the model has ${count.toExponential(2)} parameters on data of dimension ${dim}: training needs about ${(bytes / 2 ** 30).toFixed(1)} GiB, ` +
      `more than the ${MAX_MODEL_BYTES / 2 ** 30} GiB the trainer allows. Use narrower hidden layers (model.encoder.hidden, model.decoder.hidden) or fewer latents.`,
    { file: specPath, field: 'model' },
  );
}
