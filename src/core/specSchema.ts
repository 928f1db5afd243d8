/**
 * The `*.vae.json` schema: the single source of truth. `schemas/vae-spec.schema.json`
 * is generated from it (npm run schema), the editor gets completion and hover from
 * that file, and the build compiles it into the validator specParts/schemaCheck.ts
 * runs (specParts/specValidator.generated.js) to give located messages.
 */

import { DEFAULT_DIAGNOSTIC_SUBSET, SPEC_DEFAULTS } from './defaults';
import { DATA_LAYOUTS } from './imageLayout';
import { ACTIVATIONS, LAYER_FIELDS, LAYER_TYPES, PADDINGS } from './layers';
import { MODEL_TYPES, modelTypesDescription } from './modelTypes';

export { MODEL_TYPES };

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  description?: string;
  markdownDescription?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  enum?: readonly (string | number)[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  default?: unknown;
  /** VS Code's own keywords: whether its JSON support accepts comments and trailing commas in the file. */
  allowComments?: boolean;
  allowTrailingCommas?: boolean;
  /** Used for `data`: exactly one of these property sets identifies the variant. */
  oneOf?: JsonSchema[];
  /** Used at the top: the first variant whose `required` fields are all present applies (model spec or script spec). */
  anyOf?: JsonSchema[];
  $schema?: string;
  $id?: string;
  title?: string;
}

export const SYNTHETIC_KINDS = ['circle', 'eight_gaussians', 'cosine', 'lemniscate', 'swiss_roll', 'spiral3d', 'manifold', 'ppca', 'ring'] as const;

/** Seeds are taken as 32-bit words by the generators: a larger one would silently share another's streams. */
const MAX_SEED = 2 ** 32 - 1;

export const DATA_FORMATS = ['csv', 'npy', 'idx', 'json'] as const;
export const SCALINGS = ['none', 'standardize', 'center', 'unit', 'minmax'] as const;
export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

const layer: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  description: 'One layer. Which fields a type takes: ' + LAYER_TYPES.map((t) => `\`${t}\`: ${LAYER_FIELDS[t].description}`).join('; ') + '.',
  properties: {
    type: { type: 'string', enum: LAYER_TYPES, description: LAYER_TYPES.map((t) => `\`${t}\`: ${LAYER_FIELDS[t].description}`).join('; ') },
    units: { type: 'integer', minimum: 1, maximum: 65536, description: '`dense`: number of outputs.' },
    filters: { type: 'integer', minimum: 1, maximum: 4096, description: '`conv2d`, `conv2dTranspose`: output channels.' },
    kernel: { type: 'integer', minimum: 1, maximum: 64, description: '`conv2d`, `conv2dTranspose`: window size (square).' },
    stride: { type: 'integer', minimum: 1, maximum: 64, description: '`conv2d`, `conv2dTranspose`: step (default 1).' },
    padding: {
      type: 'string',
      enum: PADDINGS,
      description: '`same` (default): conv2d gives ⌈in/stride⌉, conv2dTranspose in·stride; `valid`: no padding.',
    },
    activation: {
      type: 'string',
      enum: ACTIVATIONS,
      description: "After this layer. Default: the network's `activation`; the decoder's output layer (its last with weights) is linear unless stated.",
    },
    size: { type: 'integer', minimum: 1, maximum: 64, description: '`upsample2d`: factor (default 2).' },
    shape: {
      type: 'array',
      items: { type: 'integer', minimum: 1, maximum: 65536 },
      minItems: 1,
      maxItems: 3,
      description: '`reshape`: the new shape per example, e.g. [7, 7, 64] (height, width, channels).',
    },
  },
};

const network = (what: string): JsonSchema => ({
  type: 'object',
  description: `The ${what} network: \`hidden\` layer widths with one \`activation\` (an MLP), or a list of \`layers\` (dense, convolutional...).`,
  additionalProperties: false,
  properties: {
    layers: {
      type: 'array',
      items: layer,
      maxItems: 64,
      description:
        what === 'encoder'
          ? 'The encoder as a list of layers from the data (images: height×width×channels). Its output is flattened into the two dense heads: latent mean and log-variance. Instead of `hidden`.'
          : "The decoder as a list of layers from the latent vector. Its last layer with weights is the output layer (linear unless stated), and the list must end in the data's shape; VAE-3 adds a twin of the output layer for log s²(z). Instead of `hidden`.",
    },
    hidden: {
      type: 'array',
      items: { type: 'integer', minimum: 1, maximum: 65536 },
      maxItems: 16,
      default: SPEC_DEFAULTS.model.hidden,
      description: 'Hidden layer widths of an MLP. `[]` makes the map linear (probabilistic PCA when both are linear).',
    },
    activation: {
      type: 'string',
      enum: ACTIVATIONS,
      default: SPEC_DEFAULTS.model.activation,
      description: 'Activation after each hidden layer (and the default of `layers`). Output layers are linear.',
    },
  },
});

const commonDataProps: Record<string, JsonSchema> = {
  scale: {
    type: 'string',
    enum: SCALINGS,
    description:
      'Scaling before training: `none`; `standardize` (zero mean, unit variance per column); `center` (zero mean); `unit` (divide by 255, for 8-bit images); `minmax` (each column to [0, 1]). Default: `unit` for uint8 files, `none` otherwise.',
  },
  limit: { type: 'integer', minimum: 1, description: 'Use only the first `limit` rows.' },
  shape: {
    type: 'array',
    items: { type: 'integer', minimum: 1, maximum: 65536 },
    minItems: 2,
    maxItems: 3,
    description:
      'Shape of one example when the rows are images: [height, width] or [height, width, channels], e.g. [28, 28, 1] for 784 columns ([channels, height, width] with `layout` `channels-first`). IDX and NPY files know it; for CSV and JSON, state it to use convolutional layers.',
  },
  layout: {
    type: 'string',
    enum: DATA_LAYOUTS,
    description:
      "Where the images' channels are: `channels-last` (height, width, channels; the default) or `channels-first` (channels, height, width: PyTorch's order, as its tensors flatten and save). It applies to rows given a `shape`, to JSON images and to 4-D NPY files; without it, a 4-D NPY file is read as channels-first when it has at most 4 channels and a width above 4.",
  },
  validation: {
    type: 'number',
    minimum: 0,
    maximum: 0.9,
    default: SPEC_DEFAULTS.data.validation,
    description: 'Fraction of rows held out (seeded) for a validation ELBO.',
  },
};

export const SPEC_SCHEMA: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'vae-lens/vae-spec.schema.json',
  title: 'VAE Lens model spec',
  description: 'A Gaussian VAE, its data, training and diagnostics (VAE Lens).',
  // The spec reader accepts both; without these the editor's JSON support warns on each trailing comma.
  allowComments: true,
  allowTrailingCommas: true,
  type: 'object',
  additionalProperties: false,
  // A model spec needs data and model; a script spec needs trainer (core/scriptSpec.ts).
  anyOf: [{ required: ['data', 'model'] }, { required: ['trainer'] }],
  properties: {
    $schema: { type: 'string', description: 'Schema reference (ignored).' },
    trainer: {
      type: 'object',
      additionalProperties: false,
      required: ['command'],
      description:
        'Train with your own script instead of a model defined here (then leave out data, model and training). VAE Lens makes the run folder, passes it in the environment variable VAE_LENS_RUN_DIR, runs the command, and charts what the script writes there with the Python package vae_lens. Runs only in a trusted workspace.',
      properties: {
        command: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          description: 'The program and its arguments, run without a shell, e.g. ["python3", "train.py", "--epochs", "30"].',
        },
        cwd: { type: 'string', minLength: 1, description: "Working directory, relative to the spec (default: the spec's folder)." },
        env: { type: 'object', description: 'Extra environment variables for the script, as strings.' },
        stopGraceSeconds: {
          type: 'number',
          minimum: 0,
          maximum: 600,
          default: SPEC_DEFAULTS.trainer.stopGraceSeconds,
          description: 'Stop sends SIGINT (KeyboardInterrupt in Python); the script is killed if it has not exited this many seconds later.',
        },
      },
    },
    name: { type: 'string', minLength: 1, description: 'Run name; defaults to the file name.' },
    data: {
      type: 'object',
      description: 'Where the data come from: a file (`path`) or a seeded synthetic set (`synthetic`).',
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['path'],
          properties: {
            path: {
              type: 'string',
              minLength: 1,
              description:
                'Data file, relative to the spec. CSV (header optional), NPY (float32/float64/uint8; (N, D) rows or (N, H, W), (N, H, W, C), (N, C, H, W) images), IDX or IDX.gz (MNIST family), or a JSON array of rows.',
            },
            format: { type: 'string', enum: DATA_FORMATS, description: 'Override the format guessed from the file name.' },
            header: { type: 'boolean', description: 'CSV: whether the first line is a header (guessed if omitted).' },
            ...commonDataProps,
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['synthetic'],
          properties: {
            synthetic: {
              type: 'string',
              enum: SYNTHETIC_KINDS,
              description:
                "A seeded synthetic set: the paper's manifolds (`circle`, `eight_gaussians`, `cosine`, `lemniscate`, `swiss_roll`, `spiral3d`, `manifold`) with Gaussian noise, `ppca` data with a known covariance, or `ring` (the unit circle in a random plane of D dimensions: a ring-shaped PCA set).",
            },
            n: { type: 'integer', minimum: 2, maximum: 10000000, default: SPEC_DEFAULTS.data.n, description: 'Number of points.' },
            noise: { type: 'number', minimum: 0, default: SPEC_DEFAULTS.data.noise, description: 'Standard deviation of the added Gaussian noise.' },
            seed: { type: 'integer', minimum: 0, maximum: MAX_SEED, default: SPEC_DEFAULTS.data.seed, description: 'Random seed.' },
            dim: {
              type: 'integer',
              minimum: 1,
              maximum: 100000,
              description: '`manifold`, `ppca` and `ring`: observed dimension D.',
            },
            intrinsicDim: {
              type: 'integer',
              minimum: 1,
              maximum: 1000,
              description: '`manifold`: dimension k of the curved manifold; `ppca`: rank of the signal.',
            },
            ...commonDataProps,
          },
        },
      ],
    },
    model: {
      type: 'object',
      additionalProperties: false,
      required: ['latentDim'],
      description: 'The Gaussian VAE.',
      properties: {
        type: {
          type: 'string',
          enum: MODEL_TYPES,
          default: SPEC_DEFAULTS.model.type,
          description: modelTypesDescription(),
        },
        latentDim: { type: 'integer', minimum: 1, maximum: 4096, description: 'Latent dimension H.' },
        encoder: network('encoder'),
        decoder: network('decoder'),
        decoderVariance: {
          type: 'string',
          enum: ['scalar', 'per-dimension'],
          default: SPEC_DEFAULTS.model.decoderVariance,
          description: 'VAE-1/VAE-2: one variance for all dimensions, or one per dimension.',
        },
        varianceUpdate: {
          type: 'string',
          enum: ['gradient', 'optimal'],
          default: SPEC_DEFAULTS.model.varianceUpdate,
          description:
            '`gradient`: learn the decoder variance with Adam (it can lag its optimum for many epochs; `elboAtOptVariance` shows the cost). `optimal`: hold it at its closed-form optimum s*^2 = E[(x - mu(z))^2], estimated after every step as a running mean over the last ~20 batches (thousands of points).',
        },
        initialVariance: {
          type: 'number',
          // Training holds the variance in float32: a smaller one is 0 there (every loss infinite), a larger one infinite.
          minimum: 1e-37,
          maximum: 1e38,
          description:
            "Starting decoder variance, from 1e-37 to 1e38 (float32's range). Default: 5% of the data's mean per-dimension variance, so the decoder starts sharper than the data and the latents are not switched off at the start (posterior collapse). VAE-0 keeps its variance fixed at this value (default 1).",
        },
      },
    },
    training: {
      type: 'object',
      additionalProperties: false,
      description: 'Optimisation.',
      properties: {
        epochs: { type: 'integer', minimum: 1, maximum: 100000, default: SPEC_DEFAULTS.training.epochs },
        batchSize: { type: 'integer', minimum: 1, maximum: 65536, default: SPEC_DEFAULTS.training.batchSize },
        learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 10, default: SPEC_DEFAULTS.training.learningRate, description: 'Adam learning rate.' },
        optimizer: { type: 'string', enum: ['adam'], default: SPEC_DEFAULTS.training.optimizer },
        schedule: {
          type: 'string',
          enum: ['constant', 'cosine'],
          default: SPEC_DEFAULTS.training.schedule,
          description:
            '`constant` learning rate, or `cosine` decay to 1% of it by the last epoch. With a constant rate Adam hovers around a stationary point; a decaying one settles into it, which is where ELBO = entropy sum.',
        },
        seed: {
          type: 'integer',
          minimum: 0,
          maximum: MAX_SEED,
          default: SPEC_DEFAULTS.training.seed,
          description: 'Seed for initialisation, shuffling and sampling.',
        },
        checkpointEvery: {
          type: 'integer',
          minimum: 1,
          default: SPEC_DEFAULTS.training.checkpointEvery,
          description: 'Write a checkpoint every this many epochs (the last one is always written).',
        },
        backend: {
          type: 'string',
          enum: BACKENDS,
          default: SPEC_DEFAULTS.training.backend,
          description: 'tfjs engine: `auto` tries tensorflow (tfjs-node), then wasm, then cpu.',
        },
        threads: {
          type: 'integer',
          minimum: 1,
          maximum: 256,
          description:
            "Threads the wasm engine splits each matrix product and Adam update over; results are the same for any count. At most the machine's cores are used. Default: every core (one fewer when trained from the editor). The vaeLens.threads setting and the CLI's --threads override it.",
        },
      },
    },
    diagnostics: {
      type: 'object',
      additionalProperties: false,
      description: 'The entropy diagnostics pass.',
      properties: {
        every: { type: 'integer', minimum: 1, default: SPEC_DEFAULTS.diagnostics.every, description: 'Run the diagnostics pass every this many epochs.' },
        mcSamples: {
          type: 'integer',
          minimum: 1,
          maximum: 1024,
          default: SPEC_DEFAULTS.diagnostics.mcSamples,
          description: 'Monte-Carlo samples z ~ q(z|x) per point (2 or more, so the ELBO has a standard error).',
        },
        subset: {
          type: 'integer',
          minimum: 1,
          description: `Evaluate on this fixed, seeded subset of the training set (default: all of it up to ${DEFAULT_DIAGNOSTIC_SUBSET} points).`,
        },
        tolerance: {
          type: 'number',
          // Below this the gap is asked to be smaller than float32 sums of the entropies can resolve.
          minimum: 1e-6,
          maximum: 1,
          default: SPEC_DEFAULTS.diagnostics.tolerance,
          description:
            'The convergence rule\'s unit of what matters: m = tolerance x (|H_enc| + |H_prior| + |H_dec|). The gap is closed when |R_dec| + |R_prior| over the last window passes is at most m (plus 2 standard errors); a rise, the step\'s noise and the mean-field gap count when they reach m/2 or m/4 (README, "The convergence verdict").',
        },
        window: {
          type: 'integer',
          // 1 is read as 2 (warned of): the trend reads 2w passes and needs at least 3. Still accepted, since
          // runs that asked for it keep it in their spec snapshot, which a resume and eval read.
          minimum: 1,
          maximum: 1000,
          default: SPEC_DEFAULTS.diagnostics.window,
          description:
            "The verdict's window w: the ELBO's trend is read over the last 2w passes (and a slow rise over the last quarter of the epochs so far, where passes are so frequent that this is more), the gap and the step's noise over the last w.",
        },
      },
    },
    output: {
      type: 'object',
      additionalProperties: false,
      properties: {
        runsDir: { type: 'string', description: 'Folder for run folders, relative to the spec (default `.vae-lens/runs` next to it).' },
      },
    },
  },
};

/** The bounds of a number spec field (a lower bound that excludes itself is given as exclusive). */
export function numberFieldBounds(section: 'training' | 'diagnostics', field: string): { minimum: number; maximum: number; exclusive: boolean } {
  const f = SPEC_SCHEMA.properties?.[section]?.properties?.[field];
  const minimum = f?.minimum ?? f?.exclusiveMinimum;
  if (f === undefined || minimum === undefined || f.maximum === undefined) throw new Error(`spec schema: ${section}.${field} is not a bounded number`);
  return { minimum, maximum: f.maximum, exclusive: f.minimum === undefined };
}

/** The bounds of an integer spec field, for the flags and settings that stand in for it (a flag may not ask for what a spec may not). */
export function integerFieldBounds(section: 'training' | 'diagnostics', field: string): { minimum: number; maximum: number } {
  const f = SPEC_SCHEMA.properties?.[section]?.properties?.[field];
  if (f?.type !== 'integer' || f.minimum === undefined || f.maximum === undefined) throw new Error(`spec schema: ${section}.${field} is not a bounded integer`);
  return { minimum: f.minimum, maximum: f.maximum };
}
