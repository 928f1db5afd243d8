/**
 * Follows runs that another process is writing (the CLI in a terminal, a trainer of another
 * window): polls metrics.jsonl incrementally and the summary for the end of the run.
 * No vscode import; the panel turns the callbacks into webview messages.
 */
import * as path from 'node:path';
import { RUN_FILES, type MetricsRecord, type RunStatus } from '../../core/runFormat';
import { MetricsTail } from '../../core/run/tail';
import { readRunState } from '../../core/run/read';
import { PassIntervals } from '../../core/run/passIntervals';
import { fileExists } from '../../core/run/files';
import { runFolderProblem } from '../../core/run/present';

export interface ExternalRunCallbacks {
  /** Awaited before the next look at the run: what it says of these records comes before what is said after. */
  records(runDir: string, records: MetricsRecord[]): void | Promise<void>;
  /** metrics.jsonl was started over (a writer restarting the run in the same folder): what was shown is not the run's any more. */
  restarted(runDir: string): void;
  finished(runDir: string, status: RunStatus, message?: string): void;
  /**
   * A file of the run cannot be used, or a line of it (edited by hand with a mistake, another writer's
   * record): `message` names the file and where in it; the run is still followed.
   */
  problem(runDir: string, problem: { file: string; message: string }): void;
}

const DEFAULT_POLL_MS = 2000;

export class ExternalRunFollower {
  private readonly tails = new Map<string, MetricsTail>();
  /** The mistake in each followed run's run.json last said, so that it is said once. */
  private readonly said = new Map<string, string>();
  /** The pace of each followed run's writer, for one that cannot be looked up: read from look to look as its file grows. */
  private readonly intervals = new PassIntervals();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly callbacks: ExternalRunCallbacks,
    private readonly pollMs = DEFAULT_POLL_MS,
  ) {}

  /** Start following; the first call returns every record written so far. */
  async follow(runDir: string): Promise<MetricsRecord[]> {
    const tail = new MetricsTail(path.join(runDir, RUN_FILES.metrics));
    // Read before polling starts, so the first records are returned here and not also reported.
    const first = await tail.readNew();
    this.tails.set(runDir, tail);
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    return first;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [runDir, tail] of [...this.tails]) {
        const read = await tail.readChanges();
        if (read.restarted) {
          this.unfollow(runDir);
          this.callbacks.restarted(runDir);
          continue;
        }
        if (read.records.length > 0) await this.callbacks.records(runDir, read.records);
        if (read.bad.length > 0) this.callbacks.problem(runDir, badLinesProblem(tail.file, read.bad));
        const meta = path.join(runDir, RUN_FILES.meta);
        if (!(await fileExists(meta))) {
          this.unfollow(runDir);
          const what = (await fileExists(runDir)) ? meta : `the run folder ${runDir}`;
          this.callbacks.finished(runDir, 'stopped', `${what} is gone (deleted, renamed or moved); the passes read before are shown`);
          continue;
        }
        // Its state only: the panel takes the verdict on its passes from the shared judge.
        const overview = await readRunState(runDir, undefined, this.intervals);
        // Only a run.json the overview could not use is read again, for what is wrong with it and where.
        const broken = overview.meta === undefined ? await runFolderProblem(runDir) : undefined;
        if (broken === undefined) this.said.delete(runDir);
        else if (this.said.get(runDir) !== broken) {
          this.said.set(runDir, broken);
          this.callbacks.problem(runDir, { file: meta, message: broken });
        }
        // Without a usable run.json, its writer's process is not known: a run is not called interrupted for a typo, only its summary ends it.
        const ended = broken === undefined ? overview.status !== 'running' : overview.summary !== undefined && overview.summary.status !== 'running';
        if (ended) {
          this.unfollow(runDir);
          // The writer may have written its last passes after the read above, the very last without its newline.
          const last = await tail.readChanges({ final: true });
          if (last.bad.length > 0) this.callbacks.problem(runDir, badLinesProblem(tail.file, last.bad));
          if (last.restarted) this.callbacks.restarted(runDir);
          else if (last.records.length > 0) await this.callbacks.records(runDir, last.records);
          this.callbacks.finished(runDir, overview.status, overview.message);
        }
      }
      if (this.tails.size === 0) this.stopTimer();
    } finally {
      this.polling = false;
    }
  }

  clear(): void {
    this.tails.clear();
    this.intervals.clear();
    this.said.clear();
    this.stopTimer();
  }

  private unfollow(runDir: string): void {
    this.tails.delete(runDir);
    this.intervals.forget(runDir);
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The bad lines of one read of a followed metrics.jsonl, the first by its number and the count of the rest. */
function badLinesProblem(file: string, bad: readonly { line: number; message: string }[]): { file: string; message: string } {
  const more = bad.length > 1 ? `; ${bad.length - 1} more bad line${bad.length > 2 ? 's' : ''} after it skipped` : '';
  return { file, message: `${file}:${bad[0]!.line}: ${bad[0]!.message} (line skipped${more})` };
}
