/**
 * The verdict judged again from a run's recorded passes, kept per run folder for one state of its
 * metrics.jsonl and one set of rule settings. The editor's surfaces (status bar, CodeLens, runs view,
 * panel) share it, so they show one verdict for a run state and judge that state once. Node only.
 */
import * as path from 'node:path';
import type { MetricsRecord } from '../runFormat';
import { RUN_FILES } from '../runFormat';
import { metricsStamp, stampedFile } from './files';
import { holdsPlace, placeOfText, readOnward, type ReadPlace } from './metricsPlace';
import { storedVerdictNotes, type MetricsRead, type RunOverview } from './read';
import { RunQueues } from './runQueues';
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
  /** Where the bytes judged end, and what shows the file still holds them: a growth is read from there. */
  place: ReadPlace | undefined;
  judge: PassJudge;
  verdict: JudgedVerdict;
}

export class JudgedVerdicts {
  private readonly runs = new Map<string, Judged>();
  /** Each run's judgements one after another: two at once would push the same passes into one judge. */
  private readonly queues = new RunQueues();
  /** Passes judged, and bytes of metrics.jsonl read here, since this was made: for tests and measurements. */
  passesJudged = 0;
  bytesRead = 0;

  /** The verdict on the run's metrics.jsonl as it is now, when judged already (costs a stat, no read). */
  async current(runDir: string, settings: SpecSettings): Promise<JudgedVerdict | undefined> {
    const known = this.runs.get(runDir);
    if (known === undefined || known.settingsKey !== JSON.stringify(settings)) return undefined;
    return known.stamp === (await metricsStamp(runDir)) ? known.verdict : undefined;
  }

  /**
   * The verdict on the run's metrics.jsonl as it is now, unless judged already: a file that grew since
   * it was judged is read from where that read ended, one rewritten, cut short or replaced is read
   * whole. Undefined without passes.
   */
  judge(runDir: string, settings: SpecSettings): Promise<JudgedVerdict | undefined> {
    return this.queues.run(runDir, async () => {
      const known = await this.current(runDir, settings);
      if (known !== undefined) return known;
      const before = this.runs.get(runDir);
      const from =
        before?.place !== undefined && before.settingsKey === JSON.stringify(settings) ? { place: before.place, last: before.verdict.last } : undefined;
      const { part, appended, bytesRead } = await readOnward(path.join(runDir, RUN_FILES.metrics), from);
      this.bytesRead += bytesRead;
      if (part === undefined) return undefined;
      if (appended) return this.settle(runDir, settings, before!.judge, part.records, part.records.at(-1) ?? before!.verdict.last, part);
      if (part.records.length === 0) return undefined;
      return this.settle(runDir, settings, new PassJudge(settings), part.records, part.records.at(-1)!, part);
    });
  }

  /** The verdict on metrics.jsonl as already read (the panel's read), judging only passes not judged before. */
  judgeRead(runDir: string, metrics: MetricsRead, settings: SpecSettings): Promise<JudgedVerdict> {
    return this.queues.run(runDir, async () => {
      const { records } = metrics.parsed;
      const known = this.runs.get(runDir);
      const sameSettings = known !== undefined && known.settingsKey === JSON.stringify(settings);
      if (sameSettings && known.stamp === metrics.stamp && metrics.stamp !== '') return known.verdict;
      // Only passes appended since: the text judged before still where it was, and its last pass too
      // (a resumed run's record replaces those after it).
      const grown =
        sameSettings &&
        known.place !== undefined &&
        holdsPlace(metrics.text, known.place) &&
        records.length >= known.verdict.passes &&
        JSON.stringify(records[known.verdict.passes - 1]) === JSON.stringify(known.verdict.last);
      const judge = grown ? known.judge : new PassJudge(settings);
      const file = stampedFile(metrics.stamp);
      const place = placeOfText(metrics.text, file?.ino, file?.size ?? 0);
      return this.settle(runDir, settings, judge, records.slice(judge.passes), records[records.length - 1]!, { stamp: metrics.stamp, place });
    });
  }

  /** Forget a run (its folder deleted). */
  forget(runDir: string): void {
    this.runs.delete(runDir);
  }

  /** Judges `more`, the passes after those `judge` has judged (the last of all is `last`), and keeps the verdict for the file as read. */
  private async settle(
    runDir: string,
    settings: SpecSettings,
    judge: PassJudge,
    more: readonly MetricsRecord[],
    last: MetricsRecord,
    read: { stamp: string; place: ReadPlace | undefined },
  ): Promise<JudgedVerdict> {
    const verdict = await inSlices(judge.judge(more));
    this.passesJudged += more.length;
    const judged: JudgedVerdict = { ...verdict, passes: judge.passes, last };
    this.runs.set(runDir, { stamp: read.stamp, settingsKey: JSON.stringify(settings), place: read.place, judge, verdict: judged });
    return judged;
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
