/**
 * What each chart shows, in words, for a screen reader: the latest pass's values of its curves per
 * run, as the canvas's accessible name. Pure, so it is testable without a DOM.
 */
import { verdictLabel } from '../core/verdictText';
import { CHART_IDS, type ChartId, type RunView } from './chartConfigs';
import { fmtNats, fmtPercent } from './format';
import type { PassAxis } from './series';
import { gapToleranceText, lastRecord, perLatentText } from './summary';
import { latestPassText } from './table';

function latestValues(id: ChartId, v: RunView): string {
  const r = lastRecord(v.run);
  if (!r) return 'no diagnostics pass yet';
  switch (id) {
    case CHART_IDS.elbo:
      return [`ELBO ${fmtNats(r.elbo)}`, `entropy sum ${fmtNats(r.entropySum)}`, r.convergence ? `verdict ${verdictLabel(r.convergence, v.run)}` : '']
        .filter(Boolean)
        .join(', ');
    case CHART_IDS.entropies:
      return `H_enc ${fmtNats(r.hEnc)}, H_prior ${fmtNats(r.hPrior)}, H_dec ${fmtNats(r.hDec)}`;
    case CHART_IDS.gap: {
      const rel = typeof r.gapRel === 'number' ? ` (${fmtPercent(r.gapRel)}, ${gapToleranceText(r.gapRel, v.run.tolerance)})` : '';
      return `gap ${fmtNats(r.gap)}${rel}, R_dec ${fmtNats(r.rDec)}, R_prior ${fmtNats(r.rPrior)}`;
    }
    case CHART_IDS.latents:
      return r.klPerLatent.length ? `KL_h ${perLatentText(r.klPerLatent)}` : 'no per-latent statistics';
  }
}

/** "<title>. <run> at <pass>: <values>; …" for one chart. */
export function chartAltText(id: ChartId, title: string, views: readonly RunView[], axis: PassAxis): string {
  const compare = views.length > 1;
  const runs = views.map((v) => {
    const at = latestPassText(v.run, axis);
    const who = [compare ? v.run.name : '', at ? `at ${at}` : ''].filter(Boolean).join(' ');
    return `${who ? `${who}: ` : ''}${latestValues(id, v)}`;
  });
  return `${title}. ${runs.join('; ')}`;
}
