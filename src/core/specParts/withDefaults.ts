/** A validated spec's raw values with every default filled in (defaults from core/defaults.ts). */
import { SPEC_DEFAULTS } from '../defaults';
import { MODEL_TYPE_INFO } from '../modelTypes';
import type { DataLayout } from '../imageLayout';
import type { DataFormat, DataSpec, DiagnosticsSpec, ModelSpec, NetworkSpec, Scaling, SyntheticKind, TrainingSpec, VaeSpec } from './types';

/** Shapes as they come out of validation: the schema guarantees the types. */
export interface RawSpec {
  name?: string;
  data: Record<string, unknown>;
  model: Partial<Omit<ModelSpec, 'encoder' | 'decoder'>> & { latentDim: number; encoder?: Partial<NetworkSpec>; decoder?: Partial<NetworkSpec> };
  training?: Partial<TrainingSpec>;
  diagnostics?: Partial<DiagnosticsSpec>;
  output?: { runsDir?: string };
}

export function withDefaults(raw: RawSpec, file: string): VaeSpec {
  const d = raw.data;
  const common = {
    scale: d.scale as Scaling | undefined,
    limit: d.limit as number | undefined,
    ...(Array.isArray(d.shape) ? { shape: d.shape as number[] } : {}),
    ...(typeof d.layout === 'string' ? { layout: d.layout as DataLayout } : {}),
    validation: (d.validation as number | undefined) ?? SPEC_DEFAULTS.data.validation,
  };
  const data: DataSpec =
    typeof d.path === 'string'
      ? { kind: 'file', path: d.path, format: d.format as DataFormat | undefined, header: d.header as boolean | undefined, ...common }
      : {
          kind: 'synthetic',
          synthetic: d.synthetic as SyntheticKind,
          n: (d.n as number | undefined) ?? SPEC_DEFAULTS.data.n,
          noise: (d.noise as number | undefined) ?? SPEC_DEFAULTS.data.noise,
          seed: (d.seed as number | undefined) ?? SPEC_DEFAULTS.data.seed,
          dim: d.dim as number | undefined,
          intrinsicDim: d.intrinsicDim as number | undefined,
          ...common,
        };
  const net = (n: Partial<NetworkSpec> | undefined): NetworkSpec => ({
    hidden: n?.hidden ?? [...SPEC_DEFAULTS.model.hidden],
    activation: n?.activation ?? SPEC_DEFAULTS.model.activation,
    ...(n?.layers ? { layers: n.layers } : {}),
  });
  const m = raw.model;
  const t = raw.training ?? {};
  const g = raw.diagnostics ?? {};
  const type = m.type ?? SPEC_DEFAULTS.model.type;
  const TD = SPEC_DEFAULTS.training;
  const GD = SPEC_DEFAULTS.diagnostics;
  const baseName = file
    .replace(/\\/g, '/')
    .split('/')
    .pop()!
    .replace(/\.vae\.json$|\.json$/, '');
  return {
    name: raw.name ?? baseName,
    data,
    model: {
      type,
      latentDim: m.latentDim,
      encoder: net(m.encoder),
      decoder: net(m.decoder),
      decoderVariance: m.decoderVariance ?? SPEC_DEFAULTS.model.decoderVariance,
      varianceUpdate: m.varianceUpdate ?? SPEC_DEFAULTS.model.varianceUpdate,
      initialVariance: m.initialVariance ?? MODEL_TYPE_INFO[type].defaultInitialVariance,
    },
    training: {
      epochs: t.epochs ?? TD.epochs,
      batchSize: t.batchSize ?? TD.batchSize,
      learningRate: t.learningRate ?? TD.learningRate,
      optimizer: TD.optimizer,
      schedule: t.schedule ?? TD.schedule,
      seed: t.seed ?? TD.seed,
      checkpointEvery: t.checkpointEvery ?? TD.checkpointEvery,
      backend: t.backend ?? TD.backend,
      threads: t.threads,
    },
    diagnostics: {
      every: g.every ?? GD.every,
      mcSamples: g.mcSamples ?? GD.mcSamples,
      subset: g.subset,
      tolerance: g.tolerance ?? GD.tolerance,
      window: g.window ?? GD.window,
    },
    output: { runsDir: raw.output?.runsDir },
  };
}

/** The starting decoder variance: the spec's, else 5% of the data's mean per-dimension variance. */
export function initialDecoderVariance(model: ModelSpec, meanDataVariance: number): number {
  if (model.initialVariance !== undefined) return model.initialVariance;
  return meanDataVariance > 0 && Number.isFinite(meanDataVariance) ? 0.05 * meanDataVariance : 1;
}
