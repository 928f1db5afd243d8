/** Checks of a spec that the schema alone cannot express (fields that depend on each other, layer lists). */
import { layerFieldProblems } from '../layers';
import { MODEL_TYPE_INFO } from '../modelTypes';
import { syntheticSizeProblems, validationProblem } from './syntheticChecks';
import type { VaeSpec } from './types';
import type { RawSpec } from './withDefaults';

/** Problems the schema alone cannot express. */
export function semanticProblems(spec: VaeSpec, raw: RawSpec): { message: string; field: string }[] {
  const out: { message: string; field: string }[] = [];
  const d = spec.data;
  if (d.kind === 'synthetic') {
    if ((d.synthetic === 'manifold' || d.synthetic === 'ppca' || d.synthetic === 'ring') && d.dim === undefined)
      out.push({ message: `data.dim is required for the "${d.synthetic}" set (the observed dimension D)`, field: 'data.synthetic' });
    out.push(...syntheticSizeProblems(d));
    // The set's size is known here (a file's only once it is read, where the loader checks the same).
    const validation = validationProblem(Math.min(d.n, d.limit ?? d.n), d.validation);
    if (validation !== undefined) out.push({ message: validation, field: 'data.validation' });
  }
  for (const part of ['encoder', 'decoder'] as const) {
    const net = spec.model[part];
    if (net.layers && raw.model[part]?.hidden !== undefined)
      out.push({ message: `model.${part}: give either "hidden" or "layers", not both`, field: `model.${part}.hidden` });
    if (net.layers) out.push(...layerFieldProblems(net.layers, `model.${part}.layers`));
  }
  if (MODEL_TYPE_INFO[spec.model.type].decoderVariance === 'per-point' && spec.model.varianceUpdate === 'optimal')
    out.push({
      message: `model.varianceUpdate "optimal" has no closed form for ${spec.model.type} (the variance depends on z); use "gradient"`,
      field: 'model.varianceUpdate',
    });
  return out;
}

/** The synthetic sets that read data.dim, and data.intrinsicDim (see data/synthetic.ts). */
const READS_DIM: ReadonlySet<string> = new Set(['manifold', 'ppca', 'ring']);
const READS_INTRINSIC_DIM: ReadonlySet<string> = new Set(['manifold', 'ppca']);

/** Fields given to a synthetic set that does not read them: the user would believe they shaped the data. */
export function unusedDataFieldWarnings(spec: VaeSpec): { message: string; field: string }[] {
  const d = spec.data;
  if (d.kind !== 'synthetic') return [];
  const out: { message: string; field: string }[] = [];
  if (d.dim !== undefined && !READS_DIM.has(d.synthetic))
    out.push({
      message: `data.dim is not read by "${d.synthetic}", a set of fixed dimension; only "manifold", "ppca" and "ring" take one: remove it`,
      field: 'data.dim',
    });
  if (d.intrinsicDim !== undefined && !READS_INTRINSIC_DIM.has(d.synthetic))
    out.push({
      message: `data.intrinsicDim is not read by "${d.synthetic}"; only "manifold" and "ppca" take one: remove it`,
      field: 'data.intrinsicDim',
    });
  return out;
}

/** Variance fields the model type does not read: the user would believe they chose how its variance is kept. */
export function unusedModelFieldWarnings(spec: VaeSpec, raw: RawSpec): { message: string; field: string }[] {
  const { type } = spec.model;
  const source = MODEL_TYPE_INFO[type].decoderVariance;
  const out: { message: string; field: string }[] = [];
  if (raw.model.decoderVariance !== undefined && source !== 'global')
    out.push({
      message: `decoderVariance has no effect for ${type}: ${source === 'fixed' ? 'its variance is fixed at model.initialVariance' : 'its decoder outputs a variance for each point and dimension'}; only VAE-1 and VAE-2 read it`,
      field: 'model.decoderVariance',
    });
  if (raw.model.varianceUpdate !== undefined && source === 'fixed')
    out.push({ message: `varianceUpdate has no effect for ${type} (its variance is fixed at model.initialVariance)`, field: 'model.varianceUpdate' });
  return out;
}
