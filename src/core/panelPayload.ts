/**
 * What the panel's messages carry of a run: the webview draws the latest pass whole (summary, verdict,
 * per-latent charts) and of the passes before it only their points on the pass charts, so those go
 * with just that. Pure and free of Node, for the host and the webview.
 */
import type { PanelRun } from './panelProtocol';
import { REQUIRED_NUMBERS, type MetricsRecord } from './runFormat';

/**
 * The fields the pass charts draw of every pass (webview/series.ts and the session marks): the
 * numbers the run format requires of a record, and the ELBO at the optimal variance. A chart that
 * draws another field over the passes must add it here (webview-weight.test.ts compares the series).
 */
const CHARTED_FIELDS = [...REQUIRED_NUMBERS, 'elboAtOptVariance'] as const satisfies readonly (keyof MetricsRecord)[];

/**
 * A pass before the latest as the panel keeps it: its charted numbers, without its per-latent arrays
 * and the verdict's reason (a few hundred characters, different at every pass, that only the latest
 * pass's is shown of), which made up most of a long run's message.
 */
export function asEarlierPass(r: MetricsRecord): MetricsRecord {
  const kept: Record<string, unknown> = { latentSecondMoment: [], klPerLatent: [] };
  for (const k of CHARTED_FIELDS) if (r[k] !== undefined) kept[k] = r[k];
  return kept as unknown as MetricsRecord;
}

/**
 * The run as the webview gets it (and a report carries it): the passes before the latest as
 * asEarlierPass keeps them. Whole, a run of 2000 latents and 1000 passes weighs 76 MB, and one of
 * 5000 passes of the built-in trainer 8 MB, sent again whenever the panel's tab comes back into view.
 * The run itself is left whole (Export CSV reads it).
 */
export function panelRunToSend(run: PanelRun): PanelRun {
  const last = run.records.length - 1;
  return { ...run, records: run.records.map((r, i) => (i === last ? r : asEarlierPass(r))) };
}
