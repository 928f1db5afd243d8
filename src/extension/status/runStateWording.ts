/**
 * What the status bar, the CodeLens and the runs view say about a spec's latest run.
 * Pure (no vscode import): the wording is decided here and unit-tested.
 */
import type { ConvergenceState } from '../../core/convergence';
import type { MetricsRecord, RunStatus } from '../../core/runFormat';
import { shortReason, verdictLabel, verdictLine } from '../../core/verdictText';
import { epochText, etaKnown, formatDuration, formatGapPercent, formatNumber, progressFraction, rateKnown, RUN_STATUS_LABEL } from '../../core/wording';

export type RunStateKind =
  'none' | 'training' | 'converged' | 'not-converged' | 'improving' | 'noise-limited' | 'collapsed' | 'stationary' | 'too-early' | 'stale' | 'failed';

export interface LiveProgress {
  epoch: number;
  epochs: number;
  epochFraction: number;
  samplesPerSec?: number;
  etaSeconds?: number;
}

export interface RunStateInput {
  /** Set while a trainer in this window is running the spec (without it, status "running" is a writer elsewhere). */
  live?: LiveProgress;
  /** Whether a finished (or interrupted) run exists at all. */
  hasRun: boolean;
  status?: RunStatus;
  convergence?: ConvergenceState;
  convergenceReason?: string;
  last?: MetricsRecord;
  /** The spec in the editor differs from the run's snapshot (while training: from the text the run started with). */
  specChanged: boolean;
  message?: string;
  backend?: string;
  runDir?: string;
  modelType?: string;
  /** Set when the entropy theorem does not apply to the run (see core/run/settings.theoremNoteOf). */
  theoremNote?: string;
  /** Where a verdict the run's files store is not the one judged again from its passes (file and field). */
  verdictNotes?: readonly string[];
}

/** " (theorem does not apply)" after a verdict on a run outside the theorem, other than plain VAE-0. */
function theoremSuffix(s: RunStateInput): string {
  return s.theoremNote && s.modelType !== 'VAE-0' ? ' (theorem does not apply)' : '';
}

/** The verdict's label; plain "stationary" for a run outside the theorem other than VAE-0 (the shared rule, core/verdictText.ts). */
function stateVerdictLabel(s: RunStateInput): string {
  return verdictLabel(s.convergence ?? 'not-converged', s);
}

export function runStateKind(s: RunStateInput): RunStateKind {
  // Without `live`, status "running" is a run whose writer lives elsewhere (another window, a terminal, a script).
  if (s.live || s.status === 'running') return 'training';
  if (!s.hasRun) return 'none';
  if (s.status === 'failed' || s.status === 'diverged') return 'failed';
  if (s.specChanged) return 'stale';
  switch (s.convergence) {
    case 'converged':
    case 'stationary':
    case 'too-early':
    case 'improving':
    case 'noise-limited':
    case 'collapsed':
      return s.convergence;
    default:
      return 'not-converged';
  }
}

/** The progress notification's line: "epoch 3/50 · 12,300 samples/s · 1m 20s left". */
export function progressMessage(p: LiveProgress): string {
  const parts = [epochText(p) ?? 'starting'];
  if (rateKnown(p.samplesPerSec)) parts.push(`${Math.round(p.samplesPerSec).toLocaleString('en-US')} samples/s`);
  if (etaKnown(p)) parts.push(`${formatDuration(p.etaSeconds)} left`);
  return parts.join(' · ');
}

/** The CodeLens after "▶ Train VAE": the last result in a few words, and why (its reason's first sentence). */
export function codeLensResult(s: RunStateInput, withReason = true): string | undefined {
  const kind = runStateKind(s);
  const gap = `gap ${formatGapPercent(s.last?.gapRel)}`;
  switch (kind) {
    case 'none':
      return undefined;
    case 'training': {
      if (!s.live) return `training in another window or terminal${s.last ? `: epoch ${s.last.epoch}` : ''}`;
      const what = s.specChanged ? 'training (spec changed since it started)' : 'training';
      const epoch = epochText(s.live);
      return epoch ? `${what}: ${epoch}` : 'starting';
    }
    case 'failed':
      return s.status === 'diverged' ? RUN_STATUS_LABEL.diverged : `last run ${RUN_STATUS_LABEL.failed}`;
    case 'stale':
      return 'stale: spec changed since last run';
    default: {
      if (s.convergence === 'stationary' && s.theoremNote && s.modelType !== 'VAE-0') return `stationary, theorem does not apply: ${s.theoremNote}`;
      // The state in the shared wording, the gap, and the reason's first sentence.
      const why = withReason ? shortReason(s.convergenceReason) : undefined;
      return `${verdictLabel(s.convergence ?? 'not-converged', s)}${theoremSuffix(s)}, ${gap}${why ? ` — ${why}` : ''}`;
    }
  }
}

/**
 * The notification when a run completes: its verdict, and, when the spec was edited while it trained,
 * that the verdict is of the text the run started with.
 */
export function finishedMessage(name: string, last: MetricsRecord | undefined, specChangedSinceStart: boolean): string {
  const verdict = last
    ? codeLensResult({ hasRun: true, specChanged: false, last, convergence: last.convergence, convergenceReason: last.convergenceReason, status: 'completed' })
    : undefined;
  const which = specChangedSinceStart ? ' (the spec as it was when the run started; it has been edited since)' : '';
  return `VAE Lens: ${name} finished${which}${verdict ? `: ${verdict.replace(/\.$/, '')}` : ''}.`;
}

const ICONS: Record<RunStateKind, string> = {
  none: '$(beaker)',
  training: '$(sync~spin)',
  converged: '$(pass)',
  'not-converged': '$(warning)',
  improving: '$(arrow-up)',
  'noise-limited': '$(pulse)',
  collapsed: '$(pass)',
  stationary: '$(debug-pause)',
  'too-early': '$(question)',
  stale: '$(history)',
  failed: '$(error)',
};

/** The status bar item's text (with codicons). */
export function statusBarText(s: RunStateInput): string {
  const kind = runStateKind(s);
  const icon = ICONS[kind];
  switch (kind) {
    case 'none':
      return `${icon} VAE: no runs`;
    case 'training': {
      const p = s.live;
      if (!p) return `${icon} VAE training elsewhere`;
      const epoch = epochText(p);
      if (!epoch) return `${icon} VAE starting`;
      return `${icon} VAE ${epoch}${p.epochs > 0 ? ` (${Math.round(progressFraction(p) * 100)}%)` : ''}`;
    }
    case 'stale':
      return `${icon} VAE stale`;
    case 'failed':
      return `${icon} VAE ${RUN_STATUS_LABEL[s.status === 'diverged' ? 'diverged' : 'failed']}`;
    default:
      return `${icon} VAE ${stateVerdictLabel(s)}${theoremSuffix(s)}`;
  }
}

const md = (text: string) => text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);

/** The status bar tooltip as Markdown: the numbers behind the verdict. */
export function statusTooltipMarkdown(s: RunStateInput, specName?: string): string {
  const kind = runStateKind(s);
  const blocks: string[] = [];
  const verdict = statusBarText(s).replace(/^\$\([^)]*\)\s*/, '');
  blocks.push(`**VAE Lens**${specName ? `: ${md(specName)}` : ''} — ${md(verdict)}`);
  if (kind === 'training' && s.live) {
    const p = s.live;
    const extra: string[] = [];
    if (rateKnown(p.samplesPerSec)) extra.push(`${formatNumber(p.samplesPerSec, 3)} samples/s`);
    if (etaKnown(p)) extra.push(`${formatDuration(p.etaSeconds)} left`);
    if (extra.length) blocks.push(md(extra.join(', ')));
  }
  if (kind === 'stale') blocks.push('The spec has changed since this run; train again to update the verdict.');
  if (kind === 'training' && s.specChanged)
    blocks.push('The spec has changed since this run started: the run trains the text it started with; train again for the edited spec.');
  if (s.message) blocks.push(md(s.message));
  if (s.theoremNote) blocks.push(`Theorem does not apply: ${md(s.theoremNote)}`);
  const r = s.last;
  if (r) {
    blocks.push(
      [
        '| | |',
        '|---|---|',
        `| gap (ELBO − entropy sum) | ${formatNumber(r.gap)} nats |`,
        `| gapRel | ${formatGapPercent(r.gapRel)} |`,
        `| R_dec | ${formatNumber(r.rDec)} |`,
        `| R_prior | ${formatNumber(r.rPrior)} |`,
        `| ELBO | ${formatNumber(r.elbo)} ± ${formatNumber(r.elboStdErr, 2)} |`,
        `| entropy sum | ${formatNumber(r.entropySum)} |`,
        `| epoch | ${r.epoch} |`,
        ...evidenceRows(r),
      ].join('\n'),
    );
  }
  if (s.convergenceReason) blocks.push(`${kind === 'training' ? 'Latest pass: ' : ''}${md(verdictLine(s.convergence, s.convergenceReason, s))}`);
  for (const note of s.verdictNotes ?? []) blocks.push(`Stored verdict differs: ${md(note)}`);
  const foot: string[] = [];
  if (s.modelType) foot.push(`model ${md(s.modelType)}`);
  if (s.backend) foot.push(`backend ${code(s.backend)}`);
  if (s.runDir) foot.push(`run ${code(s.runDir)}`);
  if (foot.length) blocks.push(foot.join(' · '));
  blocks.push('Click to show the diagnostics panel.');
  return blocks.join('\n\n');
}

/** The evidence beside the gap, where the record has it. */
function evidenceRows(r: MetricsRecord): string[] {
  const rows: string[] = [];
  const H = r.klPerLatent.length;
  if (r.activeUnits !== undefined) rows.push(`| active units | ${r.activeUnits} of ${H} |`);
  if (r.mutualInformation !== undefined) rows.push(`| I(x; z) | ${formatNumber(r.mutualInformation)} nats |`);
  if (r.meanFieldGap !== undefined) rows.push(`| mean-field gap | ${formatNumber(r.meanFieldGap)} nats${r.decoderLinear ? ' (linear decoder)' : ''} |`);
  // null (a non-finite value) is n/a, not 0 nats.
  if (r.averagedElbo !== undefined)
    rows.push(`| averaged weights gain (this pass) | ${formatNumber(r.averagedElbo !== null && r.elbo !== null ? r.averagedElbo - r.elbo : null)} nats |`);
  if (r.elboSlope !== undefined && r.elboSlopeStdErr !== undefined)
    rows.push(`| ELBO slope | ${formatNumber(r.elboSlope)} ± ${formatNumber(r.elboSlopeStdErr, 2)} per epoch |`);
  if (r.validationElbo !== undefined) rows.push(`| validation ELBO | ${formatNumber(r.validationElbo)} |`);
  return rows;
}

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
