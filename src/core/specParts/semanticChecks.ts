/** Checks of a spec that the schema alone cannot express (fields that depend on each other, layer lists). */
import { layerFieldProblems } from '../layers';
import { MODEL_TYPE_INFO } from '../modelTypes';
import type { VaeSpec } from './types';
import type { RawSpec } from './withDefaults';

/** Problems the schema alone cannot express. */
export function semanticProblems(spec: VaeSpec, raw: RawSpec): { message: string; field: string }[] {
  const out: { message: string; field: string }[] = [];
  const d = spec.data;
  if (d.kind === 'synthetic') {
    if ((d.synthetic === 'manifold' || d.synthetic === 'ppca' || d.synthetic === 'ring') && d.dim === undefined)
      out.push({ message: `data.dim is required for the "${d.synthetic}" set (the observed dimension D)`, field: 'data.synthetic' });
    if (d.synthetic === 'manifold' && d.intrinsicDim !== undefined && d.dim !== undefined && d.intrinsicDim >= d.dim)
      out.push({ message: `data.intrinsicDim (${d.intrinsicDim}) must be smaller than data.dim (${d.dim})`, field: 'data.intrinsicDim' });
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
