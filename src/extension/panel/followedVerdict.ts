/**
 * The verdict on a run another process is writing, as the panel shows it while following the run: the
 * shared judge's on its passes as they now stand (what the status bar shows), not the one its writer
 * stored in each record. No vscode import.
 */
import type { JudgedVerdict } from '../../core/run/judgedVerdicts';
import { storedVerdictNotes } from '../../core/run/read';
import { runSettingsOf, type SpecSettings } from '../../core/run/settings';
import type { MetricsRecord, RunMeta, RunSummary } from '../../core/runFormat';

/** The shared judge (JudgedVerdicts.judge): a run's metrics.jsonl as it now is, read from where its last read ended. */
export type RunJudge = (runDir: string, settings: SpecSettings) => Promise<JudgedVerdict | undefined>;

/** What the rule's settings and the stored-verdict note are taken from, as the panel read the run folder. */
export interface FollowedRun {
  runDir: string;
  meta?: RunMeta;
  specText?: string;
  summary?: RunSummary;
}

/**
 * Puts the judged verdict on `latest`, the latest pass the panel shows, and says the run's note on the
 * verdicts it stores ('' for none), as a read of the run folder would; undefined (and `latest` left as
 * it is) when the run has no pass to judge.
 */
export async function judgeFollowed(judge: RunJudge, run: FollowedRun, latest: MetricsRecord): Promise<string | undefined> {
  const judged = await judge(run.runDir, runSettingsOf(run.meta, run.specText, latest));
  if (judged === undefined) return undefined;
  latest.convergence = judged.state;
  latest.convergenceReason = judged.reason;
  return storedVerdictNotes(run.runDir, run.summary, judged.last, judged.state, judged.passes)
    .map((n) => n.message)
    .join(' ');
}
