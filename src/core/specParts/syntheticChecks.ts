/**
 * The rules a synthetic set's sizes must meet, and how many rows a validation fraction holds out:
 * pure, so the spec validator (editor, CLI, trainer) and the generator (data/synthetic.ts) apply
 * the same ones.
 */
import type { SyntheticKind } from './types';

/** `manifold` and `ppca` without data.intrinsicDim. */
export const DEFAULT_INTRINSIC_DIM = 2;

export interface SyntheticSizes {
  synthetic: SyntheticKind;
  dim?: number;
  intrinsicDim?: number;
}

/** Problems of dim and intrinsicDim together; a missing dim is reported elsewhere. */
export function syntheticSizeProblems(p: SyntheticSizes): { message: string; field: string }[] {
  const dim = p.dim;
  if (dim === undefined) return [];
  if (p.synthetic === 'ring')
    return dim < 2 ? [{ message: `data.dim must be at least 2 for "ring" (a circle needs a plane; got ${dim})`, field: 'data.dim' }] : [];
  if (p.synthetic !== 'manifold' && p.synthetic !== 'ppca') return [];
  const k = p.intrinsicDim ?? DEFAULT_INTRINSIC_DIM;
  // An omitted intrinsicDim has no line in the file: the problem is then data.dim's.
  const field = p.intrinsicDim === undefined ? 'data.dim' : 'data.intrinsicDim';
  const kText = p.intrinsicDim === undefined ? `data.intrinsicDim (default ${k})` : `data.intrinsicDim (${k})`;
  if (p.synthetic === 'manifold' && k >= dim)
    return [{ message: `${kText} must be smaller than data.dim (${dim}) for a curved manifold in D dimensions`, field }];
  if (p.synthetic === 'ppca' && k > dim) return [{ message: `${kText} cannot exceed data.dim (${dim})`, field }];
  return [];
}

/** Rows a validation fraction holds out of n (at least one when it is above 0). */
export function heldOutRows(n: number, fraction: number): number {
  return fraction === 0 ? 0 : Math.max(1, Math.round(n * fraction));
}

export function validationProblem(n: number, fraction: number): string | undefined {
  if (fraction === 0 || heldOutRows(n, fraction) < n) return undefined;
  return `data.validation = ${fraction} would hold out ${n === 1 ? 'the only row' : `all ${n} rows`} and leave none to train on; use a smaller fraction or more data`;
}
