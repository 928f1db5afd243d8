/**
 * A run's convergence settings (tolerance, window, whether the theorem applies) and the verdict for runs
 * whose writer left it to the reader. No file or process access.
 */
import { SPEC_DEFAULTS } from '../defaults';
import {
  ConvergenceJudge,
  judgeConvergence,
  type ConvergenceOptions,
  type ConvergencePoint,
  type ConvergenceState,
  type ConvergenceVerdict,
} from '../convergence';
import { MODEL_TYPE_INFO, MODEL_TYPES, type ModelType } from '../modelTypes';
import type { MetricsRecord, RunMeta } from '../runFormat';
import { parseSpecDocument, type VaeSpec } from '../spec';
import { integerFieldBounds, numberFieldBounds } from '../specSchema';
import { inSlices, runToEnd } from './slices';

/** The rule's settings; a script's run has no spec to name its step, schedule or (maybe) epochs. */
export type SpecSettings = ConvergenceOptions;

/** The rule's settings for a model spec: the one place a trainer, eval and the run reader take them from. */
export function settingsOfSpec(spec: VaeSpec): SpecSettings {
  return {
    tolerance: spec.diagnostics.tolerance,
    window: spec.diagnostics.window,
    theoremApplies: MODEL_TYPE_INFO[spec.model.type].theoremHolds,
    learningRate: spec.training.learningRate,
    schedule: spec.training.schedule,
    epochs: spec.training.epochs,
  };
}

/**
 * Convergence settings for a run: run.json's own (a script's run has no model spec), else the spec
 * snapshot's, else the defaults. Whether the theorem applies is the latest record's say when it has
 * one (an annealed beta reaches 1 mid-run), else run.json's, else the model type's.
 */
export function runSettingsOf(meta: RunMeta | undefined, specText: string | undefined, last?: MetricsRecord): SpecSettings {
  const fromSpec = specSettingsOf(specText, meta?.modelType);
  const theoremApplies = last?.theoremApplies ?? meta?.theoremApplies ?? fromSpec.theoremApplies;
  // The run's own word on why (the Python companion's: a Bernoulli decoder, beta != 1), so the verdict does not say VAE-0.
  const theoremNote = theoremApplies ? undefined : (last?.theoremNote ?? meta?.theoremNote);
  return {
    tolerance: usable('tolerance', meta?.tolerance) ?? fromSpec.tolerance,
    window: usable('window', meta?.window) ?? fromSpec.window,
    theoremApplies,
    ...(theoremNote === undefined ? {} : { theoremNote }),
    ...(fromSpec.learningRate === undefined ? {} : { learningRate: fromSpec.learningRate }),
    ...(fromSpec.schedule === undefined ? {} : { schedule: fromSpec.schedule }),
    ...optionalEpochs(positive(meta?.epochs) ?? fromSpec.epochs),
  };
}

const BOUNDS = {
  tolerance: { ...numberFieldBounds('diagnostics', 'tolerance'), whole: false },
  window: { ...integerFieldBounds('diagnostics', 'window'), exclusive: false, whole: true },
};

/**
 * Why run.json's tolerance or window is not a setting the rule can take: beyond what a spec's
 * diagnostics.tolerance or .window may be (a window of 1e9 would ask for 2e9 passes), or not a
 * number; undefined when it can.
 */
export function runJsonSettingProblem(field: keyof typeof BOUNDS, v: unknown): string | undefined {
  const b = BOUNDS[field];
  const inRange = typeof v === 'number' && Number.isFinite(v) && (b.exclusive ? v > b.minimum : v >= b.minimum) && v <= b.maximum;
  if (inRange && (!b.whole || Number.isInteger(v))) return undefined;
  return `${field} ${JSON.stringify(v)} is not ${b.whole ? 'a whole number' : 'a number'} from ${b.minimum} to ${b.maximum}, the range of a spec's diagnostics.${field}`;
}

/** run.json's setting when the rule can take it. */
const usable = (field: keyof typeof BOUNDS, v: unknown): number | undefined =>
  typeof v === 'number' && runJsonSettingProblem(field, v) === undefined ? v : undefined;

const optionalEpochs = (epochs: number | undefined) => (epochs === undefined ? {} : { epochs });

const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);

/**
 * The one convergence rule (core/convergence.ts) on a run's records: for runs whose writer left the
 * verdict to the reader, and for eval. Passes without a finite ELBO are not judged (missingFields).
 */
export function judgeRecords(records: readonly MetricsRecord[], opts: ConvergenceOptions): RunVerdict {
  return runToEnd(recordsJudgement(records, opts));
}

/**
 * judgeRecords for the editor's thread (a script's run, judged by the runs view and the panel): the rule
 * costs about a millisecond and a half a pass, seconds for a run of thousands, so the thread is given
 * back every few milliseconds.
 */
export function judgeInSlices(records: readonly MetricsRecord[], opts: ConvergenceOptions): Promise<RunVerdict> {
  return inSlices(recordsJudgement(records, opts));
}

/** judgeRecords pass by pass: it pauses after each pass judged. */
function recordsJudgement(records: readonly MetricsRecord[], opts: ConvergenceOptions): Generator<void, RunVerdict, void> {
  return new PassJudge(opts).judge(records);
}

/** A verdict on a run's recorded passes: the rule's state and why. */
export interface RunVerdict {
  state: ConvergenceState;
  reason: string;
}

/**
 * The rule on a run's passes in the order they were recorded, under one set of settings: each pass
 * costs one judgement, so passes appended later are judged without judging the earlier ones again.
 */
export class PassJudge {
  private readonly rule: ConvergenceJudge;
  private verdict: ConvergenceVerdict | undefined;
  private readonly unreadable: UnreadablePasses;
  private last: MetricsRecord | undefined;
  /** How many passes were judged, readable or not. */
  passes = 0;

  constructor(private readonly settings: SpecSettings) {
    this.rule = new ConvergenceJudge(settings);
    this.unreadable = new UnreadablePasses(settings.theoremApplies);
  }

  /** The verdict after `more`, the passes recorded after those judged so far; it pauses after each pass. */
  *judge(more: readonly MetricsRecord[]): Generator<void, RunVerdict, void> {
    for (const r of more) {
      if (this.unreadable.admit(r)) this.verdict = this.rule.push(convergencePointOf(r));
      this.passes++;
      this.last = r;
      yield;
    }
    return this.unreadable.verdictAfter(this.last, this.verdict ?? judgeConvergence([], this.settings));
  }
}

/**
 * judgeRecords for a run that is still being written: each new record costs one judgement. The
 * history is replayed only when the settings change (run.json rewritten, or a record's say on the
 * theorem) or the new record replaced earlier ones (a resumed run), so the verdicts are those of
 * judgeRecords on the same history.
 */
export class RunJudge {
  private judge: PassJudge | undefined;
  private settingsKey = '';

  /** The verdict after the last of `history`, which is the history of the last call plus one record unless `replaced`. */
  next(history: readonly MetricsRecord[], settings: SpecSettings, replaced: boolean): RunVerdict {
    const key = JSON.stringify(settings);
    if (this.judge === undefined || key !== this.settingsKey || replaced || history.length !== this.judge.passes + 1) {
      this.judge = new PassJudge(settings);
      this.settingsKey = key;
    }
    return runToEnd(this.judge.judge(history.slice(this.judge.passes)));
  }
}

/**
 * What a pass lacks for the rule to read it: its ELBO, and the entropies that set the scale of what matters
 * (|H_enc| + |H_prior| + |H_dec|), must be numbers. A null there (written for a NaN or an infinity) would count
 * as 0 nats, a jump that is no measurement: a run going non-finite would read as rising, or as converged on the
 * passes before. H_dec is left out of the scale only for a decoder that has none (convergencePointOf); a Gaussian
 * decoder's null H_dec is an overflow, and read as 0 it would shrink the scale and every threshold with it.
 */
function missingFields(r: PassFields, theoremApplies: boolean): VerdictField[] {
  const fields: VerdictField[] = hasDecoderEntropy(r, theoremApplies) ? ['elbo', 'hEnc', 'hPrior', 'hDec'] : ['elbo', 'hEnc', 'hPrior'];
  return fields.filter((k) => !isFiniteNumber(r[k]));
}

type VerdictField = 'elbo' | 'hEnc' | 'hPrior' | 'hDec';

/** What the rule reads of a pass to tell whether it can: a record, or the trainer's pass before it is one. */
export type PassFields = Pick<MetricsRecord, 'epoch' | 'elbo' | 'hEnc' | 'hPrior' | 'hDec' | 'sigma2Opt' | 'theoremApplies'>;

/**
 * Whether the pass's decoder is Gaussian, and so has an entropy: the theorem applies to it (the record's say,
 * else the run's), or the record has a decoder variance optimum, which a non-Gaussian decoder writes as null.
 */
function hasDecoderEntropy(r: PassFields, theoremApplies: boolean): boolean {
  return (r.theoremApplies ?? theoremApplies) || isFiniteNumber(r.sigma2Opt);
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The fields a readable pass has as numbers (missingFields). */
type Readable = { elbo: number; hEnc: number; hPrior: number };

/** A record UnreadablePasses admitted. */
export type ReadableRecord = MetricsRecord & Readable;

/**
 * The passes the rule cannot read (missingFields), counted as they come, and what the verdict says of them: the
 * reader's (PassJudge) and the trainer's, so that a run's written verdicts are those its records get when judged.
 */
export class UnreadablePasses {
  private leftOut = 0;
  /** Passes left out for their decoder entropy alone. */
  private leftOutForScale = 0;

  constructor(private readonly theoremApplies: boolean) {}

  /** Whether the rule can read the pass; if not, it is counted as left out. */
  admit<P extends PassFields>(r: P): r is P & Readable {
    const missing = missingFields(r, this.theoremApplies);
    if (missing.length === 0) return true;
    if (missing.length === 1 && missing[0] === 'hDec') this.leftOutForScale++;
    else this.leftOut++;
    return false;
  }

  /** The rule's verdict on the readable passes, unless the last pass is not readable: then the run is not at a stationary point. */
  verdictAfter(last: PassFields | undefined, verdict: ConvergenceVerdict | undefined): RunVerdict {
    const fields = last === undefined ? [] : missingFields(last, this.theoremApplies);
    if (last !== undefined && fields.length > 0) {
      const scale = fields.includes('hDec') ? " (the Gaussian decoder's entropy, part of the scale every threshold is measured in)" : '';
      return {
        state: 'not-converged',
        reason: `The last pass (epoch ${last.epoch}) has no finite ${fields.join(', ')}${scale} in metrics.jsonl: the model diverged or its evaluation overflowed, so it is not at a stationary point.`,
      };
    }
    if (verdict === undefined) throw new Error('a readable last pass without the verdict on it');
    const { leftOut, leftOutForScale } = this;
    const passes = (k: number) => `${k} earlier pass${k > 1 ? 'es' : ''}`;
    const verb = (k: number) => (k > 1 ? 'are' : 'is');
    const note =
      (leftOut > 0 ? ` ${passes(leftOut)} without a finite ELBO or encoder and prior entropies ${verb(leftOut)} left out of the verdict.` : '') +
      (leftOutForScale > 0
        ? ` ${passes(leftOutForScale)} without a finite decoder entropy (hDec, part of the scale |H_enc| + |H_prior| + |H_dec| of every threshold) ${verb(leftOutForScale)} left out of the verdict.`
        : '');
    return { state: verdict.state, reason: verdict.reason + note };
  }
}

/**
 * A record as the rule reads it. A decoder outside the theorem has no decoder entropy or gap (null):
 * the scale is then |H_enc| + |H_prior| and the gap terms are unknown (NaN), so only the ELBO's trend
 * can be judged. (A Gaussian decoder's null H_dec never gets here: missingFields.)
 */
export function convergencePointOf(r: ReadableRecord): ConvergencePoint {
  const num = (v: number | null | undefined, missing: number) => (typeof v === 'number' ? v : missing);
  return {
    ...r,
    // Unknown, not zero: the rule leaves it out of the Monte-Carlo error it compares the scatter with.
    elboStdErr: num(r.elboStdErr, NaN),
    gapStdErr: num(r.gapStdErr, 0),
    hDec: num(r.hDec, 0),
    gap: num(r.gap, NaN),
    rDec: num(r.rDec, NaN),
    rPrior: num(r.rPrior, NaN),
  };
}

/** Why the theorem does not hold for this run, when it does not (for the panel and the status bar). */
export function theoremNoteOf(meta: RunMeta | undefined, last: MetricsRecord | undefined): string | undefined {
  const applies = last?.theoremApplies ?? meta?.theoremApplies;
  if (applies !== false) return undefined;
  return last?.theoremNote ?? meta?.theoremNote ?? 'the entropy theorem does not apply to this model or objective';
}

/** A type this version does not know (a newer run): judged as if the theorem held. */
function theoremHoldsFor(modelType: string | undefined): boolean {
  return (MODEL_TYPES as readonly string[]).includes(modelType ?? '') ? MODEL_TYPE_INFO[modelType as ModelType].theoremHolds : true;
}

/** Convergence settings from the run's spec snapshot, or the defaults. */
export function specSettingsOf(specText: string | undefined, modelType: string | undefined): SpecSettings {
  const fallback = {
    tolerance: SPEC_DEFAULTS.diagnostics.tolerance,
    window: SPEC_DEFAULTS.diagnostics.window,
    theoremApplies: theoremHoldsFor(modelType),
  };
  if (specText === undefined) return fallback;
  try {
    const doc = parseSpecDocument(specText);
    if (doc.kind === 'model') return settingsOfSpec(doc.parsed.spec);
    // A script's model is not in its spec: whether the theorem applies is the run's own say (runSettingsOf).
    const { diagnostics } = doc.parsed.spec;
    return { tolerance: diagnostics.tolerance, window: diagnostics.window, theoremApplies: fallback.theoremApplies };
  } catch {
    return fallback;
  }
}
