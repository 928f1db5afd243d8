/**
 * The longest interval between a run's passes, kept per run folder. A run whose writer cannot be looked
 * up (another machine's, one synced in) is called interrupted by that pace, asked at every look at it:
 * a metrics.jsonl that grew is read from where the last read ended, one rewritten, cut short, replaced
 * or resumed is read whole (see metricsPlace.ts). Node only.
 */
import * as path from 'node:path';
import { RUN_FILES, type MetricsRecord } from '../runFormat';
import { metricsStamp } from './files';
import { foldPassIntervals, longestOfFold, NO_PASSES, type PassIntervalFold } from './liveness';
import { readOnward, type MetricsPart, type ReadPlace } from './metricsPlace';
import { RunQueues } from './runQueues';

interface Known {
  stamp: string;
  place: ReadPlace | undefined;
  /** The last pass read: an appended record that does not come after it (a resume) replaces passes, and the file is read whole. */
  last: MetricsRecord | undefined;
  fold: PassIntervalFold;
}

export class PassIntervals {
  private readonly runs = new Map<string, Known>();
  private readonly queues = new RunQueues();
  /** Bytes of metrics.jsonl read here since this was made: for tests and measurements. */
  bytesRead = 0;

  /** The longest interval between the run's passes (seconds) as its metrics.jsonl now shows it; undefined before the first pass. */
  longest(runDir: string): Promise<number | undefined> {
    return this.queues.run(runDir, async () => {
      const known = this.runs.get(runDir);
      if (known !== undefined && known.stamp !== '' && known.stamp === (await metricsStamp(runDir))) return longestOfFold(known.fold);
      const from = known?.place !== undefined ? { place: known.place, last: known.last } : undefined;
      const { part, appended, bytesRead } = await readOnward(path.join(runDir, RUN_FILES.metrics), from);
      this.bytesRead += bytesRead;
      if (part === undefined) {
        this.runs.delete(runDir);
        return undefined;
      }
      return appended ? this.keep(runDir, part, known!.fold, known!.last) : this.keep(runDir, part, NO_PASSES, undefined);
    });
  }

  /** Forget a run (no longer followed). */
  forget(runDir: string): void {
    this.runs.delete(runDir);
  }

  clear(): void {
    this.runs.clear();
  }

  private keep(runDir: string, read: MetricsPart, before: PassIntervalFold, last: MetricsRecord | undefined): number | undefined {
    const fold = foldPassIntervals(
      before,
      read.records.map((r) => r.wallSeconds),
    );
    this.runs.set(runDir, { stamp: read.stamp, place: read.place, last: read.records.at(-1) ?? last, fold });
    return longestOfFold(fold);
  }
}
