/**
 * The verdict judged again from a run's recorded passes, kept per run folder for one state of its
 * metrics.jsonl and one set of rule settings. The editor's surfaces (status bar, CodeLens, runs view,
 * panel) share it, so they show one verdict for a run state and judge that state once. Node only.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { MetricsRecord } from '../runFormat';
import { RUN_FILES } from '../runFormat';
import { metricsStamp, parseMetricsYielding, readText, READ_LIMITS } from './files';
import { storedVerdictNotes, type MetricsRead, type RunOverview } from './read';
import { PassJudge, type RunVerdict, type SpecSettings } from './settings';
import { inSlices } from './slices';

/** The rule's verdict on a run state, with how many passes it read and the last (whose stored verdict it is compared with). */
export interface JudgedVerdict extends RunVerdict {
  passes: number;
  last: MetricsRecord;
}

interface Judged {
  stamp: string;
  settingsKey: string;
  /** The text judged, by its length and digest: a file that starts with it grew by appended lines. */
  textLength: number;
  textDigest: string;
  judge: PassJudge;
  verdict: JudgedVerdict;
}

const digest = (text: string) => createHash('sha1').update(text).digest('base64');

export class JudgedVerdicts {
  private readonly runs = new Map<string, Judged>();
  /** Each run's judgements one after another: two at once would push the same passes into one judge. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Passes judged since this was made, for tests and measurements. */
  passesJudged = 0;

  /** The verdict on the run's metrics.jsonl as it is now, when judged already (costs a stat, no read). */
  async current(runDir: string, settings: SpecSettings): Promise<JudgedVerdict | undefined> {
    const known = this.runs.get(runDir);
    if (known === undefined || known.settingsKey !== JSON.stringify(settings)) return undefined;
    return known.stamp === (await metricsStamp(runDir)) ? known.verdict : undefined;
  }

  /** The verdict on the run's metrics.jsonl as it is now, read and judged here unless judged already; undefined without passes. */
  judge(runDir: string, settings: SpecSettings): Promise<JudgedVerdict | undefined> {
    return this.queued(runDir, async () => {
      const known = await this.current(runDir, settings);
      if (known !== undefined) return known;
      const stamp = await metricsStamp(runDir);
      const text = (await readText(path.join(runDir, RUN_FILES.metrics), READ_LIMITS.metrics)) ?? '';
      const parsed = await parseMetricsYielding(text);
      return parsed.records.length > 0 ? this.judgeNow(runDir, { stamp, text, parsed }, settings) : undefined;
    });
  }

  /** The verdict on metrics.jsonl as already read (the panel's read), judging only passes not judged before. */
  judgeRead(runDir: string, metrics: MetricsRead, settings: SpecSettings): Promise<JudgedVerdict> {
    return this.queued(runDir, () => this.judgeNow(runDir, metrics, settings));
  }

  /** Forget a run (its folder deleted). */
  forget(runDir: string): void {
    this.runs.delete(runDir);
  }

  private async judgeNow(runDir: string, metrics: MetricsRead, settings: SpecSettings): Promise<JudgedVerdict> {
    const { records } = metrics.parsed;
    const settingsKey = JSON.stringify(settings);
    const known = this.runs.get(runDir);
    if (known !== undefined && known.settingsKey === settingsKey && known.stamp === metrics.stamp && metrics.stamp !== '') return known.verdict;
    // Only passes appended since: the same settings, the text judged before unchanged at the start of
    // this one, and its last pass still where it was (a resumed run's record replaces those after it).
    const grown =
      known !== undefined &&
      known.settingsKey === settingsKey &&
      metrics.text.length >= known.textLength &&
      records.length >= known.verdict.passes &&
      JSON.stringify(records[known.verdict.passes - 1]) === JSON.stringify(known.verdict.last) &&
      digest(metrics.text.slice(0, known.textLength)) === known.textDigest;
    const judge = grown ? known.judge : new PassJudge(settings);
    const more = records.slice(judge.passes);
    const verdict = await inSlices(judge.judge(more));
    this.passesJudged += more.length;
    const judged: JudgedVerdict = { ...verdict, passes: records.length, last: records[records.length - 1]! };
    this.runs.set(runDir, {
      stamp: metrics.stamp,
      settingsKey,
      textLength: metrics.text.length,
      textDigest: digest(metrics.text),
      judge,
      verdict: judged,
    });
    return judged;
  }

  private queued<T>(runDir: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(runDir) ?? Promise.resolve();
    const done = before.then(work, work);
    const settled = done.catch(() => undefined);
    this.queues.set(runDir, settled);
    void settled.then(() => {
      if (this.queues.get(runDir) === settled) this.queues.delete(runDir);
    });
    return done;
  }
}

/** An overview as the editor shows it: the verdict judged from its passes, and where the stored one differs. */
export type ShownOverview = RunOverview & { verdictNotes: string[] };

/**
 * The overview with `judged` in place of the verdict its files store, and a note for each stored verdict
 * (naming its file and field) that is not the judged one; as stored, without notes, until judged.
 */
export function withJudgedVerdict(o: RunOverview, judged: JudgedVerdict | undefined): ShownOverview {
  if (judged === undefined) return { ...o, verdictNotes: [] };
  const notes = storedVerdictNotes(o.runDir, o.summary, judged.last, judged.state, judged.passes);
  return { ...o, convergence: judged.state, convergenceReason: judged.reason, verdictNotes: notes.map((n) => n.message) };
}
