/**
 * Encoder and decoder as lists of layers: their spec form, and shape inference (pure, no
 * tfjs), used alike by the editor (diagnostics and hovers as the user types), the trainer
 * (refusing a network that does not fit its data before anything is built) and the model
 * builder (which builds exactly the plan made here).
 *
 * Shapes are per example, without the batch: [D] for flat vectors, [height, width, channels]
 * for images (NHWC). The encoder's output is flattened into two dense heads (latent mean and
 * log-variance); the decoder starts from the latent vector [H] and its last layer with weights
 * is the output layer: linear unless stated, and the layers after it (reshape, flatten,
 * upsampling) must bring it to the data's shape. VAE-3 gets a twin of that output layer (the
 * same layers after it) for log s²(z).
 */
export const ACTIVATIONS = ['relu', 'leakyRelu', 'elu', 'gelu', 'swish', 'silu', 'tanh', 'sigmoid', 'softplus', 'linear', 'leaky_relu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const LAYER_TYPES = ['dense', 'conv2d', 'conv2dTranspose', 'upsample2d', 'flatten', 'reshape'] as const;
export type LayerType = (typeof LAYER_TYPES)[number];
export const PADDINGS = ['same', 'valid'] as const;
export type Padding = (typeof PADDINGS)[number];

/** A layer as written in the spec (schema-checked; which fields a type takes is checked here). */
export interface LayerSpec {
  type: LayerType;
  units?: number;
  filters?: number;
  kernel?: number;
  stride?: number;
  padding?: Padding;
  activation?: Activation;
  size?: number;
  shape?: number[];
}

/** A layer with its defaults resolved. */
export type Layer =
  | { type: 'dense'; units: number; activation: Activation }
  | { type: 'conv2d' | 'conv2dTranspose'; filters: number; kernel: number; stride: number; padding: Padding; activation: Activation }
  | { type: 'upsample2d'; size: number }
  | { type: 'flatten' }
  | { type: 'reshape'; shape: number[] };

interface FieldRule {
  required: readonly (keyof LayerSpec)[];
  optional: readonly (keyof LayerSpec)[];
  /** What the layer is, for hovers and completion. */
  description: string;
}

/** Which fields each layer type takes: a Record, so a new type without its rule does not compile. */
export const LAYER_FIELDS: Record<LayerType, FieldRule> = {
  dense: { required: ['units'], optional: ['activation'], description: 'fully connected: `units` outputs from a flat input' },
  conv2d: {
    required: ['filters', 'kernel'],
    optional: ['stride', 'padding', 'activation'],
    description: '2-D convolution of an image input: `filters` channels out, a `kernel`×`kernel` window, `stride` (1), `padding` (`same`)',
  },
  conv2dTranspose: {
    required: ['filters', 'kernel'],
    optional: ['stride', 'padding', 'activation'],
    description: 'transposed 2-D convolution: scales the image up by `stride` (`same`: exactly; `valid`: (in−1)·stride + kernel)',
  },
  upsample2d: { required: [], optional: ['size'], description: 'nearest-neighbour upsampling of an image by `size` (2)' },
  flatten: { required: [], optional: [], description: 'an image to a flat vector' },
  reshape: { required: ['shape'], optional: [], description: 'to `shape`, e.g. [7, 7, 64] (the number of values must not change)' },
};

export interface PlannedLayer {
  layer: Layer;
  /** Where it is in the spec, e.g. "model.decoder.layers[3]" or "model.encoder.hidden[0]". */
  field: string;
  /** The checkpoint's name for its weights (kept from the MLP-only versions for dense stacks). */
  name: string;
  input: number[];
  output: number[];
  params: number;
}

export interface NetworkPlan {
  /** The data's shape as the networks see it: [h, w, c] for images, else [D]. */
  dataShape: number[];
  encoder: PlannedLayer[];
  /** The two heads from the flattened encoder output to the latent mean and log-variance. */
  heads: { input: number; latentDim: number; params: number };
  /** The decoder, ending in the data's shape; `output` is the index of its output layer. */
  decoder: PlannedLayer[];
  output: number;
  /** Parameters of the decoder's variance twin (VAE-3), else 0. */
  varianceTwinParams: number;
  /** Layers that fit but likely do not do what their writer meant (reshapeWarnings). */
  warnings: LayerProblem[];
}

export interface LayerProblem {
  message: string;
  field: string;
}

/** A network part as the model spec holds it: the `hidden` shorthand or explicit layers. */
export interface NetworkLayersInput {
  hidden: readonly number[];
  activation: Activation;
  layers?: readonly LayerSpec[];
}

export const formatShape = (s: readonly number[]): string => s.join('×');
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The data's shape for the networks: a 2-D image shape gets one channel. */
export function networkDataShape(dim: number, imageShape?: readonly number[]): number[] {
  if (imageShape && size(imageShape) === dim) {
    if (imageShape.length === 2) return [imageShape[0]!, imageShape[1]!, 1];
    if (imageShape.length === 3) return [...imageShape];
  }
  return [dim];
}

/** Field-level problems of a layer list (a field its type does not take, a missing one). */
export function layerFieldProblems(layers: readonly LayerSpec[], field: string): LayerProblem[] {
  const out: LayerProblem[] = [];
  layers.forEach((l, i) => {
    const at = `${field}[${i}]`;
    const rule = LAYER_FIELDS[l.type];
    const allowed = new Set<string>(['type', ...rule.required, ...rule.optional]);
    for (const key of Object.keys(l))
      if (!allowed.has(key))
        out.push({
          message: `${at}: "${key}" does not apply to a ${l.type} layer (it takes ${[...rule.required, ...rule.optional].map((k) => `"${k}"`).join(', ') || 'no fields'})`,
          field: `${at}.${key}`,
        });
    for (const key of rule.required) if (l[key] === undefined) out.push({ message: `${at}: a ${l.type} layer needs "${key}"`, field: at });
  });
  return out;
}

/** The spec's layers with defaults: activations from the network's `activation`, the output layer linear. */
function resolveLayer(l: LayerSpec, activation: Activation): Layer {
  switch (l.type) {
    case 'dense':
      return { type: 'dense', units: l.units!, activation: l.activation ?? activation };
    case 'conv2d':
    case 'conv2dTranspose':
      return {
        type: l.type,
        filters: l.filters!,
        kernel: l.kernel!,
        stride: l.stride ?? 1,
        padding: l.padding ?? 'same',
        activation: l.activation ?? activation,
      };
    case 'upsample2d':
      return { type: 'upsample2d', size: l.size ?? 2 };
    case 'flatten':
      return { type: 'flatten' };
    case 'reshape':
      return { type: 'reshape', shape: [...l.shape!] };
  }
}

export const hasWeights = (l: Layer): l is Extract<Layer, { type: 'dense' | 'conv2d' | 'conv2dTranspose' }> =>
  l.type === 'dense' || l.type === 'conv2d' || l.type === 'conv2dTranspose';

/** Output shape and parameter count of one layer, or what is wrong with its input. */
export function layerOutput(l: Layer, input: readonly number[]): { output: number[]; params: number } | { problem: string } {
  switch (l.type) {
    case 'dense':
      if (input.length !== 1) return { problem: `dense needs a flat input, and its input is ${formatShape(input)}; put {"type": "flatten"} before it` };
      return { output: [l.units], params: (input[0]! + 1) * l.units };
    case 'conv2d':
    case 'conv2dTranspose': {
      if (input.length !== 3)
        return {
          problem: `${l.type} needs an image input (height×width×channels), and its input is ${formatShape(input)}; add a reshape before it (or state data.shape)`,
        };
      const [h, w, c] = input as [number, number, number];
      const out = (s: number): number => {
        if (l.type === 'conv2d') return l.padding === 'same' ? Math.ceil(s / l.stride) : Math.floor((s - l.kernel) / l.stride) + 1;
        return l.padding === 'same' ? s * l.stride : (s - 1) * l.stride + l.kernel;
      };
      if (out(h) < 1 || out(w) < 1) return { problem: `the ${l.kernel}×${l.kernel} kernel does not fit the ${h}×${w} input with padding "valid"` };
      return { output: [out(h), out(w), l.filters], params: l.kernel * l.kernel * c * l.filters + l.filters };
    }
    case 'upsample2d':
      if (input.length !== 3) return { problem: `upsample2d needs an image input (height×width×channels), and its input is ${formatShape(input)}` };
      return { output: [input[0]! * l.size, input[1]! * l.size, input[2]!], params: 0 };
    case 'flatten':
      return { output: [size(input)], params: 0 };
    case 'reshape':
      if (size(l.shape) !== size(input))
        return { problem: `cannot reshape ${formatShape(input)} (${size(input)} values) to ${formatShape(l.shape)} (${size(l.shape)} values)` };
      return { output: [...l.shape], params: 0 };
  }
}

/** The layers of one network part, from `layers` or the `hidden` shorthand. */
function listOf(net: NetworkLayersInput, part: 'encoder' | 'decoder', outputUnits: number): { layers: Layer[]; fields: string[]; names: string[] } {
  const base = `model.${part}`;
  const prefix = part === 'encoder' ? 'enc' : 'dec';
  if (net.layers) {
    const layers = net.layers.map((l) => resolveLayer(l, net.activation));
    const fields = layers.map((_, i) => `${base}.layers[${i}]`);
    if (part === 'decoder') {
      const out = lastWeighted(layers);
      // The output layer is linear unless the spec says otherwise.
      const o = layers[out];
      if (o && hasWeights(o) && net.layers[out]!.activation === undefined) layers[out] = { ...o, activation: 'linear' };
    }
    return { layers, fields, names: layers.map((_, i) => `${prefix}${i}`) };
  }
  const layers: Layer[] = net.hidden.map((units) => ({ type: 'dense', units, activation: net.activation }));
  const fields = net.hidden.map((_, i) => `${base}.hidden[${i}]`);
  const names = net.hidden.map((_, i) => `${prefix}${i}`);
  if (part === 'decoder') {
    layers.push({ type: 'dense', units: outputUnits, activation: 'linear' });
    fields.push(`${base}.hidden`);
    names.push('dec_mean');
  }
  return { layers, fields, names };
}

const lastWeighted = (layers: readonly Layer[]): number => {
  for (let i = layers.length - 1; i >= 0; i--) if (hasWeights(layers[i]!)) return i;
  return -1;
};

function planPart(
  layers: Layer[],
  fields: string[],
  names: string[],
  input: number[],
  problems: LayerProblem[],
): { planned: PlannedLayer[]; output: number[] | undefined } {
  const planned: PlannedLayer[] = [];
  let shape = input;
  for (let i = 0; i < layers.length; i++) {
    const r = layerOutput(layers[i]!, shape);
    if ('problem' in r) {
      problems.push({ message: `${fields[i]}: ${r.problem}`, field: fields[i]! });
      return { planned, output: undefined };
    }
    planned.push({ layer: layers[i]!, field: fields[i]!, name: names[i]!, input: shape, output: r.output, params: r.params });
    shape = r.output;
  }
  return { planned, output: shape };
}

/**
 * The networks of `model` on data of `dataShape` (see networkDataShape): every layer's input
 * and output shape and parameter count, or the problems, each located on the layer that
 * breaks the chain (the decoder's last layer when its output is not the data's shape).
 */
export function planNetworks(
  model: { latentDim: number; encoder: NetworkLayersInput; decoder: NetworkLayersInput },
  dataShape: readonly number[],
  varianceTwin: boolean,
): { plan?: NetworkPlan; problems: LayerProblem[] } {
  const problems: LayerProblem[] = [];
  const D = size(dataShape);
  const H = model.latentDim;
  const enc = listOf(model.encoder, 'encoder', D);
  const dec = listOf(model.decoder, 'decoder', D);
  if (model.encoder.layers) problems.push(...layerFieldProblems(model.encoder.layers, 'model.encoder.layers'));
  if (model.decoder.layers) problems.push(...layerFieldProblems(model.decoder.layers, 'model.decoder.layers'));
  if (problems.length > 0) return { problems };

  // The `hidden` shorthand is an MLP: it reads images as flat vectors.
  const encoderInput = model.encoder.layers ? [...dataShape] : [D];
  const e = planPart(enc.layers, enc.fields, enc.names, encoderInput, problems);
  const d = planPart(dec.layers, dec.fields, dec.names, [H], problems);
  const output = lastWeighted(dec.layers);
  if (output < 0)
    problems.push({
      message: 'model.decoder.layers: the decoder needs a dense, conv2d or conv2dTranspose layer (its last one is the output layer)',
      field: 'model.decoder.layers',
    });
  if (d.output && output >= 0 && !sameData(d.output, dataShape)) {
    const last = dec.fields[dec.fields.length - 1]!;
    const chain = [[H], ...d.planned.map((l) => l.output)].map(formatShape).join(' → ');
    const fit = whatWouldFit(d.planned, d.output, dataShape);
    problems.push({
      message: `${last}: output ${formatShape(d.output)}, the data is ${formatShape(dataShape)} (the decoder: ${chain})${fit ? `; ${fit}` : ''}`,
      field: last,
    });
  }
  if (problems.length > 0 || !e.output || !d.output) return { problems };
  const F = size(e.output);
  return {
    plan: {
      dataShape: [...dataShape],
      encoder: e.planned,
      heads: { input: F, latentDim: H, params: 2 * (F + 1) * H },
      decoder: d.planned,
      output,
      varianceTwinParams: varianceTwin ? d.planned[output]!.params : 0,
      warnings: [...e.planned, ...d.planned].flatMap(reshapeWarning),
    },
    problems,
  };
}

/**
 * A reshape of images height×width×channels to channels×height×width, as PyTorch holds them:
 * a reshape keeps the numbers in their order, so it does not move the channels but cuts the
 * pixels into other images, which the layers after it then learn from.
 */
function reshapeWarning(l: PlannedLayer): LayerProblem[] {
  if (l.layer.type !== 'reshape' || l.input.length !== 3 || l.output.length !== 3) return [];
  const [h, w, c] = l.input as [number, number, number];
  if (c === 1 || (c === h && h === w) || l.output[0] !== c || l.output[1] !== h || l.output[2] !== w) return [];
  return [
    {
      message:
        `${l.field}: reshape to ${formatShape(l.output)} does not put the channels of the ${formatShape(l.input)} images first: it keeps the numbers in ` +
        `their order and cuts them into other images. The layers here read images as height×width×channels (${formatShape(l.input)}), as the trainer holds them; leave this reshape out`,
      field: l.field,
    },
  ];
}

/** The input sizes along one axis from which `l` gives `target`, as [lowest, highest], or undefined when none does. */
function inputsGiving(l: Layer, target: number): [number, number] | undefined {
  const whole = (n: number): [number, number] | undefined => (Number.isInteger(n) && n >= 1 ? [n, n] : undefined);
  switch (l.type) {
    case 'conv2d': {
      // ceil(in / stride) for "same", floor((in − kernel) / stride) + 1 for "valid".
      const lowest = (target - 1) * l.stride + (l.padding === 'same' ? 1 : l.kernel);
      return [lowest, lowest + l.stride - 1];
    }
    case 'conv2dTranspose':
      return whole(l.padding === 'same' ? target / l.stride : (target - l.kernel) / l.stride + 1);
    case 'upsample2d':
      return whole(target / l.size);
    default:
      return undefined;
  }
}

/** A setting of `l` (padding, stride, kernel; an upsampling's size) that gives height×width `h`×`w` from `input`, as the spec would say it. */
function settingThatFits(l: Layer, input: readonly number[], h: number, w: number): string | undefined {
  const gives = (candidate: Layer) => {
    const r = layerOutput(candidate, input);
    return !('problem' in r) && r.output[0] === h && r.output[1] === w;
  };
  if (l.type === 'upsample2d') {
    for (let size = 1; size <= 64; size++) if (size !== l.size && gives({ ...l, size })) return `"size": ${size}`;
    return undefined;
  }
  if (l.type !== 'conv2d' && l.type !== 'conv2dTranspose') return undefined;
  const other = l.padding === 'same' ? 'valid' : 'same';
  if (gives({ ...l, padding: other })) return `"padding": "${other}"`;
  for (let stride = 1; stride <= 64; stride++) if (stride !== l.stride && gives({ ...l, stride })) return `"stride": ${stride}`;
  for (let kernel = 1; kernel <= 64; kernel++) if (kernel !== l.kernel && gives({ ...l, kernel })) return `"kernel": ${kernel}`;
  return undefined;
}

/**
 * What would bring an image decoder to the data's height and width: a setting of its last layer
 * that sizes images (an off-by-one usually shows there), else the input that the last one that
 * changes the size would need; or the output layer's filters, where only the channels differ.
 */
function whatWouldFit(decoder: readonly PlannedLayer[], output: readonly number[], data: readonly number[]): string | undefined {
  if (output.length !== 3 || data.length !== 3) return undefined;
  const [h, w, c] = data as [number, number, number];
  const sameSize = (s: readonly number[]) => s[0] === output[0] && s[1] === output[1];
  const reversed = [...decoder].reverse();
  if (sameSize(data)) {
    const last = reversed.find((l) => l.layer.type === 'conv2d' || l.layer.type === 'conv2dTranspose');
    return last && last.output[2] !== c ? `${last.field} would give ${c} channel${c === 1 ? '' : 's'} with "filters": ${c}` : undefined;
  }
  const sizing = (l: PlannedLayer) => l.input.length === 3 && (hasWeights(l.layer) || l.layer.type === 'upsample2d');
  const resizes = (l: PlannedLayer) => l.input[0] !== l.output[0] || l.input[1] !== l.output[1];
  const gives = (l: PlannedLayer) => `${l.field} (${l.layer.type}) gives ${formatShape(l.output.slice(0, 2))} from ${formatShape(l.input.slice(0, 2))}`;
  const last = reversed.find(sizing);
  if (!last || !sameSize(last.output)) return undefined;
  const setting = settingThatFits(last.layer, last.input, h, w);
  if (setting) return `${gives(last)}; ${setting} would give ${h}×${w}`;
  const resizing = resizes(last) ? last : reversed.find((l) => sizing(l) && resizes(l));
  if (!resizing || !sameSize(resizing.output)) return undefined;
  const [rows, cols] = [inputsGiving(resizing.layer, h), inputsGiving(resizing.layer, w)];
  const range = ([lo, hi]: [number, number]) => (lo === hi ? `${lo}` : `${lo} to ${hi}`);
  if (!rows || !cols) return `${gives(resizing)}, and no input gives ${h}×${w} with its settings`;
  return rows[0] === rows[1] && cols[0] === cols[1]
    ? `${gives(resizing)}; ${h}×${w} needs an input of ${rows[0]}×${cols[0]}`
    : `${gives(resizing)}; ${h}×${w} needs an input ${range(rows)} high and ${range(cols)} wide`;
}

/**
 * The decoder's output fits the data: the same image shape, or as many values flat. A grey image
 * may end in height×width, as `data.shape` [h, w] states it: the values of h×w×1, in their order.
 */
function sameData(out: readonly number[], data: readonly number[]): boolean {
  if (size(out) !== size(data)) return false;
  const grey = (s: readonly number[]) => (s.length === 3 && s[2] === 1 ? s.slice(0, 2) : s).join('x');
  return out.length === 1 || data.length === 1 || grey(out) === grey(data);
}

/** Weights of both networks (heads and the VAE-3 twin included). */
export function networkParameters(plan: NetworkPlan): number {
  const sum = (ls: readonly PlannedLayer[]) => ls.reduce((a, l) => a + l.params, 0);
  return sum(plan.encoder) + plan.heads.params + sum(plan.decoder) + plan.varianceTwinParams;
}

/** The per-layer table of a plan, for hovers and the CLI: "decoder.layers[2]  conv2dTranspose  7×7×64 → 14×14×32  32,800". */
export function describePlan(plan: NetworkPlan): string[] {
  const row = (l: PlannedLayer) =>
    `${l.field.replace(/^model\./, '')}  ${l.layer.type}  ${formatShape(l.input)} → ${formatShape(l.output)}  ${l.params.toLocaleString('en-US')}`;
  return [
    ...plan.encoder.map(row),
    `encoder heads (mean, log-variance)  dense  ${plan.heads.input} → 2×${plan.heads.latentDim}  ${plan.heads.params.toLocaleString('en-US')}`,
    ...plan.decoder.map(row),
    ...(plan.varianceTwinParams > 0
      ? [`decoder variance head (VAE-3)  ${plan.decoder[plan.output]!.layer.type}  ${plan.varianceTwinParams.toLocaleString('en-US')}`]
      : []),
  ];
}
