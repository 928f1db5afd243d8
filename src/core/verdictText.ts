/**
 * How a convergence state reads: one wording for the status bar, its tooltip, the CodeLens, the
 * panel and the CLI, so they never disagree.
 */
import type { ConvergenceState } from './runFormat';

const LABELS: Record<ConvergenceState, string> = {
  'too-early': 'too early to judge',
  improving: 'still improving',
  'not-converged': 'not converged',
  'noise-limited': "stalled on the step's noise",
  converged: 'converged',
  collapsed: 'converged, latents collapsed',
  stationary: 'stationary (VAE-0)',
};

export type VerdictTone = 'good' | 'warn' | 'neutral';

/** What a run says of the theorem, where a surface knows it: a label should not name VAE-0 for another model. */
export interface TheoremContext {
  /** Why the theorem does not apply, where it does not (core/run/settings.theoremNoteOf). */
  theoremNote?: string;
  modelType?: string;
}

/**
 * A few words for the state ("still improving"). `stationary` names VAE-0, the one model of a spec
 * outside the theorem; a run outside it for another reason (a Bernoulli decoder, beta = 0, its note
 * saying why), or another model whose records leave the gap untested, reads plain "stationary".
 */
export function verdictLabel(state: ConvergenceState | undefined, run?: TheoremContext): string {
  if (state === undefined) return 'not judged';
  const otherModel = run?.modelType !== undefined && run.modelType !== 'VAE-0';
  if (state === 'stationary' && (otherModel || (run?.theoremNote && run.modelType === undefined))) return 'stationary';
  return LABELS[state] ?? String(state);
}

/** good: done; warn: done but not as hoped, or not at a stationary point; neutral: wait. */
export function verdictTone(state: ConvergenceState | undefined): VerdictTone {
  switch (state) {
    case 'converged':
      return 'good';
    case 'not-converged':
    case 'noise-limited':
    case 'collapsed':
    case 'stationary':
      return 'warn';
    default:
      return 'neutral';
  }
}

/** The reason's first sentence: what the CodeLens and one-line outputs show. */
export function shortReason(reason: string | undefined): string | undefined {
  if (!reason) return undefined;
  // A sentence ends at ". " followed by a capital (numbers such as 0.05 are not ends).
  const m = /^(.+?[.!?])(\s+(?=[A-Z(])|$)/.exec(reason.trim());
  return (m ? m[1]! : reason).trim();
}

/** "still improving: The ELBO still rises: +0.3 over the last 10 passes." with the reason's first sentence. */
export function verdictHeadline(state: ConvergenceState | undefined, reason: string | undefined, run?: TheoremContext): string {
  const short = shortReason(reason);
  if (!short) return verdictLabel(state, run);
  // "The ELBO still rises" reads "the ELBO still rises" after a colon; "R_dec ..." keeps its case.
  const lower = /^[A-Z][a-z]/.test(short) ? short[0]!.toLowerCase() + short.slice(1) : short;
  return `${verdictLabel(state, run)}: ${lower}`;
}

/** The state and its whole reason, for tooltips, the panel and the CLI. */
export function verdictLine(state: ConvergenceState | undefined, reason: string | undefined, run?: TheoremContext): string {
  return reason ? `${verdictLabel(state, run)}. ${reason}` : verdictLabel(state, run);
}
