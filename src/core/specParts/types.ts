/** The shapes of a parsed model spec: what the trainer reads once every default is filled in. Types only. */
import type { SourceLocation } from '../errors';
import type { DataLayout } from '../imageLayout';
import type { Activation, LayerSpec } from '../layers';
import type { ModelType } from '../modelTypes';
import type { BACKENDS, DATA_FORMATS, SCALINGS, SYNTHETIC_KINDS } from '../specSchema';

export type { ModelType };

export type SyntheticKind = (typeof SYNTHETIC_KINDS)[number];
export type { Activation };
export type DataFormat = (typeof DATA_FORMATS)[number];
export type Scaling = (typeof SCALINGS)[number];
export type BackendChoice = (typeof BACKENDS)[number];

interface CommonData {
  scale?: Scaling;
  /** One example's image shape, stated in the spec (IDX and NPY know theirs), in `layout`'s order. */
  shape?: number[];
  /** Where the channels of the file's images are; channels last unless stated (4-D NPY files: told by their shape). */
  layout?: DataLayout;
  limit?: number;
  validation: number;
}
export interface FileDataSpec extends CommonData {
  kind: 'file';
  path: string;
  format?: DataFormat;
  header?: boolean;
}
export interface SyntheticDataSpec extends CommonData {
  kind: 'synthetic';
  synthetic: SyntheticKind;
  n: number;
  noise: number;
  seed: number;
  dim?: number;
  intrinsicDim?: number;
}
export type DataSpec = FileDataSpec | SyntheticDataSpec;

export interface NetworkSpec {
  hidden: number[];
  activation: Activation;
  /** Explicit layers, instead of `hidden` (core/layers.ts). */
  layers?: LayerSpec[];
}

export interface ModelSpec {
  type: ModelType;
  latentDim: number;
  encoder: NetworkSpec;
  decoder: NetworkSpec;
  decoderVariance: 'scalar' | 'per-dimension';
  varianceUpdate: 'gradient' | 'optimal';
  /** Undefined: chosen from the data (see initialDecoderVariance). */
  initialVariance?: number;
}

export interface TrainingSpec {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'adam';
  schedule: 'constant' | 'cosine';
  seed: number;
  checkpointEvery: number;
  backend: BackendChoice;
  /** Threads for the wasm engine's products and updates; undefined: the machine's cores (src/train/threads.ts). */
  threads?: number;
}

export interface DiagnosticsSpec {
  every: number;
  mcSamples: number;
  /** Undefined: all training points up to DEFAULT_DIAGNOSTIC_SUBSET. */
  subset?: number;
  tolerance: number;
  window: number;
}

/** A spec with every default filled in: the one config object the trainer reads. */
export interface VaeSpec {
  name: string;
  data: DataSpec;
  model: ModelSpec;
  training: TrainingSpec;
  diagnostics: DiagnosticsSpec;
  output: { runsDir?: string };
}

export interface SpecWarning {
  message: string;
  location: SourceLocation;
}

export interface ParsedSpec {
  spec: VaeSpec;
  warnings: SpecWarning[];
  /** The text as read, kept for the run folder's snapshot. */
  text: string;
}
