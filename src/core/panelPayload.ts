/**
 * What the panel's messages carry of a run: the webview draws per-latent arrays for the latest pass
 * only, so the passes before it go without theirs. Pure and free of Node, for the host and the webview.
 */
import type { PanelRun } from './panelProtocol';
import type { MetricsRecord } from './runFormat';

/** A record's per-latent arrays besides the two the format requires; the panel reads them of the latest pass only. */
const OPTIONAL_PER_LATENT = ['collapsedLatents', 'priorVariance', 'latentMeanVariance', 'hEncPerLatent'] as const;

/** The record without its per-latent arrays (a pass the panel no longer draws them for). */
export function withoutPerLatent(r: MetricsRecord): MetricsRecord {
  const copy: MetricsRecord = { ...r, latentSecondMoment: [], klPerLatent: [] };
  for (const k of OPTIONAL_PER_LATENT) delete copy[k];
  return copy;
}

/**
 * The run as the webview gets it (and a report carries it): the passes before the latest without their
 * per-latent arrays, which the panel draws for the latest pass only. Whole, a run of 2000 latents and
 * 1000 passes weighs 76 MB, sent again whenever the panel's tab comes back into view. The run itself is
 * left whole (Export CSV reads it).
 */
export function panelRunToSend(run: PanelRun): PanelRun {
  const last = run.records.length - 1;
  return { ...run, records: run.records.map((r, i) => (i === last ? r : withoutPerLatent(r))) };
}
