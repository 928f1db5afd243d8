/**
 * The convergence rule. A run is converged when, at the latest diagnostics pass,
 *  1. the gap is closed, and closed for the right reason: |R_dec| + |R_prior| <= tol * scale + 2 * gapStdErr,
 *     with scale = |H_enc| + |H_prior| + |H_dec|. At a stationary point both residuals vanish; their sum
 *     (the gap) can cross zero on the way while they still cancel each other, which is not convergence.
 *     So gapRel <= tol follows, once Monte-Carlo noise is allowed for; and
 *  2. the ELBO has stopped moving: over the last `window` passes it changed by at most
 *     tol * scale + 2 * sqrt(se_now^2 + se_then^2).
 * VAE-0 cannot close the gap (its variance is fixed), so it can only become "stationary".
 */

export type ConvergenceState = 'converged' | 'not-converged' | 'stationary' | 'too-early';

export interface ConvergenceVerdict {
  state: ConvergenceState;
  gapClosed: boolean;
  elboStable: boolean;
  /** One line a person can read: why this state. */
  reason: string;
}

export interface ConvergencePoint {
  elbo: number;
  elboStdErr: number;
  gap: number;
  gapStdErr: number;
  rDec: number;
  rPrior: number;
  hEnc: number;
  hPrior: number;
  hDec: number;
}

export function judgeConvergence(
  history: readonly ConvergencePoint[],
  opts: { tolerance: number; window: number; theoremApplies: boolean },
): ConvergenceVerdict {
  const last = history[history.length - 1];
  if (!last) return { state: 'too-early', gapClosed: false, elboStable: false, reason: 'no diagnostics yet' };
  const scale = Math.abs(last.hEnc) + Math.abs(last.hPrior) + Math.abs(last.hDec);
  const gapAllowed = opts.tolerance * scale + 2 * last.gapStdErr;
  const residual = Math.abs(last.rDec) + Math.abs(last.rPrior);
  const gapClosed = residual <= gapAllowed;

  const then = history[history.length - 1 - opts.window];
  let elboStable = false;
  let stableText: string;
  if (!then) {
    stableText = `needs ${opts.window + 1} passes to judge the ELBO's trend (has ${history.length})`;
  } else {
    const change = last.elbo - then.elbo;
    const allowed = opts.tolerance * scale + 2 * Math.hypot(last.elboStdErr, then.elboStdErr);
    elboStable = Math.abs(change) <= allowed;
    stableText = `ELBO moved ${fmt(change)} over ${opts.window} passes (allowed ${fmt(allowed)})`;
  }
  const gapText = `gap ${fmt(last.gap)}, |R_dec| + |R_prior| = ${fmt(residual)} (allowed ${fmt(gapAllowed)})`;

  if (!opts.theoremApplies) {
    return {
      state: !then ? 'too-early' : elboStable ? 'stationary' : 'not-converged',
      gapClosed,
      elboStable,
      reason: `${stableText}; fixed decoder variance, so the gap need not close: ${gapText}`,
    };
  }
  if (!then && !gapClosed) return { state: 'not-converged', gapClosed, elboStable, reason: `${gapText}; ${stableText}` };
  if (!then) return { state: 'too-early', gapClosed, elboStable, reason: `${gapText}; ${stableText}` };
  return {
    state: gapClosed && elboStable ? 'converged' : 'not-converged',
    gapClosed,
    elboStable,
    reason: `${gapText}; ${stableText}`,
  };
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3));
