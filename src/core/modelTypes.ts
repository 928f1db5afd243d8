/**
 * The paper's model variants as one table. Everything that behaves differently per variant
 * (the model builder, the loop, the diagnostics, the spec checks, the size estimate, the run
 * reader and the words shown) reads this table; a new variant is one entry here, and
 * `Record<ModelType, ...>` makes a missing entry a compile error rather than a silent VAE-1.
 */

export const MODEL_TYPES = ['VAE-0', 'VAE-1', 'VAE-2', 'VAE-3'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/**
 * How the decoder variance s^2 is had:
 * - `fixed`: held at model.initialVariance, never learned;
 * - `global`: learned, one scalar or one per dimension (model.decoderVariance), by Adam or
 *   at its closed-form optimum (model.varianceUpdate);
 * - `per-point`: a second decoder head outputs log s^2(z) (latent-dependent, diagonal).
 */
export type DecoderVarianceSource = 'fixed' | 'global' | 'per-point';

/** The diagnostics a variant's runs can show. */
export type VariantDiagnostic =
  /** ELBO beside the entropy sum, with the gap and its split into R_dec and R_prior. */
  | 'entropySum'
  /** The ELBO with s^2 moved to its closed-form optimum (needs one s^2 for all points). */
  | 'elboAtOptVariance'
  /** The learned prior variances a_h^2. */
  | 'priorVariance';

export interface ModelTypeInfo {
  decoderVariance: DecoderVarianceSource;
  /** The prior's variances a_h^2 are learned (otherwise p(z) = N(0, I)). */
  learnsPriorVariance: boolean;
  /** Damm et al.'s result (ELBO = entropy sum at stationary points) holds for this variant. */
  theoremHolds: boolean;
  /** The starting decoder variance when the spec gives none (undefined: chosen from the data). */
  defaultInitialVariance?: number;
  diagnostics: readonly VariantDiagnostic[];
  /** One line for the schema, hovers and reports. */
  summary: string;
  /** Shown as a warning on model.type where the theorem does not hold. */
  theoremNote?: string;
}

export const MODEL_TYPE_INFO: Record<ModelType, ModelTypeInfo> = {
  'VAE-0': {
    decoderVariance: 'fixed',
    learnsPriorVariance: false,
    theoremHolds: false,
    defaultInitialVariance: 1,
    diagnostics: ['entropySum', 'elboAtOptVariance'],
    summary: 'decoder variance fixed (at model.initialVariance, default 1): the entropy result does not hold',
    theoremNote:
      'VAE-0 fixes the decoder variance, so the ELBO does not converge to the entropy sum: the gap will settle at R_dec = D/2 (1 - s*^2/s^2), not at zero.',
  },
  'VAE-1': {
    decoderVariance: 'global',
    learnsPriorVariance: false,
    theoremHolds: true,
    diagnostics: ['entropySum', 'elboAtOptVariance'],
    summary: 'learned decoder variance (one scalar, or one per dimension with model.decoderVariance)',
  },
  'VAE-2': {
    decoderVariance: 'global',
    learnsPriorVariance: true,
    theoremHolds: true,
    diagnostics: ['entropySum', 'elboAtOptVariance', 'priorVariance'],
    summary: 'VAE-1 plus learned prior variances a_h^2',
  },
  'VAE-3': {
    decoderVariance: 'per-point',
    learnsPriorVariance: false,
    theoremHolds: true,
    diagnostics: ['entropySum'],
    summary: 'the decoder outputs a latent-dependent diagonal variance s^2(z)',
  },
};

export const modelTypeInfo = (type: ModelType): ModelTypeInfo => MODEL_TYPE_INFO[type];

/** The schema's description of model.type, from the table. */
export function modelTypesDescription(): string {
  return `The paper's variants. ${MODEL_TYPES.map((t) => `${t}: ${MODEL_TYPE_INFO[t].summary}.`).join(' ')}`;
}
