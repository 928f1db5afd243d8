/**
 * The summary table's content, like the paper's tables: one row per quantity, one column per run,
 * taken from each run's latest diagnostics pass. Pure so it can be tested without a DOM.
 */
import type { PanelRun } from '../core/panelProtocol';
import type { MetricsRecord } from '../core/runFormat';
import { verdictLabel, verdictTone } from '../core/verdictText';
import { LATENTS_NAMED } from '../core/wording';
import { fmtNats, fmtPercent, fmtRate, fmtSig, MISSING } from './format';

export interface SummaryCell {
  text: string;
  /** Longer text written under the value (e.g. the convergence reason). */
  detail?: string;
  /** A verdict the stylesheet colours. */
  tone?: 'good' | 'bad' | 'neutral';
}

export interface SummaryRow {
  label: string;
  /** What the quantity is, for the row header's tooltip. */
  help: string;
  cells: SummaryCell[];
}

/** Per-latent values in a cell: all of a few latents, the first LATENTS_NAMED of many (Export CSV has every one). */
export function perLatentText(values: readonly (number | null)[]): string {
  const shown = values
    .slice(0, LATENTS_NAMED)
    .map((v) => fmtSig(v, 3))
    .join(' ');
  return values.length > LATENTS_NAMED ? `${shown} … (first ${LATENTS_NAMED} of ${values.length} latents)` : shown;
}

/** The relative gap against the run's tolerance, in words (the panel's colours say it too, never alone). */
export function gapToleranceText(gapRel: number, tolerance: number): string {
  return `${gapRel <= tolerance ? 'within' : 'above'} the ${fmtPercent(tolerance)} tolerance`;
}

type Rower = (r: MetricsRecord | undefined, run: PanelRun) => SummaryCell;

const plain = (text: string): SummaryCell => ({ text });

const ROWS: { label: string; help: string; cell: Rower }[] = [
  {
    label: 'ELBO',
    help: 'Sampled ELBO per data point (nats) ± its standard error',
    cell: (r) => plain(r ? `${fmtNats(r.elbo)} ± ${fmtSig(r.elboStdErr, 2)}` : MISSING),
  },
  { label: 'Entropy sum', help: 'H_enc − H_prior − H_dec (nats)', cell: (r) => plain(fmtNats(r?.entropySum)) },
  { label: 'H_enc', help: 'Average encoder entropy', cell: (r) => plain(fmtNats(r?.hEnc)) },
  { label: 'H_prior', help: 'Prior entropy', cell: (r) => plain(fmtNats(r?.hPrior)) },
  { label: 'H_dec', help: 'Decoder entropy', cell: (r) => plain(fmtNats(r?.hDec)) },
  {
    label: 'Gap',
    help: 'ELBO − entropy sum = R_dec + R_prior',
    cell: (r) => plain(r ? `${fmtNats(r.gap)}${typeof r.gapStdErr === 'number' ? ` ± ${fmtSig(r.gapStdErr, 2)}` : ''}` : MISSING),
  },
  {
    label: 'Gap (relative)',
    help: '|gap| / (|H_enc| + |H_prior| + |H_dec|); compared with the tolerance',
    cell: (r, run) => {
      if (!r || typeof r.gapRel !== 'number') return plain(MISSING);
      return { text: fmtPercent(r.gapRel), detail: gapToleranceText(r.gapRel, run.tolerance), tone: r.gapRel <= run.tolerance ? 'good' : 'bad' };
    },
  },
  { label: 'R_dec', help: 'Decoder-variance residual: ½ Σ_d (1 − σ*²_d / σ²_d)', cell: (r) => plain(fmtNats(r?.rDec)) },
  { label: 'R_prior', help: 'Prior residual: ½ Σ_h (1 − m_h / a²_h)', cell: (r) => plain(fmtNats(r?.rPrior)) },
  {
    label: 'σ² / σ²*',
    help: 'Decoder variance vs its optimum (means over dimensions)',
    cell: (r) => plain(r ? `${fmtSig(r.sigma2)} / ${fmtSig(r.sigma2Opt)}` : MISSING),
  },
  {
    label: 'Convergence',
    help: 'The convergence rule at the latest pass',
    cell: (r, run) => {
      if (!r?.convergence) return plain(MISSING);
      // Red where training has more to give (gap open, or held down by the step); grey for the rest.
      const tone = verdictTone(r.convergence) === 'good' ? 'good' : r.convergence === 'not-converged' || r.convergence === 'noise-limited' ? 'bad' : 'neutral';
      return { text: verdictLabel(r.convergence, run), detail: r.convergenceReason, tone };
    },
  },
  {
    label: 'ELBO slope',
    help: 'The plateau test: least-squares slope of the ELBO per epoch over the verdict window, ± its standard error',
    cell: (r) => plain(typeof r?.elboSlope === 'number' ? `${fmtSig(r.elboSlope, 2)} ± ${fmtSig(r.elboSlopeStdErr ?? NaN, 2)} /epoch` : MISSING),
  },
  {
    label: 'Averaged-weights gain',
    help: 'ELBO of the weights averaged over the last pass interval minus the current ELBO: what a smaller step would gain',
    cell: (r) => plain(typeof r?.averagedElbo === 'number' && typeof r.elbo === 'number' ? fmtNats(r.averagedElbo - r.elbo) : MISSING),
  },
  {
    label: 'Active units',
    help: 'Latents whose posterior mean varies over the data, Var_x(E_q[z_h]) > 0.01 (Burda et al. 2016)',
    cell: (r) => plain(typeof r?.activeUnits === 'number' ? `${r.activeUnits} of ${r.klPerLatent.length}` : MISSING),
  },
  {
    label: 'I(x; z)',
    help: 'Mutual information between x and z, aggregate-posterior estimator (Hoffman & Johnson 2016) on the points named; at most log(points)',
    cell: (r) => plain(typeof r?.mutualInformation === 'number' ? `${fmtNats(r.mutualInformation)} (${r.miPoints ?? '?'} points)` : MISSING),
  },
  {
    label: 'Mean-field gap',
    help: "What the diagonal encoder loses to the correlations of the decoder's local posterior, ½ (Σ_h log Λ_hh − log det Λ) with Λ = I/a² + Jᵀ J / s²; a linear decoder's optimum has none",
    cell: (r) =>
      plain(typeof r?.meanFieldGap === 'number' ? `${fmtNats(r.meanFieldGap)}${r.decoderLinear ? ' (linear decoder: none at its optimum)' : ''}` : MISSING),
  },
  {
    label: 'H_enc per latent',
    help: "Encoder entropy per latent, 1/N Σ_n ½ log(2πe t²_nh), against the prior's ½ log(2πe a²_h) = 1.419 for a standard normal",
    cell: (r) => plain(r?.hEncPerLatent ? perLatentText(r.hEncPerLatent) : MISSING),
  },
  {
    label: 'Validation ELBO',
    help: 'ELBO on the held-out split (data.validation), when there is one',
    cell: (r) => plain(typeof r?.validationElbo === 'number' ? fmtNats(r.validationElbo) : MISSING),
  },
  {
    label: 'Backend',
    help: 'The engine that trained the run; of each session in turn where it was resumed on another',
    cell: (_r, run) => plain(backendsOf(run) || MISSING),
  },
  { label: 'Samples/s', help: 'Training throughput at the latest pass', cell: (r) => plain(fmtRate(r?.samplesPerSec)) },
];

/** The run's engine, or its sessions' engines in order where a resume changed it ("cpu → wasm"). */
function backendsOf(run: PanelRun): string {
  const seq = (run.sessions ?? []).map((s) => s.backend).filter((b, i, all) => i === 0 || b !== all[i - 1]);
  return seq.length > 1 ? seq.join(' → ') : run.backend;
}

export function lastRecord(run: PanelRun): MetricsRecord | undefined {
  return run.records[run.records.length - 1];
}

export function summaryRows(runs: readonly PanelRun[]): SummaryRow[] {
  return ROWS.map((row) => ({ label: row.label, help: row.help, cells: runs.map((run) => row.cell(lastRecord(run), run)) }));
}
