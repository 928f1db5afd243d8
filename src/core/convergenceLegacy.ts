/**
 * The convergence rule VAE Lens used before the verdict of convergence.ts (kept callable so the
 * convergence benchmark can measure both on the same runs: scripts/convergence-benchmark.mjs).
 *
 * The old rule, on the diagnostics passes so far (w = window, tol = tolerance,
 * scale = |H_enc| + |H_prior| + |H_dec| at the latest pass):
 *  1. The gap is closed, and closed for the right reason: with R_dec and R_prior averaged over the
 *     last w passes, |R_dec| + |R_prior| <= tol * scale + 2 * gapStdErr. At a stationary point both
 *     residuals vanish; their sum (the gap) can cross zero while they still cancel, which is not
 *     convergence. Averaging (signed) over passes lets minibatch jitter around the point cancel out.
 *  2. The ELBO has stopped moving: the mean ELBO of the last w passes differs from the mean of the
 *     w passes before by at most tol * scale + 2 * (the larger standard error).
 * gapRel <= tol then holds up to Monte-Carlo and minibatch noise. VAE-0 cannot close the gap (its
 * variance is fixed), so it can only become "stationary".
 */

import type { ConvergencePoint } from './convergenceMeasures';

export type LegacyConvergenceState = 'converged' | 'not-converged' | 'stationary' | 'too-early';

export interface LegacyVerdict {
  state: LegacyConvergenceState;
  gapClosed: boolean;
  elboStable: boolean;
  /** One line a person can read: why this state. */
  reason: string;
}

/** The fields of a pass the old rule read. */
export type LegacyPoint = Pick<ConvergencePoint, 'elbo' | 'elboStdErr' | 'gap' | 'gapStdErr' | 'rDec' | 'rPrior' | 'hEnc' | 'hPrior' | 'hDec'>;

export function judgeConvergenceLegacy(history: readonly LegacyPoint[], opts: { tolerance: number; window: number; theoremApplies: boolean }): LegacyVerdict {
  const last = history[history.length - 1];
  if (!last) return { state: 'too-early', gapClosed: false, elboStable: false, reason: 'no diagnostics yet' };
  const scale = Math.abs(last.hEnc) + Math.abs(last.hPrior) + Math.abs(last.hDec);
  const w = Math.max(1, opts.window);
  const recent = history.slice(-w);
  const mean = (xs: readonly LegacyPoint[], f: (p: LegacyPoint) => number) => xs.reduce((a, p) => a + f(p), 0) / xs.length;
  const gapAllowed = opts.tolerance * scale + 2 * last.gapStdErr;
  const residual = Math.abs(mean(recent, (p) => p.rDec)) + Math.abs(mean(recent, (p) => p.rPrior));
  const gapClosed = residual <= gapAllowed;

  const enough = history.length >= 2 * w;
  let elboStable = false;
  let stableText: string;
  if (!enough) {
    stableText = `needs ${2 * w} passes to judge the ELBO's trend (has ${history.length})`;
  } else {
    const before = history.slice(-2 * w, -w);
    const change = mean(recent, (p) => p.elbo) - mean(before, (p) => p.elbo);
    const allowed = opts.tolerance * scale + 2 * Math.max(last.elboStdErr, before[0]!.elboStdErr);
    elboStable = Math.abs(change) <= allowed;
    stableText = `mean ELBO moved ${fmt(change)} between the last two windows of ${w} passes (allowed ${fmt(allowed)})`;
  }
  const gapText = `gap ${fmt(last.gap)}; |R_dec| + |R_prior| over ${recent.length} passes ${fmt(residual)} (allowed ${fmt(gapAllowed)})`;

  if (!opts.theoremApplies) {
    return {
      state: !enough ? 'too-early' : elboStable ? 'stationary' : 'not-converged',
      gapClosed,
      elboStable,
      reason: `${stableText}; fixed decoder variance, so the gap need not close: ${gapText}`,
    };
  }
  if (!enough && !gapClosed) return { state: 'not-converged', gapClosed, elboStable, reason: `${gapText}; ${stableText}` };
  if (!enough) return { state: 'too-early', gapClosed, elboStable, reason: `${gapText}; ${stableText}` };
  return {
    state: gapClosed && elboStable ? 'converged' : 'not-converged',
    gapClosed,
    elboStable,
    reason: `${gapText}; ${stableText}`,
  };
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3));
