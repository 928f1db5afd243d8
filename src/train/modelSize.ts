/**
 * Whether a spec's networks fit their data and the machine, checked before anything is
 * allocated: a decoder that does not end in the data's shape is a located error on the layer
 * that breaks it, and a layer of 65536 x 65536 weights (16 GiB) a user error with its size
 * rather than a hang in tfjs's allocator.
 */
import { MAX_STRING_CHARS } from '../core/allocation';
import { UserError } from '../core/errors';
import { formatShape, networkDataShape, networkParameters, planNetworks, type NetworkPlan, type PlannedLayer } from '../core/layers';
import { MODEL_TYPE_INFO } from '../core/modelTypes';
import type { ModelSpec } from '../core/spec';

/** The networks' plan on this data, or a UserError naming the spec file and the layer. */
export function planModel(model: ModelSpec, dim: number, imageShape: readonly number[] | undefined, specPath: string): NetworkPlan {
  const perPoint = MODEL_TYPE_INFO[model.type].decoderVariance === 'per-point';
  const { plan, problems } = planNetworks(model, networkDataShape(dim, imageShape), perPoint);
  if (plan) return plan;
  const [first, ...more] = problems;
  throw new UserError(
    first!.message,
    { file: specPath, field: first!.field },
    more.map((p) => ({ message: p.message, location: { file: specPath, field: p.field } })),
  );
}

/** Trainable numbers of the VAE of `model` (as model.ts builds it). */
export function parameterCount(model: ModelSpec, dim: number, imageShape?: readonly number[], specPath = 'spec'): number {
  const info = MODEL_TYPE_INFO[model.type];
  const H = model.latentDim;
  const networks = networkParameters(planModel(model, dim, imageShape, specPath));
  const globalVariance = info.decoderVariance === 'per-point' ? 0 : model.decoderVariance === 'per-dimension' && info.decoderVariance === 'global' ? dim : 1;
  return networks + globalVariance + (info.learnsPriorVariance ? H : 0);
}

/** Weights, their gradients and Adam's two moments, as float32. */
const BYTES_PER_PARAMETER = 4 * 4;
/** The wasm engine's heap cannot grow past 2 GiB (measured: allocations fail just under 2 GiB). */
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

/**
 * Bytes one training step holds besides the weights: every layer's output and its gradient for
 * a batch, plus the largest im2col matrix a convolution builds (k·k·in values per output pixel).
 */
export function activationBytes(plan: NetworkPlan, batch: number): number {
  const layers = [...plan.encoder, ...plan.decoder];
  const values = layers.reduce((a, l) => a + outputValues(l), 0);
  return batch * (2 * values + Math.max(0, ...layers.map(columnValues))) * 4;
}

const outputValues = (l: PlannedLayer) => l.output.reduce((x, y) => x * y, 1);

/** Values of the im2col matrix a convolution builds for one example (0 for other layers). */
function columnValues(l: PlannedLayer): number {
  const t = l.layer;
  if (t.type === 'conv2d') return l.output[0]! * l.output[1]! * t.kernel * t.kernel * l.input[2]!;
  if (t.type === 'conv2dTranspose') return l.input[0]! * l.input[1]! * t.kernel * t.kernel * l.output[2]!;
  return 0;
}

/** The layer that takes the most memory in training (its weights, and its output and columns for a batch), as a user can find it. */
function largestLayer(plan: NetworkPlan, batch: number): string | undefined {
  let largest: PlannedLayer | undefined;
  let most = 0;
  for (const l of [...plan.encoder, ...plan.decoder]) {
    const bytes = l.params * BYTES_PER_PARAMETER + batch * (2 * outputValues(l) + columnValues(l)) * 4;
    if (bytes > most) [largest, most] = [l, bytes];
  }
  if (!largest) return undefined;
  // An output past a billion values is read better as a count than as its sizes.
  const output = outputValues(largest) > 1e9 ? `${outputValues(largest).toExponential(2)} values an example` : formatShape(largest.output);
  return `${largest.field} (${largest.layer.type}, ${output}): ${gib(most)} GiB`;
}

/** Bytes in GiB: one decimal, or three figures in exponent notation where that would be a long row of digits. */
const gib = (bytes: number) => {
  const g = bytes / 2 ** 30;
  return g < 1e6 ? g.toFixed(1) : g.toExponential(2);
};

export function checkModelFits(model: ModelSpec, dim: number, specPath: string, imageShape?: readonly number[], batch = 1): void {
  const count = parameterCount(model, dim, imageShape, specPath);
  const weights = count * BYTES_PER_PARAMETER;
  const activations = activationBytes(planModel(model, dim, imageShape, specPath), batch);
  if (weights + activations <= MAX_MODEL_BYTES && count > MAX_CHECKPOINT_PARAMETERS)
    throw new UserError(
      `the model has ${count.toExponential(2)} parameters on data of dimension ${dim}: its checkpoint (weights and Adam state, one JSON text of about ` +
        `${Math.round((count * CHECKPOINT_CHARS_PER_PARAMETER) / 2 ** 20)} M characters) would be longer than the ${Math.floor(MAX_STRING_CHARS / 2 ** 20)} M characters ` +
        `JavaScript can hold, so it could never be saved; at most ${MAX_CHECKPOINT_PARAMETERS.toExponential(2)} parameters can be. Use narrower layers (model.encoder, model.decoder) or fewer latents.`,
      { file: specPath, field: 'model' },
    );
  if (weights + activations <= MAX_MODEL_BYTES) return;
  const largest = largestLayer(planModel(model, dim, imageShape, specPath), batch);
  throw new UserError(
    `the model has ${count.toExponential(2)} parameters on data of dimension ${dim}: training needs about ${gib(weights)} GiB for the weights ` +
      `and ${gib(activations)} GiB for a batch of ${batch}, ${gib(weights + activations)} GiB, more than the ${MAX_MODEL_BYTES / 2 ** 30} GiB the trainer allows. ` +
      `Use narrower hidden layers (model.encoder, model.decoder: fewer units or filters), fewer latents, or a smaller training.batchSize${largest ? `; the largest layer is ${largest}` : ''}.`,
    { file: specPath, field: 'model' },
  );
}
