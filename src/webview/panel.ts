/**
 * The panel's state and layout: which runs are shown, their series, progress and images, and which
 * parts of the page to redraw for each message. Appends and status changes are coalesced into one
 * redraw per animation frame, so a burst of records costs one chart update.
 */
import type { PanelRun, ToPanel, TrainingProgress } from '../core/panelProtocol';
import { asEarlierPass } from '../core/panelPayload';
import { counted } from '../core/wording';
import type { RunView, TrackedDataset } from './chartConfigs';
import { ChartBoard } from './charts';
import { focusedKey, h, refocus, swatch } from './dom';
import { hiddenFromState, hiddenToState } from './hiddenCurves';
import { RunHeader, type HeaderActions } from './header';
import { renderImages } from './images';
import type { HostBridge } from './messages';
import { normalizeRun, validImages, validRecords, withDistinctNames } from './runs';
import { appendRecords, axisAfterAppend, PASS_AXIS_TEXT, seriesFromRecords, sharedAxis, type PassAxis, type RunSeries } from './series';
import { liveAnnouncement } from './status';
import { latestPassText, renderSummaryTable, SUMMARY_TABLE_ID } from './table';
import { readPalette, runColours, type Palette } from './theme';

interface RunState {
  run: PanelRun;
  series: RunSeries;
  progress?: TrainingProgress;
}

/** Charts redraw at most this often: diagnostics are read by people, not at 60 fps, and a redraw costs a few ms per chart. */
const MIN_REDRAW_INTERVAL_MS = 100;

const TAIL_CHOICES: { label: string; fraction: number; title: (unit: string) => string }[] = [
  { label: 'All', fraction: 1, title: (unit) => `Show every ${unit}` },
  { label: 'Last 50%', fraction: 0.5, title: (unit) => `Zoom the ${unit} axes to the second half of training` },
  { label: 'Last 10%', fraction: 0.1, title: (unit) => `Zoom the ${unit} axes to the last tenth of training` },
];

export class Panel {
  private runs: RunState[] = [];
  private runHeaders = new Map<string, RunHeader>();
  private palette: Palette;
  private readonly headers = h('div', { className: 'vl-runs' });
  private readonly toolbarLabel = h('span', { className: 'vl-toolbar-label' });
  private readonly tailButtons = TAIL_CHOICES.map((choice) => {
    const b = h('button', { className: 'vl-seg', text: choice.label, attrs: { type: 'button' } });
    b.addEventListener('click', () => {
      this.tail = choice.fraction;
      this.board.setTail(choice.fraction);
      this.renderToolbar();
    });
    return b;
  });
  private readonly tailGroup = h('div', { className: 'vl-segmented', attrs: { role: 'group' } }, ...this.tailButtons);
  private toolbarNote: HTMLElement = h('div');
  private readonly toolbar = h('div', { className: 'vl-toolbar' }, this.toolbarLabel, this.tailGroup, this.toolbarNote);
  private readonly grid = h('div', { className: 'vl-grid' });
  private readonly summary = h('section', { className: 'vl-card vl-summary-card' });
  /** Shows what each row of the summary means, under its name (a hover tooltip reaches neither a keyboard nor a touch screen). */
  private readonly explainButton = h('button', {
    className: 'vl-btn vl-explain',
    text: 'Explain rows',
    attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': SUMMARY_TABLE_ID },
  });
  private explainRows = false;
  private readonly summaryHead = h(
    'header',
    { className: 'vl-card-head' },
    h('h2', { text: 'Summary', attrs: { id: 'vl-summary-title' } }),
    h('p', { className: 'vl-card-sub', text: 'Latest diagnostics pass; nats per data point.' }),
    this.explainButton,
  );
  /** Focusable, so a keyboard can scroll a table wider than the column. */
  private readonly summaryScroll = h('div', {
    className: 'vl-table-scroll',
    attrs: { tabindex: '0', role: 'region', 'aria-labelledby': 'vl-summary-title' },
  });
  private readonly imagesCard = h('section', { className: 'vl-card vl-images-card' });
  private readonly lower = h('div', { className: 'vl-lower' }, this.summary, this.imagesCard);
  private readonly emptyNotice = h('div', { className: 'vl-notice', text: 'Waiting for a run…' });
  /** The one live region: each run's state in words (liveAnnouncement), so it speaks only when that changes. */
  private readonly live = h('div', { className: 'vl-sr-only', attrs: { role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' } });
  private readonly board: ChartBoard;
  private tail = 1;
  /** What the charts' x axis counts, shared by the shown runs (sharedAxis). */
  private axis: PassAxis = 'epoch';
  private readonly saveState: () => void;
  private dirty = { charts: false, headers: false, table: false };
  private frameRequested = false;
  private lastFlush = -Infinity;

  constructor(
    private readonly root: HTMLElement,
    private readonly host?: HostBridge,
  ) {
    this.explainButton.addEventListener('click', () => {
      this.explainRows = !this.explainRows;
      this.explainButton.setAttribute('aria-expanded', String(this.explainRows));
      this.renderTable();
    });
    this.palette = readPalette();
    // The legend toggles outlive a hidden tab and a window reload: the webview state holds them.
    const saved = host?.savedState();
    const hidden = hiddenFromState(saved?.hiddenCurves);
    const hiddenRuns = new Set(saved?.hiddenRuns ?? []);
    this.board = new ChartBoard(this.grid, hidden, hiddenRuns, () => this.saveState());
    this.saveState = () => this.host?.saveState({ runDirs: this.runDirs(), hiddenCurves: hiddenToState(hidden), hiddenRuns: [...hiddenRuns] });
    root.replaceChildren(this.live, this.board.pointReader, this.headers, this.emptyNotice, this.toolbar, this.grid, this.lower);
    this.renderToolbar();
    this.setEmpty(true);
  }

  handle(message: ToPanel): void {
    switch (message.type) {
      case 'show':
        return this.show(message.runs);
      case 'append': {
        const state = this.find(message.runDir);
        if (!state) return;
        const { records, dropped } = validRecords(message.records);
        if (dropped) console.warn(`VAE Lens panel: dropped ${dropped} record(s) that break the run format`);
        const all = state.run.records;
        for (const r of records) all.push(r); // not push(...records): a long catch-up would overflow the call stack
        if (message.verdictNote !== undefined) state.run.verdictNote = message.verdictNote || undefined;
        const from = all.length - records.length;
        // Only the latest pass is drawn whole; the passes before it keep what the charts draw of them.
        for (let i = Math.max(0, from - 1); i < all.length - 1; i++) all[i] = asEarlierPass(all[i]!);
        // A pass under an epoch already charted (or a step counter that restarts) moves every run to another axis.
        const axis = axisAfterAppend(
          this.axis,
          this.runs.map((r) => r.run.records),
          state.run.records,
          from,
        );
        if (axis !== this.axis) {
          this.axis = axis;
          for (const r of this.runs) r.series = seriesFromRecords(r.run.records, r.run.tolerance, this.axis);
          return this.renderAll();
        }
        appendRecords(state.series, records, state.run.tolerance, this.axis, from);
        return this.schedule({ charts: true, headers: true, table: true });
      }
      case 'status': {
        const state = this.find(message.runDir);
        if (!state) return;
        state.run.status = message.status;
        if (message.message !== undefined) state.run.message = message.message;
        state.progress = message.progress ?? (message.status === 'training' ? state.progress : undefined);
        return this.schedule({ headers: true });
      }
      case 'images': {
        const state = this.find(message.runDir);
        if (!state) return;
        state.run.images = validImages(message.images);
        state.run.imagesProblem = undefined;
        return this.renderImages();
      }
      case 'exportPngs':
        if (this.find(message.runDir)) this.actions()?.exportPng(message.runDir);
        return;
    }
  }

  /** A problem to show instead of charts (e.g. a report page without data). */
  showProblem(text: string): void {
    this.emptyNotice.textContent = text;
    this.setEmpty(true);
  }

  /** Re-read the theme's colours and rebuild what depends on them. */
  applyTheme(): void {
    this.palette = readPalette();
    if (this.runs.length) this.renderAll();
  }

  chartData(id: string): TrackedDataset[] {
    return this.board.chartData(id);
  }

  chartIds(): string[] {
    return this.board.chartIds();
  }

  shownCurves(id: string): string[] {
    return this.board.shownCurves(id);
  }

  tooltipOf(id: string): { title: string[]; lines: string[] } {
    return this.board.tooltipOf(id);
  }

  runDirs(): string[] {
    return this.runs.map((r) => r.run.runDir);
  }

  private show(raw: PanelRun[]): void {
    let dropped = 0;
    const runs = withDistinctNames(
      raw.map((r) => {
        const n = normalizeRun(r);
        dropped += n.dropped;
        return n.run;
      }),
    );
    this.axis = sharedAxis(runs.map((r) => r.records));
    this.runs = runs.map((run) => ({ run, series: seriesFromRecords(run.records, run.tolerance, this.axis) }));
    if (dropped) console.warn(`VAE Lens panel: dropped ${dropped} record(s) that break the run format`);
    this.saveState();
    this.renderAll();
  }

  private find(runDir: string): RunState | undefined {
    const state = this.runs.find((r) => r.run.runDir === runDir);
    if (!state) console.warn(`VAE Lens panel: message for a run that is not shown: ${runDir}`);
    return state;
  }

  private views(): RunView[] {
    const colours = runColours(this.palette, this.runs.length);
    return this.runs.map((r, i) => ({ run: r.run, series: r.series, colour: colours[i]! }));
  }

  private setEmpty(empty: boolean): void {
    this.root.classList.toggle('vl-no-runs', empty);
  }

  private renderAll(): void {
    this.setEmpty(this.runs.length === 0);
    this.root.classList.toggle('vl-compare', this.runs.length > 1);
    if (this.runs.length === 0) {
      this.emptyNotice.textContent = 'No run to show.';
      this.board.destroy();
    } else {
      this.board.render(this.views(), this.palette, this.axis);
      this.board.setTail(this.tail);
    }
    this.renderHeaders();
    this.renderToolbar();
    this.renderTable();
    this.renderImages();
  }

  private schedule(parts: Partial<Panel['dirty']>): void {
    this.dirty = { charts: this.dirty.charts || !!parts.charts, headers: this.dirty.headers || !!parts.headers, table: this.dirty.table || !!parts.table };
    if (this.frameRequested) return;
    this.frameRequested = true;
    const wait = this.lastFlush + MIN_REDRAW_INTERVAL_MS - performance.now();
    if (wait > 0) setTimeout(() => requestAnimationFrame(() => this.flush()), wait);
    else requestAnimationFrame(() => this.flush());
  }

  /** Apply pending redraws now (also what the animation frame calls). */
  flush(): void {
    this.frameRequested = false;
    this.lastFlush = performance.now();
    const d = this.dirty;
    this.dirty = { charts: false, headers: false, table: false };
    if (d.charts) this.board.update();
    if (d.headers) this.renderHeaders();
    if (d.charts) this.renderToolbar();
    if (d.table) this.renderTable();
  }

  private actions(): HeaderActions | undefined {
    const host = this.host;
    if (!host) return undefined;
    return {
      post: (m) => host.post(m),
      exportPng: (runDir) => {
        for (const png of this.board.pngs()) host.post({ type: 'exportPng', runDir, chart: png.chart, dataUrl: png.dataUrl });
      },
    };
  }

  private renderHeaders(): void {
    const views = this.views();
    const compare = views.length > 1;
    const actions = this.actions();
    const next = new Map<string, RunHeader>();
    for (const [i, v] of views.entries()) {
      const header = this.runHeaders.get(v.run.runDir) ?? new RunHeader();
      header.update(v.run, { colour: v.colour, compare, progress: this.runs[i].progress, actions });
      next.set(v.run.runDir, header);
    }
    this.runHeaders = next;
    const elements = [...next.values()].map((r) => r.element);
    // Only touch the list when its membership or order changed, so the headers are never detached mid-click.
    const current = Array.from(this.headers.children);
    if (current.length !== elements.length || current.some((el, i) => el !== elements[i])) this.headers.replaceChildren(...elements);
    const said = liveAnnouncement(this.runs.map((r) => r.run));
    if (this.live.textContent !== said) this.live.textContent = said;
  }

  /**
   * The range toggles are made once and patched in place: rebuilding them on every pass took the
   * keyboard focus away from the one a user had just pressed.
   */
  private renderToolbar(): void {
    const axisText = PASS_AXIS_TEXT[this.axis];
    const axisLabel = axisText.plural[0]!.toUpperCase() + axisText.plural.slice(1);
    this.toolbarLabel.textContent = axisLabel;
    this.tailGroup.setAttribute('aria-label', `${axisLabel} shown`);
    for (const [i, choice] of TAIL_CHOICES.entries()) {
      const b = this.tailButtons[i]!;
      const on = choice.fraction === this.tail;
      b.className = on ? 'vl-seg vl-seg-on' : 'vl-seg';
      b.title = choice.title(axisText.unit);
      b.setAttribute('aria-pressed', String(on));
    }
    const views = this.views();
    const focus = focusedKey();
    const legend =
      views.length > 1
        ? h(
            'div',
            { className: 'vl-compare-legend', attrs: { role: 'group', 'aria-label': 'Runs shown in the charts' } },
            h('span', { className: 'vl-muted', text: `Comparing ${views.length} runs:` }),
            ...views.map((v) => this.runToggle(v)),
          )
        : h('div', {
            className: 'vl-muted vl-toolbar-note',
            text: views[0]?.run.records.length ? counted(views[0].run.records.length, 'diagnostics pass', 'diagnostics passes') : '',
          });
    this.toolbarNote.replaceWith(legend);
    this.toolbarNote = legend;
    refocus(this.toolbar, focus);
  }

  /**
   * A compared run's entry: a button that shows or hides its curves, so runs drawn in like colours
   * can be told apart by switching one off (and a keyboard can do it).
   */
  private runToggle(v: RunView): HTMLButtonElement {
    const shown = this.board.isRunShown(v.run.runDir);
    const b = h(
      'button',
      {
        className: shown ? 'vl-legend-item vl-compare-item' : 'vl-legend-item vl-compare-item vl-legend-off',
        attrs: { type: 'button', 'aria-pressed': String(shown), 'data-focus-key': `run:${v.run.runDir}` },
      },
      swatch(v.colour),
      v.run.name,
    );
    b.addEventListener('click', () => {
      this.board.setRunShown(v.run.runDir, !this.board.isRunShown(v.run.runDir));
      this.renderToolbar();
    });
    return b;
  }

  /** The card and its scroller stay put and only the table is swapped, so a pass moves neither the focus nor the scroll. */
  private renderTable(): void {
    if (this.runs.length === 0) return this.summary.replaceChildren();
    if (this.summary.firstChild !== this.summaryHead) this.summary.replaceChildren(this.summaryHead, this.summaryScroll);
    this.summaryScroll.replaceChildren(renderSummaryTable(this.views(), this.axis, this.explainRows));
  }

  private renderImages(): void {
    const views = this.views().filter((v) => v.run.images || v.run.imagesProblem);
    this.imagesCard.classList.toggle('vl-hidden', views.length === 0);
    if (views.length === 0) return this.imagesCard.replaceChildren();
    const compare = this.runs.length > 1;
    this.imagesCard.replaceChildren(
      h(
        'header',
        { className: 'vl-card-head' },
        h('h2', { text: 'Images' }),
        h('p', { className: 'vl-card-sub', text: 'Training examples, their reconstructions (decoder means), and samples from the prior.' }),
      ),
      ...views.map((v) =>
        h(
          'div',
          { className: 'vl-images-run' },
          compare ? h('h3', {}, swatch(v.colour), v.run.name) : null,
          renderImages(v.run.images, { runName: v.run.name, pass: latestPassText(v.run, this.axis) }, v.run.imagesProblem),
        ),
      ),
    );
  }
}
