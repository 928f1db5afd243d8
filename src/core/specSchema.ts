/**
 * The `*.vae.json` schema: the single source of truth. `schemas/vae-spec.schema.json`
 * is generated from it (npm run schema), the editor gets completion and hover from
 * that file, and `validateAgainstSchema` in spec.ts interprets the same object to
 * give located messages. Only the JSON Schema keywords used here are interpreted.
 */

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
  /** Used for `data`: exactly one of these property sets identifies the variant. */
  oneOf?: JsonSchema[];
  $schema?: string;
  $id?: string;
  title?: string;
}

export const SYNTHETIC_KINDS = ['circle', 'eight_gaussians', 'cosine', 'lemniscate', 'swiss_roll', 'spiral3d', 'manifold', 'ppca', 'ring'] as const;

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'elu', 'softplus', 'leaky_relu', 'linear'] as const;
export const MODEL_TYPES = ['VAE-0', 'VAE-1', 'VAE-2', 'VAE-3'] as const;
export const DATA_FORMATS = ['csv', 'npy', 'idx', 'json'] as const;
export const SCALINGS = ['none', 'standardize', 'center', 'unit', 'minmax'] as const;
export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

const network = (what: string): JsonSchema => ({
  type: 'object',
  description: `The ${what} network: hidden layer sizes and their activation.`,
  additionalProperties: false,
  properties: {
    hidden: {
      type: 'array',
      items: { type: 'integer', minimum: 1, maximum: 65536 },
      maxItems: 16,
      default: [64, 64],
      description: 'Hidden layer widths. `[]` makes the map linear (probabilistic PCA when both are linear).',
    },
    activation: {
      type: 'string',
      enum: ACTIVATIONS,
      default: 'relu',
      description: 'Activation after each hidden layer. Output layers are always linear.',
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
  validation: {
    type: 'number',
    minimum: 0,
    maximum: 0.9,
    default: 0,
    description: 'Fraction of rows held out (seeded) for a validation ELBO.',
  },
};

export const SPEC_SCHEMA: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'vae-lens/vae-spec.schema.json',
  title: 'VAE Lens model spec',
  description: 'A Gaussian VAE, its data, training and diagnostics (VAE Lens).',
  type: 'object',
  additionalProperties: false,
  required: ['data', 'model'],
  properties: {
    $schema: { type: 'string', description: 'Schema reference (ignored).' },
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
                'Data file, relative to the spec. CSV (header optional), NPY (float32/float64/uint8, C order), IDX or IDX.gz (MNIST family), or a JSON array of rows.',
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
            n: { type: 'integer', minimum: 2, maximum: 10000000, default: 2000, description: 'Number of points.' },
            noise: { type: 'number', minimum: 0, default: 0.05, description: 'Standard deviation of the added Gaussian noise.' },
            seed: { type: 'integer', minimum: 0, default: 0, description: 'Random seed.' },
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
          default: 'VAE-1',
          description:
            "The paper's variants. VAE-0: decoder variance fixed at 1 (the entropy result does not hold). VAE-1: learnable decoder variance. VAE-2: VAE-1 plus learnable prior variances. VAE-3: decoder outputs a latent-dependent diagonal variance.",
        },
        latentDim: { type: 'integer', minimum: 1, maximum: 4096, description: 'Latent dimension H.' },
        encoder: network('encoder'),
        decoder: network('decoder'),
        decoderVariance: {
          type: 'string',
          enum: ['scalar', 'per-dimension'],
          default: 'scalar',
          description: 'VAE-1/VAE-2: one variance for all dimensions, or one per dimension.',
        },
        varianceUpdate: {
          type: 'string',
          enum: ['gradient', 'optimal'],
          default: 'gradient',
          description:
            '`gradient`: learn the decoder variance with Adam (it can lag its optimum for many epochs; `elboAtOptVariance` shows the cost). `optimal`: hold it at its closed-form optimum s*^2 = E[(x - mu(z))^2], estimated after every step as a running mean over the last ~20 batches (thousands of points).',
        },
        initialVariance: {
          type: 'number',
          exclusiveMinimum: 0,
          description:
            "Starting decoder variance. Default: 5% of the data's mean per-dimension variance, so the decoder starts sharper than the data and the latents are not switched off at the start (posterior collapse). VAE-0 keeps its variance fixed at this value (default 1).",
        },
      },
    },
    training: {
      type: 'object',
      additionalProperties: false,
      description: 'Optimisation.',
      properties: {
        epochs: { type: 'integer', minimum: 1, maximum: 100000, default: 50 },
        batchSize: { type: 'integer', minimum: 1, maximum: 65536, default: 128 },
        learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 10, default: 0.001, description: 'Adam learning rate.' },
        optimizer: { type: 'string', enum: ['adam'], default: 'adam' },
        schedule: {
          type: 'string',
          enum: ['constant', 'cosine'],
          default: 'constant',
          description:
            '`constant` learning rate, or `cosine` decay to 1% of it by the last epoch. With a constant rate Adam hovers around a stationary point; a decaying one settles into it, which is where ELBO = entropy sum.',
        },
        seed: { type: 'integer', minimum: 0, default: 0, description: 'Seed for initialisation, shuffling and sampling.' },
        checkpointEvery: {
          type: 'integer',
          minimum: 1,
          default: 1,
          description: 'Write a checkpoint every this many epochs (the last one is always written).',
        },
        backend: {
          type: 'string',
          enum: BACKENDS,
          default: 'auto',
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
        every: { type: 'integer', minimum: 1, default: 1, description: 'Run the diagnostics pass every this many epochs.' },
        mcSamples: {
          type: 'integer',
          minimum: 1,
          maximum: 1024,
          default: 2,
          description: 'Monte-Carlo samples z ~ q(z|x) per point (2 or more, so the ELBO has a standard error).',
        },
        subset: {
          type: 'integer',
          minimum: 1,
          description: 'Evaluate on this fixed, seeded subset of the training set (default: all of it up to 4096 points).',
        },
        tolerance: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          default: 0.01,
          description: 'Converged when gapRel is below this (beyond Monte-Carlo error) and the ELBO has stopped moving.',
        },
        window: { type: 'integer', minimum: 1, maximum: 1000, default: 5, description: 'Passes over which the ELBO must be stable.' },
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
