/** One header row per shown run: name, model, status, progress, and (in the editor) the action buttons. */
import type { FromPanel, PanelRun, TrainingProgress } from '../core/panelProtocol';
import { explained, focusedKey, h, refocus, swatch } from './dom';
import { fmtEpoch, fmtNats, fmtPercent } from './format';
import { foldedSessionsText, foldSessionLines, sessionLines } from '../core/sessionHistory';
import { datasetKnown, progressFraction } from '../core/wording';
import { progressBarAttributes, progressText, statusView } from './status';
import { gapToleranceText } from './summary';

export interface HeaderActions {
  post(message: FromPanel): void;
  exportPng(runDir: string): void;
}

function describeRun(run: PanelRun): string {
  const parts = [run.modelType, run.backend ? `backend ${run.backend}` : ''];
  const d = run.dataset;
  if (d && datasetKnown(d)) parts.push(`${d.source} · N=${d.n} × D=${d.dim}${d.imageShape ? ` (${d.imageShape.join('×')})` : ''}`);
  else if (d) parts.push(`${d.source} · data as the script reads them`);
  return parts.filter(Boolean).join(' · ');
}

/**
 * A resumed run's sessions, one line each (engine, machine, epochs, time per epoch); nothing for a run
 * of one session. A long history folds its middle into a disclosure, whose state `open` keeps across
 * the header's rebuild at every pass (and `onToggle` reports).
 */
function sessionsBlock(run: PanelRun, idBase: string, open: boolean, onToggle: (open: boolean) => void): HTMLElement | null {
  const lines = sessionLines(run.sessions, run.records);
  if (lines.length === 0) return null;
  const line = (l: string) => h('div', { className: 'vl-run-session', text: l });
  const fold = foldSessionLines(lines);
  let folded: HTMLElement | null = null;
  if (fold.folded.length) {
    const details = h(
      'details',
      { className: 'vl-run-sessions-fold' },
      h('summary', { text: foldedSessionsText(fold), attrs: { 'data-focus-key': `${idBase}-sessions-fold` } }),
      ...fold.folded.map(line),
    );
    details.open = open;
    details.addEventListener('toggle', () => onToggle(details.open));
    folded = details;
  }
  return h(
    'div',
    { className: 'vl-run-sessions vl-muted', attrs: { 'aria-label': 'sessions' } },
    h('span', { className: 'vl-run-sessions-head', text: `Trained in ${lines.length} sessions:` }),
    ...fold.first.map(line),
    folded,
    ...fold.last.map(line),
  );
}

function button(label: string, title: string, onClick: () => void, primary = false): HTMLButtonElement {
  const b = h('button', { className: primary ? 'vl-btn vl-btn-primary' : 'vl-btn', text: label, title, attrs: { type: 'button' } });
  b.addEventListener('click', onClick);
  return b;
}

function progressBlock(run: PanelRun, progress: TrainingProgress | undefined): HTMLElement | null {
  if (run.status !== 'training') return null;
  const fraction = progress ? progressFraction(progress) : 0;
  const bar = h('div', { className: 'vl-progress-fill' });
  bar.style.width = `${(fraction * 100).toFixed(1)}%`;
  const track = h(
    'div',
    {
      className: progress ? 'vl-progress' : 'vl-progress vl-progress-waiting',
      attrs: progressBarAttributes(progress),
    },
    bar,
  );
  return h(
    'div',
    { className: 'vl-progress-block' },
    track,
    h('span', { className: 'vl-progress-text', text: progress ? progressText(progress) : 'starting…' }),
  );
}

/** The latest pass at a glance: what the theorem is about. `idBase` makes the explanations' ids unique to this run. */
function keyNumbers(run: PanelRun, idBase: string): HTMLElement {
  const r = run.records[run.records.length - 1];
  if (!r) return h('div', { className: 'vl-keys vl-muted', text: 'no diagnostics yet' });
  const item = (label: string, value: string, tone?: string, help?: string) => {
    const shown = h('span', { className: 'vl-key-value', text: value });
    return h(
      'span',
      { className: tone ? `vl-key vl-tone-${tone}` : 'vl-key' },
      h('span', { className: 'vl-key-label', text: label }),
      help ? explained(shown, help, `${idBase}-${label}`) : shown,
    );
  };
  return h(
    'div',
    { className: 'vl-keys' },
    item('epoch', fmtEpoch(r.epoch)),
    item('ELBO', fmtNats(r.elbo)),
    item('entropy sum', fmtNats(r.entropySum)),
    r.gapRel === null
      ? item('gap', fmtPercent(r.gapRel))
      : item(
          'gap',
          `${fmtPercent(r.gapRel)} ${r.gapRel <= run.tolerance ? '≤' : '>'} ${fmtPercent(run.tolerance)}`,
          r.gapRel <= run.tolerance ? 'good' : 'bad',
          gapToleranceText(r.gapRel, run.tolerance),
        ),
  );
}

export interface RunHeaderOptions {
  colour: string;
  compare: boolean;
  progress?: TrainingProgress;
  actions?: HeaderActions;
}

function actionButtons(run: PanelRun, a: HeaderActions): HTMLElement {
  return h(
    'div',
    { className: 'vl-actions' },
    run.status === 'training'
      ? button('Stop', 'Stop training (the run folder keeps everything so far)', () => a.post({ type: 'stop', runDir: run.runDir }), true)
      : button('Retrain', 'Train this spec again in a new run folder', () => a.post({ type: 'retrain', runDir: run.runDir })),
    button('Export CSV', 'Save the metrics as CSV', () => a.post({ type: 'exportCsv', runDir: run.runDir })),
    button('Export PNG', 'Save every chart as a PNG', () => a.exportPng(run.runDir)),
  );
}

/**
 * A run's header, patched in place as progress arrives. The buttons are rebuilt only when the run
 * starts or stops training, so a click is never lost to a progress update swapping the element.
 */
let headersMade = 0;

export class RunHeader {
  readonly element = h('section', { className: 'vl-run' });
  /** Unique to this header, for the ids of its explanations. */
  private readonly idBase = `vl-run-${++headersMade}`;
  private readonly main = h('div', { className: 'vl-run-main' });
  private readonly keys = h('div', { className: 'vl-keys-slot' });
  private readonly actions = h('div', { className: 'vl-actions-slot' });
  private actionsKey = '';
  /** Whether the folded sessions are shown: the header is rebuilt at every pass. */
  private sessionsOpen = false;

  constructor() {
    this.element.append(this.main, this.keys, this.actions);
  }

  update(run: PanelRun, opts: RunHeaderOptions): void {
    const status = statusView(run);
    const training = run.status === 'training';
    this.element.className = `vl-run vl-status-${status.tone}`;
    this.element.setAttribute('data-run-dir', run.runDir);
    // The status's detail is written out under the title, or else (while training) is the badge's explanation.
    const detailShown = !!status.detail && (status.tone === 'bad' || !training);
    const badge = h('span', { className: `vl-badge vl-tone-${status.tone}`, text: status.label });
    const parts: (HTMLElement | null)[] = [
      h(
        'div',
        { className: 'vl-run-title' },
        opts.compare ? swatch(opts.colour) : null,
        h('h1', { className: 'vl-run-name' }, explained(run.name, `Run folder: ${run.runDir}`, `${this.idBase}-folder`)),
        status.detail && !detailShown ? explained(badge, status.detail, `${this.idBase}-status`) : badge,
      ),
      h('div', { className: 'vl-run-meta vl-muted', text: describeRun(run) }),
      sessionsBlock(run, this.idBase, this.sessionsOpen, (open) => (this.sessionsOpen = open)),
      detailShown ? h('div', { className: 'vl-run-detail', text: status.detail }) : null,
      run.theoremNote ? h('div', { className: 'vl-run-detail vl-theorem-note', text: `Theorem does not apply: ${run.theoremNote}` }) : null,
      run.verdictNote ? h('div', { className: 'vl-run-detail vl-verdict-note', text: `Stored verdict differs: ${run.verdictNote}` }) : null,
      progressBlock(run, opts.progress),
    ];
    // Rebuilt at every pass: a focused explanation gets the focus back.
    const focus = focusedKey();
    this.main.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
    this.keys.replaceChildren(keyNumbers(run, this.idBase));
    refocus(this.element, focus);
    const key = `${run.runDir}|${training}|${!!opts.actions}`;
    if (key !== this.actionsKey) {
      this.actionsKey = key;
      // Stop pressed from the keyboard becomes Retrain: the focus goes with it rather than to the page.
      const hadFocus = this.actions.contains(document.activeElement);
      if (opts.actions) this.actions.replaceChildren(actionButtons(run, opts.actions));
      else this.actions.replaceChildren();
      if (hadFocus) this.actions.querySelector('button')?.focus();
    }
  }
}
