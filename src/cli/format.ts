/** Text output of the CLI: the paper-style table, one-line progress, and the progress bar. */
import * as path from 'node:path';
import type { Decomposition } from '../core/entropy';
import { shownPath } from '../core/errors';
import { ACTIVE_UNIT_THRESHOLD, type LatentEvidence, type MeanFieldEvidence } from '../core/evidence';
import type { MetricsRecord } from '../core/runFormat';
import { foldedSessionsText, foldSessionLines } from '../core/sessionHistory';
import { verdictLabel } from '../core/verdictText';
import { formatGapPercent } from '../core/wording';

export const num = (x: number | null | undefined, digits = 4): string => {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  const a = Math.abs(x);
  if (a !== 0 && a < 1e-3) return x.toExponential(digits - 1);
  // Image models' ELBOs reach 1e5..1e7 nats: a few significant digits would print an ELBO and its entropy sum alike.
  if (a >= 1e9) return x.toExponential(6);
  return a >= 1e5 ? x.toFixed(Math.min(digits, 1)) : x.toFixed(digits);
};

/** The table of the paper (ELBO estimate ± standard error beside the entropy sum and its terms), plus the split. */
export function decompositionTable(
  d: Pick<Decomposition, keyof Decomposition & keyof MetricsRecord> & { gapStdErr?: number; elboAtOptVariance?: number | null },
): string {
  const rows: [string, string, string][] = [
    ['ELBO (sampled)', num(d.elbo), `± ${num(d.elboStdErr)}`],
    ['entropy sum', num(d.entropySum), 'H_enc - H_prior - H_dec'],
    ['  H_enc  (avg encoder)', num(d.hEnc), ''],
    ['  H_prior', num(d.hPrior), ''],
    ['  H_dec  (decoder)', num(d.hDec), ''],
    ['gap = ELBO - sum', num(d.gap), `${num(d.gapRel * 100, 2)} % of |terms|${d.gapStdErr !== undefined ? `, ± ${num(d.gapStdErr)}` : ''}`],
    ['  R_dec', num(d.rDec), 'decoder variance off its optimum'],
    ['  R_prior', num(d.rPrior), 'latent second moments off the prior'],
    ['sigma^2 / optimum', `${num(d.sigma2)} / ${num(d.sigma2Opt)}`, 'decoder variance (mean over d)'],
  ];
  if (d.elboAtOptVariance !== undefined && d.elboAtOptVariance !== null) {
    // Never negative in exact arithmetic; at the optimum the ELBO's float32 terms can put it a rounding below.
    const cost = Math.max(0, d.elboAtOptVariance - d.elbo);
    rows.push(['ELBO at optimal sigma^2', num(d.elboAtOptVariance), `costs ${num(cost)} nats now`]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd()).join('\n');
}

/**
 * `hPriorPerLatent`: each latent's prior entropy ½ log(2πe a²_h). One value in the heading where they
 * are all the same (a unit prior), else a column: a learned prior (VAE-2) gives each latent its own.
 */
export function perLatentTable(
  m: readonly number[],
  kl: readonly number[],
  collapsed: readonly number[],
  ev?: LatentEvidence,
  hPriorPerLatent: readonly number[] = [],
): string {
  const onePrior = hPriorPerLatent.every((v) => v === hPriorPerLatent[0]);
  const extra = ev ? `   Var_x(E_q[z])   H_enc,h${onePrior ? ` (prior ${num(hPriorPerLatent[0], 3)})` : '   H_prior,h'}` : '';
  const lines = [`latent   m_h (2nd moment)   KL_h (nats)${extra}`];
  m.forEach((v, h) => {
    const prior = onePrior ? '' : `   ${num(hPriorPerLatent[h]).padStart(9)}`;
    const cols = ev ? `   ${num(ev.latentMeanVariance[h]).padStart(13)}   ${num(ev.hEncPerLatent[h]).padStart(7)}${prior}` : '';
    const inactive = collapsed.includes(h) || (ev !== undefined && ev.latentMeanVariance[h]! <= ACTIVE_UNIT_THRESHOLD);
    lines.push(`z${String(h).padEnd(6)} ${num(v).padStart(16)}   ${num(kl[h]).padStart(11)}${cols}${inactive ? '   collapsed' : ''}`);
  });
  return lines.join('\n');
}

/** Active units, the mutual information, the mean-field gap and the validation ELBO, as eval prints them. */
export function evidenceTable(ev: LatentEvidence & Partial<MeanFieldEvidence>, H: number, validationElbo: number | undefined, elbo: number): string {
  const rows: [string, string, string][] = [
    ['active units', `${ev.activeUnits} of ${H}`, `Var_x(E_q[z_h]) > ${ACTIVE_UNIT_THRESHOLD} (Burda et al. 2016)`],
    [
      'I(x; z)',
      num(ev.mutualInformation),
      `nats, aggregate-posterior estimator on ${ev.miPoints} points (at most log ${ev.miPoints} = ${num(Math.log(ev.miPoints), 2)})`,
    ],
  ];
  if (ev.meanFieldGap !== undefined)
    rows.push([
      'mean-field gap',
      num(ev.meanFieldGap),
      `nats the diagonal encoder loses to the decoder's posterior correlations (${ev.meanFieldPoints} points)`,
    ]);
  if (validationElbo !== undefined) rows.push(['validation ELBO', num(validationElbo), `held-out split; training ELBO ${num(elbo)}`]);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`).join('\n');
}

/** eval's list of a resumed run's sessions: a long one folded as the panel's header folds it; `--json` keeps them all. */
export function sessionsList(lines: readonly string[]): string {
  const fold = foldSessionLines(lines);
  const between = fold.folded.length > 0 ? [`${foldedSessionsText(fold)}: not listed here; --json lists every session`] : [];
  return `trained in ${lines.length} sessions:\n${[...fold.first, ...between, ...fold.last].map((l) => `  ${l}`).join('\n')}\n`;
}

/** One plain line per diagnostics pass (logs, CI, non-terminals). */
export function passLine(r: MetricsRecord, epochs: number): string {
  return (
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}  ELBO ${num(r.elbo)} ± ${num(r.elboStdErr, 3)}  ` +
    `sum ${num(r.entropySum)}  gap ${num(r.gap)} (${formatGapPercent(r.gapRel)})  R_dec ${num(r.rDec)}  R_prior ${num(r.rPrior)}  ` +
    `${r.samplesPerSec !== null && r.samplesPerSec > 0 && Number.isFinite(r.samplesPerSec) ? `${Math.round(r.samplesPerSec)} samples/s  ` : ''}${r.convergence ? verdictLabel(r.convergence, r) : ''}`
  );
}

/** A one-line bar for terminals: `[#####.....] epoch 3/60 ...`. */
export function progressBar(fraction: number, width: number, label: string): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${label}`;
}

/** A path as a user in `cwd` would type it: relative where it lies below `cwd`, else as given; escaped as shownPath does. */
export function pathForDisplay(p: string, cwd: string = process.cwd()): string {
  const rel = path.relative(cwd, p);
  return shownPath(rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p);
}

/**
 * The progress line for a terminal `columns` wide. It is redrawn in place (carriage return, erase
 * line), which erases only the last screen line of a wrapped one: it is cut to fit, the last
 * column left free (some terminals wrap on it).
 */
export function progressLine(fraction: number, label: string, columns: number): string {
  const room = Math.max(1, columns - 1);
  const line = progressBar(fraction, Math.max(10, Math.min(40, columns - 60)), label);
  return line.length <= room ? line : line.slice(0, room);
}

/** Whether to draw the progress line: on a terminal, unless it declares itself unable to erase a line (TERM=dumb). */
export function showsProgress(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && env.TERM !== 'dumb';
}
