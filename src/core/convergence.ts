/**
 * The convergence verdict, on the diagnostics passes so far. A small gap says the model is near
 * *a* stationary point of the objective its optimizer sees; it does not say that training is over
 * (a constant step keeps the weights jittering around the optimum), nor that every latent is used.
 * So the verdict reads, pass by pass, with w = window, tol = tolerance, scale = |H_enc| + |H_prior|
 * + |H_dec| and the unit of what matters m = tol * scale:
 *
 *  1. the trend (a noise-aware plateau test): the slope of the ELBO over the last 2w passes
 *     (Theil-Sen, so one wild pass cannot tilt it) against its standard error, which is never taken
 *     below what the passes' Monte-Carlo error allows. Rising by more than 2 s.e. and by more than
 *     m/2 over those passes is `improving` (also, after step 3, a rise of 2m that the noise cannot
 *     rule out); falling alike is `not-converged` (the ELBO is getting worse). A rise ends where
 *     the window shows it slowing: the slope of its first w + 1 passes (minus 2 s.e.) above that of
 *     its last w + 1 (plus 2 s.e.). Then it no longer counts when the last w + 1 passes are flat
 *     beyond doubt (their upper bound over the 2w-pass span under m/2: after a steep start the long
 *     window leans up for w passes after the ELBO has levelled off), nor when an exponential
 *     approach slowing at that rate has less than m/2 (m once settled) left to gain (`riseLeft`;
 *     under a steady step, not where the w + 1 passes before the window rose slower than such an
 *     approach must have: then the slowing is a pause in a steadier rise),
 *     nor, for a linear decoder whose mean-field gap G (step 4) shrinks while the ELBO rises by at
 *     most 4 times G's fall, when 2G is under m/2 (that rise is the posterior decorrelating, and
 *     gives back about twice what G loses); once the verdict has settled, a flat last stretch is
 *     enough. Where the records carry the learning rate, the trend is read per unit of step until
 *     the verdict has settled (an epoch at a tenth of the window's first step counts a tenth), where
 *     the step did not rise over the window: a rise that slowed only because a decaying schedule
 *     shrank the step has not ended. Where passes come so often that 2w of them cover less than the
 *     last quarter of the epochs so far (a pass every epoch), the same test of a rise, its end
 *     included, is also read over that quarter in plain epochs (`slowRise`): a rise of a few
 *     thousandths of a nat an epoch is lost in the noise of ten closely spaced passes, and a run that
 *     still gains what matters over its last quarter is not done, however often it is judged.
 *  2. the gap, closed for the right reason: R_dec and R_prior, each averaged (with sign, without
 *     the largest and smallest value) over the last w passes, satisfy |R_dec| + |R_prior| <=
 *     m + 2 s.e.(gap); otherwise `not-converged`, naming the residual that is off. Not asked of
 *     VAE-0, whose gap settles at R_dec. A pass whose record leaves a residual null is left out of
 *     its average; where no pass of the w records it, the gap cannot be tested (`stationary`).
 *  3. the step's noise: the ELBO of the weights averaged over the last pass interval (the record's
 *     `averagedElbo`) beats the current weights' by more than m/2 on average over the last w passes:
 *     the ELBO is stationary in distribution but the learning rate holds it down (`noise-limited`,
 *     with what a smaller step would gain). Where the recorded learning rate fell by more than a
 *     fifth over the last 2w passes, the decay still gives about 1.25 times the gain at the last
 *     pass's step (DECAYING_STEP_GAIN_FACTOR), and that is what must exceed m/2: the mean gain of
 *     the last w passes scaled by the last pass's learning rate over their mean one (the gain falls
 *     with the step, and the mean is that of the window's middle), or the last pass's own gain
 *     where that is larger. Records without that field fall back on the ELBO's scatter between
 *     passes: more than 3 times its Monte-Carlo error and more than m/2 (not without a recorded
 *     Monte-Carlo error, which alone tells the step's noise from the evaluation's). Under a steady
 *     step, where the ELBO still rises over the last half of the run (`slowRise` over that half, by
 *     m/2 and 3 s.e.), the advice is a decaying step over more epochs rather than a
 *     smaller one, which would slow that rise; the state stays.
 *  4. the posterior's correlations, where the records carry the mean-field gap G (what a diagonal
 *     encoder loses to the decoder's local posterior, core/evidence.ts): a linear decoder's optimum
 *     has none (a rotation of the latents removes it without changing log p(x)), so there a G of
 *     m/4 or more is gain still to come, at least G (in the benchmark's linear runs the decoder's
 *     likelihood lagged about as much again): `improving` while G shrinks, `not-converged` where it
 *     stopped. A nonlinear decoder's optimum may keep some, so there G counts only while it falls by
 *     m/4 or more over the last 2w passes (`improving`: the optimizer is still removing it).
 *  5. collapsed latents (KL_h < 0.01 nats, or Var_x(E_q[z_h]) <= 0.01 where recorded) at such a
 *     point: `collapsed`; otherwise `converged` (VAE-0: `stationary`).
 * Before 2w passes the verdict is `too-early` (or `improving` when the rise is already plain), unless
 * from w + 2 passes on the rise has ended or is levelling off as above: then the other tests judge.
 *
 * Hysteresis: the thresholds to leave a settled state are wider than to enter it (a rise must
 * exceed 3 s.e. and m; to leave a done state, the gap 1.5 times its allowance and the mean-field
 * gap (or its fall) m/2, while from `noise-limited`, flat but not done, a done state is entered on
 * the thresholds to enter one; under a steady step the averaging gain must be below m/4 to enter a
 * done state, from a rise as from `noise-limited`; under a step that fell by more than a fifth over the last 2w passes, which
 * takes the gain down with it, 1.25 times the gain at the last pass's step (as in step 3) below m/2
 * is enough, and a settled verdict
 * leaves only for a gain above m/2), and the reported state changes only when two of the last three
 * passes, this one among them, call for the same new state. So the verdict does not flip on one
 * noisy pass, nor wait on one for another two.
 *
 * The measurements named here (`riseLeft`, `slowRise` and the rest) are in convergenceMeasures.ts.
 * Every field beyond the original record's is optional: runs from other trainers are judged too.
 */
import { COLLAPSE_KL_NATS } from './constants';
import {
  atFirstStep,
  gainAtStep,
  halfRunStart,
  inactiveLatents,
  meanFieldTrend,
  passesInEpochs,
  riseLeft,
  slowRise,
  slowRiseStart,
  stepRatio,
  trimmedMean,
  type ConvergencePoint,
} from './convergenceMeasures';
import { ACTIVE_UNIT_THRESHOLD, fitTrend } from './evidence';
import type { ConvergenceState } from './runFormat';
import { shortReason, verdictLabel } from './verdictText';
import { latentNames } from './wording';

// The states are part of the run format (records and summaries carry them); the rule produces them.
export type { ConvergenceState };

// The rule's input; the measurements it reads off the passes live beside it.
export type { ConvergencePoint };

export interface ConvergenceOptions {
  tolerance: number;
  window: number;
  theoremApplies: boolean;
  /**
   * Why the theorem does not apply, where the run says (a non-Gaussian decoder, beta = 0, a fixed
   * variance); without it, a run outside the theorem is taken for a VAE-0, the spec's only such model.
   */
  theoremNote?: string;
  /** For the advice of `noise-limited`. */
  learningRate?: number;
  schedule?: string;
  /** The epochs the run is planned for: before the last, "train longer" is not yet the advice. */
  epochs?: number;
  /** What a falling step still gains, in units of the averaging gain: DECAYING_STEP_GAIN_FACTOR unless the benchmark sweeps it. */
  decayingStepGainFactor?: number;
  /** Passes that must call for a new state before the verdict changes: CONFIRM_PASSES unless the benchmark sweeps it. */
  confirmPasses?: number;
}

/** The numbers behind a verdict (for the record, the panel and eval). */
export interface VerdictEvidence {
  /** ELBO slope per epoch (per pass without epochs) over the last 2w passes, and its s.e. */
  slopePerEpoch: number;
  slopeStdErrPerEpoch: number;
  /** Mean of averagedElbo - elbo over the last w passes, when recorded. */
  averagingGain?: number;
  /** Latents inactive at the last pass. */
  collapsed: number[];
  /** The last pass's mean-field gap, where recorded. */
  meanFieldGap?: number;
  /** m = tol * scale: the size of a change that matters. */
  materiality: number;
}

export interface ConvergenceVerdict {
  state: ConvergenceState;
  gapClosed: boolean;
  elboStable: boolean;
  /** Sentences a person can read: why this state, with the numbers. */
  reason: string;
  evidence?: VerdictEvidence;
}

/** Passes that must call for a new state, of the last CONFIRM_PASSES + 1 (this one among them), before the verdict changes. */
export const CONFIRM_PASSES = 2;
/**
 * On a decaying step the ELBO still gains about this many times the averaging gain before the
 * schedule ends: averaging one pass interval's weights removes only part of a small step's slow
 * jitter. Measured by the convergence benchmark (docs/verification.md §7, the line under its
 * table): (final ELBO - mean ELBO of the last w passes) / their mean gain, at the passes of its
 * runs expected to end done where the step fell by a fifth over the window and the gain was
 * between m/4 and m/2, has a median of 1.24 (quartiles 1.08-1.41, 220 passes of linear,
 * collapsing and tanh-MLP pPCA runs on seeds 0-7). Measured from the last pass instead (the ELBO
 * of a line through the last w passes, at the last), against the mean gain scaled to the last
 * pass's step, the median is 1.24 too (quartiles 0.91-1.61, the same 220 passes; 1.30 over the 88
 * of held-out seeds 8-11); against the unscaled mean gain it is 1.05: that mean is the gain at the
 * window's middle, two passes of a falling step ago. gainAtStep also floors the scaled gain at the
 * last pass's own, which was added after this measurement: it makes the factor's estimate larger
 * where it binds, never smaller.
 */
export const DECAYING_STEP_GAIN_FACTOR = 1.25;

/** States that say training is done: leaving them for an open gap or a correlated posterior takes stronger evidence. */
const DONE: ReadonlySet<ConvergenceState> = new Set(['converged', 'collapsed', 'stationary']);
/** States in which the ELBO has been judged flat: leaving them for a rise or a fall takes stronger evidence. */
const SETTLED: ReadonlySet<ConvergenceState> = new Set([...DONE, 'noise-limited']);

/** The verdict after the last record of `history` (the whole history is replayed: the verdict has memory). */
export function judgeConvergence(history: readonly ConvergencePoint[], opts: ConvergenceOptions): ConvergenceVerdict {
  return judgeEveryPass(history, opts).at(-1) ?? { state: 'too-early', gapClosed: false, elboStable: false, reason: 'no diagnostics yet' };
}

/** The verdict as it was after each pass. */
export function judgeEveryPass(history: readonly ConvergencePoint[], opts: ConvergenceOptions): ConvergenceVerdict[] {
  const judge = new ConvergenceJudge(opts);
  return history.map((p) => judge.push(p));
}

/**
 * The verdict pass by pass, for a run that is still being written: each pass costs one judgement,
 * where replaying the history would cost one per pass so far. Its memory is the state, and the
 * states the last passes called for.
 */
export class ConvergenceJudge {
  private readonly history: ConvergencePoint[] = [];
  private current: ConvergenceVerdict | undefined;
  /** The states the last CONFIRM_PASSES (or opts.confirmPasses) passes called for, before this one. */
  private called: ConvergenceState[] = [];

  constructor(private readonly opts: ConvergenceOptions) {}

  /** The verdict after one more pass. */
  push(point: ConvergencePoint): ConvergenceVerdict {
    const { history, opts, current } = this;
    history.push(point);
    const n = history.length;
    const candidate = classify(history, n, opts, current?.state);
    const confirm = opts.confirmPasses ?? CONFIRM_PASSES;
    // One pass that calls for another state (or the held one) between two that agree does not reset the count.
    const agreeing = 1 + this.called.filter((s) => s === candidate.state).length;
    this.called = [...this.called, candidate.state].slice(-confirm);
    if (current && current.state !== 'too-early' && candidate.state !== current.state) {
      if (agreeing < confirm) {
        // Hold the state; re-judge it on this pass's numbers so the reason stays current.
        const held = classify(history, n, opts, current.state, current.state);
        this.current = {
          ...held,
          state: current.state,
          reason: `${held.reason} (This pass points to "${verdictLabel(candidate.state)}": ${shortReason(candidate.reason)} The verdict changes when ${confirm} of the last ${confirm + 1} passes agree.)`,
        };
        return this.current;
      }
    }
    this.current = candidate;
    return candidate;
  }
}

/**
 * The state one pass calls for, given the state the verdict is in (for the hysteresis). With
 * `force`, the sentences are written for that state (a held verdict explains itself).
 */
function classify(
  all: readonly ConvergencePoint[],
  n: number,
  opts: ConvergenceOptions,
  current?: ConvergenceState,
  force?: ConvergenceState,
): ConvergenceVerdict {
  const w = Math.max(2, Math.round(opts.window));
  // Only the last 2w of the first n passes matter (a slice, not the whole history: replayed every
  // pass), and where passes are dense, the last quarter of the run's for a slow rise.
  const history = all.slice(Math.max(0, n - 2 * w), n);
  const slowStart = slowRiseStart(all, n, w);
  const last = history[history.length - 1]!;
  const scale = Math.abs(last.hEnc) + Math.abs(last.hPrior) + Math.abs(last.hDec);
  const m = opts.tolerance * scale;
  const settled = current !== undefined && SETTLED.has(current);
  // `noise-limited` is flat but not done: from it, a done state is entered on the thresholds to enter one.
  const done = current !== undefined && DONE.has(current);

  // 1. Trend over the last 2w passes.
  const span = history;
  // Per epoch where the span's epochs advance pass by pass; per pass otherwise (a trainer that
  // records several passes under one epoch number, or none).
  const inEpochs = passesInEpochs(span);
  const byEpoch = inEpochs !== undefined;
  const epochs = inEpochs?.xs ?? span.map((_, i) => n - span.length + i);
  // Until the verdict has settled, the trend is read per unit of step (atFirstStep): a rise that
  // slowed only because a decaying step shrank has not ended. Leaving a settled state takes a plain rise.
  const elbos = span.map((p) => p.elbo);
  // No trend is surer than the passes' own Monte-Carlo error allows (fitTrend's noise floor).
  // Over the passes that record it (a writer may leave it null): a pass without it lowers no floor.
  const errors = span.map((p) => p.elboStdErr).filter(Number.isFinite);
  const mcError = errors.length > 0 ? errors.reduce((a, b) => a + b, 0) / errors.length : 0;
  const shown = fitTrend(epochs, elbos, mcError);
  const xs = settled ? epochs : atFirstStep(span, epochs);
  const fit = xs === epochs ? shown : fitTrend(xs, elbos, mcError);
  const width = epochs.length > 1 ? epochs[epochs.length - 1]! - epochs[0]! : 0;
  const moved = shown.slope * width;
  const rise = fit.slope * width;
  const riseSe = fit.slopeStdErr * width;
  const perUnit = byEpoch ? 'epoch' : 'pass';
  // The share of the window's first learning rate left at its last pass (1 without recorded rates).
  const stepLeft = stepRatio(span);
  const stepText =
    rise > 1.25 * moved && moved > 0
      ? ` The learning rate fell to ${Math.round(100 * stepLeft)} % over them, so the rise slowed with the step, not because it ended: at the step of ${span.length} passes ago it would be ${signed(rise)}.`
      : '';
  const tNeeded = settled ? 3 : 2;
  const riseNeeded = settled ? m : m / 2;
  const trendLine =
    fit.n >= 3
      ? `The ELBO moved ${signed(moved)} over ${lastPasses(span.length)} (slope ${signed(shown.slope)} ± ${fmt(shown.slopeStdErr)} per ${perUnit}; a change of ${fmt(m)} matters).`
      : `The ELBO's trend needs 3 passes (has ${n}).`;

  // 2. The gap, from the residuals averaged over the last w passes.
  const recent = history.slice(-w);
  // Another writer may leave a residual null (read as NaN): the passes that record it judge the gap,
  // and without any there is no gap to test (neither closed nor open).
  const rDecs = recent.map((p) => p.rDec).filter(Number.isFinite);
  const rPriors = recent.map((p) => p.rPrior).filter(Number.isFinite);
  const unrecorded = [rDecs.length === 0 ? 'R_dec' : '', rPriors.length === 0 ? 'R_prior' : ''].filter((s) => s !== '');
  const gapKnown = unrecorded.length === 0;
  const rDec = gapKnown ? trimmedMean(rDecs) : NaN;
  const rPrior = gapKnown ? trimmedMean(rPriors) : NaN;
  const gapAllowed = (m + 2 * (last.gapStdErr || 0)) * (done ? 1.5 : 1);
  const gapClosed = gapKnown && Math.abs(rDec) + Math.abs(rPrior) <= gapAllowed;
  const partly = [rDecs.length < recent.length ? `R_dec in ${rDecs.length}` : '', rPriors.length < recent.length ? `R_prior in ${rPriors.length}` : ''].filter(
    (s) => s !== '',
  );
  const over = `over ${lastPasses(recent.length)}${partly.length > 0 ? ` (recorded: ${partly.join(', ')} of them)` : ''}`;
  // A model outside the theorem (a Bernoulli decoder) has no residuals to speak of.
  const gapText = !gapKnown
    ? opts.theoremApplies
      ? `The gap cannot be judged: ${unrecorded.join(' and ')} ${unrecorded.length > 1 ? 'are' : 'is'} not recorded (null) in the last ${recent.length} passes.`
      : ''
    : gapClosed
      ? `Both residuals are small: |R_dec| + |R_prior| ${over} is ${fmt(Math.abs(rDec) + Math.abs(rPrior))} (allowed ${fmt(gapAllowed)}).`
      : `The gap is open: R_dec ${signed(rDec)}, R_prior ${signed(rPrior)} ${over} (allowed ${fmt(gapAllowed)} for both); ${Math.abs(rDec) >= Math.abs(rPrior) ? 'the decoder variance is off its optimum' : "the latents' second moments are off the prior's"}.`;

  // 3. The step's noise.
  const averaged = recent.filter((p) => typeof p.averagedElbo === 'number' && Number.isFinite(p.averagedElbo));
  const gains = averaged.map((p) => (p.averagedElbo as number) - p.elbo);
  const averagingGain = averaged.length === recent.length && gains.length > 0 ? gains.reduce((a, b) => a + b, 0) / gains.length : undefined;
  // Under a steady step the gain hovers, so a done state is entered only below m/4 (from a rise as
  // from `noise-limited`) and left only above m/2: the band between belongs to the state the run is
  // in, and a gain that hovers at m/2 does not flip a done verdict. A step that fell by more than a
  // fifth over the window takes the gain down with it: there, falling below m/2 is enough, and what
  // the step's noise still costs is the gain at the last pass's step times
  // DECAYING_STEP_GAIN_FACTOR (a settled verdict leaves only on the gain itself).
  const stepFalling = stepLeft < 0.8;
  const epochsLeft = remainingEpochs(opts, last);
  const gainNeeded = !stepFalling && !done ? m / 4 : m / 2;
  const gainNow =
    averagingGain !== undefined && stepFalling && !(settled && current !== 'noise-limited') ? gainAtStep(recent, gains, averagingGain) : undefined;
  const gainFactor = opts.decayingStepGainFactor ?? DECAYING_STEP_GAIN_FACTOR;
  const stepCost = gainNow !== undefined ? gainFactor * gainNow : averagingGain;
  const noiseLimited =
    stepCost !== undefined ? stepCost > gainNeeded : shown.n >= 3 && mcError > 0 && shown.residualSd > 3 * mcError && shown.residualSd > gainNeeded;
  const noiseText =
    averagingGain === undefined || stepCost === undefined
      ? mcError > 0
        ? `The ELBO scatters ${fmt(shown.residualSd)} between passes, ${fmt(shown.residualSd / mcError)} times its Monte-Carlo error.`
        : `The ELBO scatters ${fmt(shown.residualSd)} between passes; the records give no Monte-Carlo error (elboStdErr) to tell the step's noise from the evaluation's.`
      : `Averaging the weights of the last pass interval ${averagingGain >= 0 ? 'gains' : 'loses'} ${fmt(Math.abs(averagingGain))} nats${noiseLimited ? `: a smaller step would gain about ${gainNow === undefined ? 'that much' : fmt(stepCost)}` : ''}.` +
        (stepFalling && stepCost > m / 4 && !noiseLimited
          ? ` The learning rate fell to ${Math.round(100 * stepLeft)} % of its value ${span.length} passes ago, and that gain falls with it.`
          : '');

  // 4. Collapsed latents at the last pass.
  const collapsed = inactiveLatents(last);
  const H = last.klPerLatent?.length ?? last.latentMeanVariance?.length ?? 0;
  const collapseText =
    collapsed.length === 0
      ? ''
      : collapsed.length === H
        ? ` All ${H} latents are inactive (KL_h < ${COLLAPSE_KL_NATS} nats or Var_x(E_q[z_h]) <= ${ACTIVE_UNIT_THRESHOLD}): the posterior has collapsed and the decoder ignores z.`
        : ` ${collapsed.length} of ${H} latents are inactive (${latentNames(collapsed)}): the model uses ${H - collapsed.length}; fewer latents would fit the same, or a KL warm-up may revive them.`;

  // 4. The posterior's correlations.
  const gapTrend = meanFieldTrend(span, xs);
  const meanFieldNeeded = done ? m / 2 : m / 4;
  const meanField = gapTrend && (gapTrend.linear ? gapTrend.gap >= meanFieldNeeded : (gapTrend.fall ?? 0) >= meanFieldNeeded) ? gapTrend : undefined;
  const meanFieldText = meanField
    ? meanField.linear
      ? `The latents' posterior is correlated: a diagonal encoder loses ${fmt(meanField.gap)} nats a point to it (the mean-field gap), and a linear decoder's optimum loses none, so the ELBO can still gain at least that much${meanField.fall !== undefined ? `; the gap shrank ${fmt(meanField.fall)} over ${lastPasses(span.length)}` : ''}.`
      : `The mean-field gap is still shrinking: ${fmt(meanField.fall!)} over ${lastPasses(span.length)}, to ${fmt(meanField.gap)} nats a point: the decoder is still turning the latents towards independent axes, and the ELBO gains what the posterior's correlations stop costing.`
    : '';
  const lastGap = gapTrend?.gap;
  const factorisedText = lastGap !== undefined && !meanField ? ` The posterior is close to factorised: the mean-field gap is ${fmt(lastGap)} nats.` : '';

  const evidence: VerdictEvidence = {
    slopePerEpoch: shown.slope,
    slopeStdErrPerEpoch: shown.slopeStdErr,
    averagingGain,
    collapsed,
    materiality: m,
    meanFieldGap: lastGap,
  };
  const validationText = validationTrend(span, epochs);
  const make = (state: ConvergenceState, elboStable: boolean, ...parts: string[]): ConvergenceVerdict => ({
    state,
    gapClosed,
    elboStable,
    // Parts may open with the space that joins them to the text before (gapText + collapseText).
    reason:
      parts
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .join(' ') + validationText,
    evidence,
  });

  // The slope now: the last w + 1 passes. When it is flat beyond doubt (its upper bound, over the
  // long window's width, is below what matters), a rise that ended earlier in the window does not count.
  const now = history.slice(-(w + 1));
  const nowFit = fitTrend(
    xs.slice(-now.length),
    now.map((p) => p.elbo),
    mcError,
  );
  // Over the full 2w-pass reach even before 2w passes exist: a steady rise under m/2 over six passes
  // may not be under it over ten, and once settled, leaving would take a rise of m.
  const reach = span.length >= 2 * w || span.length < 2 ? width : (width * (2 * w - 1)) / (span.length - 1);
  const flatNow = nowFit.n >= w + 1 && (nowFit.slope + 2 * nowFit.slopeStdErr) * reach < riseNeeded;
  // What is left of a rise that is levelling off: under what matters (m once settled), the rise does
  // not count. Still asked once settled: a call can come from w + 2 passes on, and the rise's steep
  // start stays in the 2w-pass window for a while after.
  const risesBy = fit.n >= 3 && fit.slope > tNeeded * fit.slopeStdErr && rise > riseNeeded;
  // The w + 1 passes before the window (the last of them its first), where the step is steady and
  // the epochs advance pass by pass: they can tell a pause in a rise from its end (riseLeft).
  const beforeFrom = n - span.length - w;
  const before = byEpoch && xs === epochs && beforeFrom >= 0 ? passesInEpochs(all.slice(beforeFrom, beforeFrom + w + 1)) : undefined;
  const left = riseLeft(xs, elbos, nowFit, w, mcError, before);
  // A linear decoder's rise that goes with its mean-field gap shrinking is the posterior
  // decorrelating, which gives back about twice what the gap loses: where the ELBO rose by at most
  // twice that (4 x the gap's fall), about twice the gap is what is left of the rise.
  const decorrelating = !settled && !meanField && gapTrend?.linear === true && gapTrend.fall !== undefined && rise > 0 && rise <= 4 * gapTrend.fall;
  const levelling = (left !== undefined && left.gain < riseNeeded) || (decorrelating && 2 * gapTrend.gap < riseNeeded);
  // A flat last stretch ends a rise only where the window shows the slowing too (riseLeft): six
  // passes of a steady rise come out flat by chance now and then, and a settled verdict is sticky.
  const ended = levelling || (flatNow && (settled || !risesBy || left !== undefined));
  // Looked for only where the last 2w passes do not already show a rise.
  const slow = !(risesBy && !ended) && slowStart < n - span.length ? slowRise(all, slowStart, n, mcError, riseNeeded, tNeeded) : undefined;
  const rising = (risesBy && !ended) || slow !== undefined;
  // Too noisy to rule out a rise that matters (checked after the step's noise, which explains scatter).
  const unclear = fit.n >= 3 && rise + 2 * riseSe > 4 * riseNeeded && !ended;
  const levellingText =
    risesBy && !flatNow && levelling
      ? left !== undefined && left.gain < riseNeeded
        ? ` Its rise is levelling off: the slope of the last ${now.length} passes is at most ${pctOf(left.ratio)} of the first ${now.length}'s, and slowing at that pace the ELBO would gain about ${fmt(left.gain)} more.`
        : ` Its rise is the latents' posterior decorrelating: the mean-field gap fell ${fmt(gapTrend!.fall!)} over ${lastPasses(span.length)} to ${fmt(gapTrend!.gap)}, and with a linear decoder about twice that is left to gain.`
      : '';
  const falling = fit.n >= 3 && fit.slope < -tNeeded * fit.slopeStdErr && -rise > riseNeeded;
  const trendText = trendLine + levellingText;
  const want = force ?? decide();
  return explain(want);

  function decide(): ConvergenceState {
    if (n < 2 * w && !(ended && n >= w + 2)) return rising ? 'improving' : 'too-early';
    if (rising) return 'improving';
    if (falling) return 'not-converged';
    if (opts.theoremApplies && gapKnown && !gapClosed) return 'not-converged';
    if (noiseLimited) return 'noise-limited';
    if (meanField) return meanField.fall !== undefined ? 'improving' : 'not-converged';
    if (unclear) return 'improving';
    if (!opts.theoremApplies || !gapKnown) return 'stationary';
    return collapsed.length > 0 ? 'collapsed' : 'converged';
  }

  /** The held `improving` head: the last w + 1 passes' slope in plain epochs (fitted here only, as few verdicts say it). */
  function noLongerRising(): string {
    const plain =
      xs === epochs
        ? nowFit
        : fitTrend(
            epochs.slice(-now.length),
            now.map((p) => p.elbo),
            mcError,
          );
    return `The ELBO no longer rises by what matters: its slope over ${lastPasses(now.length)} is ${signed(plain.slope)} ± ${fmt(plain.slopeStdErr)} per ${perUnit}.`;
  }

  // Each reason opens with one short sentence (the CodeLens shows it alone), then the numbers.
  function explain(state: ConvergenceState): ConvergenceVerdict {
    const note = opts.theoremNote;
    const untested = !opts.theoremApplies
      ? note !== undefined
        ? ` The entropy theorem does not apply (${note}): stationary is all this run can show.`
        : ' The decoder variance is fixed (VAE-0), so the gap need not close: stationary is all this model can show.'
      : gapKnown
        ? ''
        : ' Without both residuals the gap cannot be tested: stationary is all these records can show.';
    const gainText = averagingGain !== undefined ? noiseText : '';
    // A settled state held while this pass points elsewhere says what held until now, not what this pass shows.
    const stillNow = !rising && !falling && (gapClosed || !opts.theoremApplies || !gapKnown);
    const flatText = rising || falling ? 'the ELBO was flat until this pass' : levellingText ? 'the ELBO levels off' : 'the ELBO is flat';
    switch (state) {
      case 'too-early':
        return make(state, false, `Needs ${2 * w} passes to judge, has ${n}.`, trendText, gapText);
      case 'improving': {
        // Held here while a flat stretch is being confirmed, the verdict says that, not what it was entered for.
        const head = rising
          ? slow
            ? `The ELBO still rises slowly: ${signed(slow.rise)} over ${lastPasses(slow.passes)}, the last quarter of the run (slope ${signed(slow.fit.slope)} ± ${fmt(slow.fit.slopeStdErr)} per epoch); too slow for the last ${span.length} passes alone to show.`
            : `The ELBO still rises: ${signed(moved)} over ${lastPasses(span.length)} (slope ${signed(shown.slope)} ± ${fmt(shown.slopeStdErr)} per ${perUnit}).${stepText}`
          : meanField
            ? meanFieldText
            : unclear
              ? `The noise cannot rule out a rise of ${fmt(rise + 2 * riseSe)} over ${span.length} passes; more Monte-Carlo samples (diagnostics.mcSamples) would tell.`
              : noLongerRising();
        return make(state, false, head, rising ? '' : trendText, gapText);
      }
      case 'not-converged':
        if (falling)
          return make(
            state,
            false,
            `The ELBO is falling: ${signed(moved)} over ${lastPasses(span.length)}.`,
            trendText,
            'A smaller learning rate may help (or, with a validation split, look for over-fitting).',
            gapText,
          );
        if (meanField && (gapClosed || !opts.theoremApplies || !gapKnown))
          return make(
            state,
            !rising,
            meanFieldText,
            'More epochs at a step that still moves the weights would turn the latents to independent axes.',
            trendText,
            gapText,
          );
        // Held here, a pass may find the gap closed or the ELBO rising again: the head says what this pass shows.
        if (gapClosed || !gapKnown)
          return make(state, !rising, `On this pass the ELBO is not falling and the gap ${gapClosed ? 'is closed' : 'cannot be judged'}.`, trendText, gapText);
        return make(
          state,
          !rising,
          `The gap is open: ${Math.abs(rDec) >= Math.abs(rPrior) ? 'the decoder variance is off its optimum' : "the latents' second moments are off the prior's"}, ${rising ? 'and the ELBO still rises' : `though ${flatText}`}.`,
          trendText,
          gapText,
          Math.abs(rDec) >= Math.abs(rPrior) ? laggingVariance(last, opts, epochsLeft) : '',
        );
      case 'noise-limited': {
        // Under a steady step, a rise over the run's last half that the verdict's spans are too short
        // to show: training longer gains too, and a tenth of the step would slow it. Beyond 3 s.e.:
        // advice against the smaller step must not rest on a rise the noise could make.
        const halfStart = stepFalling ? n : halfRunStart(all, n, w);
        const longRise = halfStart < slowStart ? slowRise(all, halfStart, n, mcError, m / 2, 3) : undefined;
        const stepAdvice = longRise
          ? `Over the last half of the run, though, it still rose ${signed(longRise.rise)} (${lastPasses(longRise.passes)}, slope ${signed(longRise.fit.slope)} ± ${fmt(longRise.fit.slopeStdErr)} per epoch), so training longer gains too, and a smaller constant step would slow that rise. ${longerAdvice(opts)}`
          : advice(opts, epochsLeft, stepFalling);
        return make(
          state,
          !rising && !falling,
          stepCost !== undefined
            ? `A smaller step would gain about ${fmt(stepCost)} nats: ${
                gainNow === undefined
                  ? `over ${lastPasses(recent.length)} the averaged recent weights beat the current ones.`
                  : `the averaged recent weights beat the current ones (by ${fmt(averagingGain!)} over ${lastPasses(recent.length)}, ${fmt(gainNow)} at the current step), and the rest of the falling step's schedule gives about ${gainFactor} times the gain at the current step.`
              }`
            : `The ELBO scatters ${fmt(shown.residualSd / mcError)} times its Monte-Carlo error between passes: the weights jitter with the step.`,
          `${rising || falling ? 'Until this pass the ELBO was' : 'The ELBO is'} stationary in distribution${longRise ? ` over ${lastPasses(span.length)}` : ''} but the learning rate's noise holds it down. ${stepAdvice}`,
          trendText,
          gapText + collapseText,
        );
      }
      case 'stationary':
        return make(
          state,
          stillNow,
          `Stationary: ${flatText}; ${opts.theoremApplies ? 'without its residuals the gap cannot be judged' : note !== undefined ? 'the gap need not close for this model or objective' : 'with a fixed decoder variance (VAE-0) the gap need not close'}.`,
          trendText,
          gapText + untested + collapseText + factorisedText,
          gainText,
        );
      case 'collapsed':
        return make(
          state,
          stillNow,
          `${stillNow ? 'At' : 'Until this pass, at'} a stationary point with ${collapsed.length} of ${H} latents inactive.`,
          trendText,
          gapText + collapseText + factorisedText,
          gainText,
        );
      case 'converged':
        return make(
          state,
          stillNow,
          `${gapClosed ? 'The gap is closed' : 'The gap was closed until this pass'} and ${flatText}.`,
          trendText,
          gapText + factorisedText,
          gainText,
        );
    }
  }
}

/** Epochs the run still has to go where it records its epoch and knows its length. */
function remainingEpochs(opts: ConvergenceOptions, last: ConvergencePoint): number | undefined {
  const left = (opts.epochs ?? NaN) - (last.epoch ?? NaN);
  return left > 0 && Number.isFinite(left) ? left : undefined;
}

const toGo = (left: number, opts: ConvergenceOptions) => `${left} of ${opts.epochs} epochs are still to go`;

/**
 * What to do about the step's noise. Mid-run on a decaying step the rest of the schedule is the
 * smaller step, so the advice to change it waits for the run's end.
 */
function advice(opts: ConvergenceOptions, left: number | undefined, stepFalling: boolean): string {
  const lr = opts.learningRate;
  if (left !== undefined && (opts.schedule === 'cosine' || stepFalling))
    return `The ${opts.schedule === 'cosine' ? 'cosine schedule' : 'falling learning rate'} is still lowering the step and ${toGo(left, opts)}: that is the smaller step, so let the run finish.`;
  if (opts.schedule === 'cosine')
    return `The cosine schedule has not brought the step down far enough yet: train for more epochs${lr ? ` or start lower than learningRate ${lr}` : ''}.`;
  // A run without a model spec (a PyTorch script's) has no "schedule" or "learningRate" to set.
  if (opts.schedule === undefined)
    return stepFalling
      ? 'The learning rate is falling: where its schedule goes on lowering it, that is the smaller step; otherwise lower it further.'
      : "Lower the optimizer's learning rate (a tenth of it), or decay it over the run (a cosine schedule).";
  return `Use "schedule": "cosine" (the step decays to 1% of its start)${lr ? `, or a learningRate of ${Number((lr / 10).toPrecision(3))} instead of ${lr}` : ', or a smaller learningRate'}.`;
}

/** What to do about a run both held down by its steady step's noise and still rising slowly. */
function longerAdvice(opts: ConvergenceOptions): string {
  if (opts.schedule === undefined) return "Train longer, decaying the optimizer's learning rate over the run.";
  return `Use "schedule": "cosine" (the step decays to 1% of its start)${opts.epochs ? ` over more than ${opts.epochs} epochs` : ' over more epochs'}.`;
}

/**
 * What an open R_dec says about the variance, where the record carries it. R_dec is first order in
 * s^2 / s*^2 - 1 and the ELBO's loss to it second order, so the residual measures how far the decoder
 * is from a stationary point, not what setting the variance would gain: a variance above s*^2 trails
 * an error that fell faster than it could follow.
 */
function laggingVariance(p: ConvergencePoint, opts: ConvergenceOptions, left: number | undefined): string {
  const { sigma2: s2, sigma2Opt: opt } = p;
  if (typeof s2 !== 'number' || typeof opt !== 'number' || !(s2 > 0) || !(opt > 0) || !Number.isFinite(s2 / opt)) return '';
  const off = s2 / opt - 1;
  // Per-dimension variances can be off while their means agree: then the mean says nothing.
  if (Math.abs(off) < 0.01) return '';
  const cost = typeof p.elboAtOptVariance === 'number' && Number.isFinite(p.elboAtOptVariance) ? p.elboAtOptVariance - p.elbo : undefined;
  const costText =
    cost !== undefined && cost >= 0
      ? ` Setting it to s*² alone would gain ${fmt(cost)} nats: the residual says the decoder is not at a stationary point, not that this is what is left.`
      : '';
  return off > 0
    ? `The decoder variance is ${pctOf(off)} above the s*² its error asks for: the error fell faster than the variance could follow, so the decoder was still improving.${costText} ${left !== undefined ? `${toGo(left, opts)}.` : `Train longer${opts.schedule === 'cosine' ? ' (more epochs, so the cosine schedule ends later)' : ''}.`}`
    : `The decoder variance is ${pctOf(-off)} below the s*² its error asks for: the error grew past it.${costText}`;
}

/**
 * A note when a validation split exists and its ELBO moves against the training ELBO, read at the
 * trend's positions (`xs`: epochs where they advance pass by pass, else pass positions).
 */
function validationTrend(span: readonly ConvergencePoint[], xs: readonly number[]): string {
  const v = span.filter((p) => typeof p.validationElbo === 'number' && Number.isFinite(p.validationElbo));
  if (v.length < 3 || v.length !== span.length) return '';
  const fv = fitTrend(
    xs,
    v.map((p) => p.validationElbo as number),
  );
  const ft = fitTrend(
    xs,
    v.map((p) => p.elbo),
  );
  if (fv.slope < -2 * fv.slopeStdErr && ft.slope > -fv.slopeStdErr)
    return ' The validation ELBO is falling while the training ELBO is not: the model is over-fitting.';
  return '';
}

const fmt = (x: number) => (!Number.isFinite(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3));
const pctOf = (x: number) => `${x < 0.01 ? x.toPrecision(1) : Math.round(100 * x)} %`;
const signed = (x: number) => (x >= 0 ? '+' : '') + fmt(x);
/** "the last pass", "the last 5 passes". */
const lastPasses = (n: number) => (n === 1 ? 'the last pass' : `the last ${n} passes`);
