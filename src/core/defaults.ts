/**
 * Every default of a `*.vae.json`, once. The parser (spec.ts withDefaults) fills them in from
 * here and the schema's `default`s (specSchema.ts, hence the editor's hovers) are read from
 * here; test/unit/specDefaults.test.ts fails when the two disagree.
 */
import type { ModelType } from './modelTypes';

export const SPEC_DEFAULTS = {
  data: { n: 2000, noise: 0.05, seed: 0, validation: 0 },
  model: {
    type: 'VAE-1' as ModelType,
    hidden: [64, 64] as readonly number[],
    activation: 'relu' as const,
    decoderVariance: 'scalar' as const,
    varianceUpdate: 'gradient' as const,
  },
  training: {
    epochs: 50,
    batchSize: 128,
    learningRate: 0.001,
    optimizer: 'adam' as const,
    schedule: 'constant' as const,
    seed: 0,
    checkpointEvery: 1,
    backend: 'auto' as const,
  },
  diagnostics: {
    every: 1,
    // Two samples per point: on the fixed subset only the Monte-Carlo noise varies between
    // passes, and it depends on points x samples; halving it from 4 raised the ELBO's s.e. on
    // Fashion-MNIST from 0.05 to 0.07 nats (of 642) and halved the pass (BENCHMARKS.md).
    mcSamples: 2,
    /** The verdict's tolerance on gapRel and its window of passes. */
    tolerance: 0.01,
    window: 5,
  },
  /** A script spec's trainer (scriptSpec.ts): seconds between Stop's SIGINT and the kill. */
  trainer: { stopGraceSeconds: 10 },
} as const;

/** Diagnostics passes evaluate all training points up to this many (diagnostics.subset). */
export const DEFAULT_DIAGNOSTIC_SUBSET = 4096;
