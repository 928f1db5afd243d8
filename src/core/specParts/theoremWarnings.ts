/** Warnings for specs where the entropy theorem will not hold or the diagnostics will mislead (not errors). */
import { MODEL_TYPE_INFO } from '../modelTypes';
import type { VaeSpec } from './types';

/** Where the entropy result will not hold, or the diagnostics will mislead. */
export function theoremWarnings(spec: VaeSpec): { message: string; field: string }[] {
  const out: { message: string; field: string }[] = [];
  const m = spec.model;
  const info = MODEL_TYPE_INFO[m.type];
  if (info.theoremNote) out.push({ message: info.theoremNote, field: 'model.type' });
  if (!m.decoder.layers && m.decoder.hidden.length > 0 && m.decoder.activation === 'linear')
    out.push({
      message: 'linear activations make the hidden layers collapse to one linear map; use "hidden": [] for a linear decoder',
      field: 'model.decoder.activation',
    });
  if (spec.diagnostics.mcSamples === 1)
    out.push({ message: 'with one Monte-Carlo sample the ELBO standard error cannot be estimated; use 2 or more', field: 'diagnostics.mcSamples' });
  out.push(...windowWarnings(spec.diagnostics.window));
  return out;
}

/** A window the rule reads otherwise than written (model and script specs alike). */
export function windowWarnings(window: number): { message: string; field: string }[] {
  return window === 1 ? [{ message: "a window of 1 is read as 2: the ELBO's trend needs 2w passes, at least 4; write 2", field: 'diagnostics.window' }] : [];
}
