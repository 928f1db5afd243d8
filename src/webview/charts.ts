/**
 * The chart grid: creates the Chart.js charts from the configurations in chartConfigs.ts, updates them
 * in place when records arrive, and answers the test hook and PNG export. Rebuilt only when the shown
 * runs or the theme change.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Decimation,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
  type Plugin,
} from 'chart.js';
import {
  CHART_IDS,
  elboChart,
  entropiesChart,
  gapChart,
  latentsCaption,
  latentsChart,
  pointRadiusFor,
  type AxisMark,
  type ChartId,
  type ChartModel,
  type LatentChartModel,
  type RunView,
  type TrackedDataset,
} from './chartConfigs';
import { chartAltText } from './chartText';
import { placeMarks } from './markSpacing';
import { CURSOR_KEYS_HELP, cursorStops, moveCursor, pointReading, valueAt, type PointWords } from './chartCursor';
import { focusedKey, h, refocus } from './dom';
import { datasetVisibility, isLowerEdge, legendEntries, type DatasetLook } from './legend';
import { legendButtons } from './legendButtons';
import type { HiddenCurves } from './hiddenCurves';
import { xRange, type PassAxis } from './series';
import type { Palette } from './theme';

Chart.register(LineController, BarController, LineElement, PointElement, BarElement, LinearScale, CategoryScale, Filler, Legend, Tooltip, Decimation);

const CARDS: Record<ChartId, { title: string; subtitle: string }> = {
  [CHART_IDS.elbo]: { title: 'ELBO vs entropy sum', subtitle: 'At stationary points ELBO = H_enc − H_prior − H_dec; band ±2 s.e.' },
  [CHART_IDS.entropies]: { title: 'Entropies', subtitle: 'The three terms as they enter the sum.' },
  [CHART_IDS.gap]: { title: 'Gap and its split', subtitle: 'ELBO − entropy sum = R_dec + R_prior, exactly. Band: the tolerance.' },
  [CHART_IDS.latents]: { title: 'Per latent', subtitle: 'Second moment m_h against its target a²_h, and KL_h, at the latest pass.' },
};

/** Paints the card colour under the plot so exported PNGs are not transparent. */
function backgroundPlugin(colour: string): Plugin {
  return {
    id: 'vaeLensBackground',
    beforeDraw(chart) {
      const { ctx, width, height } = chart;
      ctx.save();
      ctx.fillStyle = colour;
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
  };
}

/** Dashed vertical lines at the marks (where a run was resumed), labelled at the top of the plot; thinned where they crowd (placeMarks). */
function marksPlugin(marks: readonly AxisMark[]): Plugin {
  return {
    id: 'vaeLensMarks',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x;
      if (!x || marks.length === 0) return;
      const { ctx, chartArea } = chart;
      ctx.save();
      ctx.setLineDash([3, 3]);
      ctx.lineWidth = 1;
      ctx.textBaseline = 'top';
      const inside = marks.filter((m) => {
        const px = x.getPixelForValue(m.x);
        return px >= chartArea.left && px <= chartArea.right;
      });
      const pixels = inside.map((m) => x.getPixelForValue(m.x));
      for (const { index, labelled } of placeMarks(
        pixels,
        inside.map((m) => ctx.measureText(m.label).width),
      )) {
        const m = inside[index]!;
        const px = pixels[index]!;
        ctx.strokeStyle = m.colour;
        ctx.fillStyle = m.colour;
        ctx.beginPath();
        ctx.moveTo(px, chartArea.top);
        ctx.lineTo(px, chartArea.bottom);
        ctx.stroke();
        if (labelled) ctx.fillText(m.label, px + 3, chartArea.top + 2);
      }
      ctx.restore();
    },
  };
}

type AnyChart = Chart<ChartType, unknown, unknown>;

/** What the board needs of a chart model, whatever its chart type. */
interface ModelShape {
  id: ChartId;
  config: ChartModel['config'] | ChartModel<'line'>['config'];
  tracked: TrackedDataset[];
  runOf: number[];
  marks?: AxisMark[];
  words: PointWords;
}

interface LiveChart {
  chart: AnyChart;
  model: ModelShape;
  card: HTMLElement;
  canvas: HTMLCanvasElement;
  /** Where the legend buttons go, and what they were last built from (rebuilt only when that changes). */
  legendSlot: HTMLElement;
  legendShape: string;
  syncLegend?: () => void;
  /** The x the keyboard cursor is at, while the chart has the focus and a key has moved it. */
  cursor?: number;
}

export class ChartBoard {
  private live = new Map<ChartId, LiveChart>();
  private latents?: LatentChartModel;
  private latentsCaption?: HTMLElement;
  private views: readonly RunView[] = [];
  private axis: PassAxis = 'epoch';
  private tail = 1;
  private palette?: Palette;
  /** Says the point under a chart's keyboard cursor; empty while no chart is read from the keyboard. */
  readonly pointReader = h('div', { className: 'vl-sr-only', attrs: { 'aria-live': 'polite', 'aria-atomic': 'true' } });

  constructor(
    private readonly grid: HTMLElement,
    /** The curve kinds switched off, per chart: kept across rebuilds (the panel saves them). */
    private readonly hidden: HiddenCurves,
    /** The runs (by folder) switched off while runs are compared. */
    private readonly hiddenRuns: Set<string>,
    private readonly onHiddenChange: () => void,
  ) {}

  /** Build every chart for these runs, their series on `axis` (on show, when the theme or the axis changes). */
  render(views: readonly RunView[], palette: Palette, axis: PassAxis): void {
    const focus = focusedKey();
    this.destroy();
    this.views = views;
    this.axis = axis;
    this.palette = palette;
    Chart.defaults.font.family = palette.fontFamily;
    Chart.defaults.font.size = Math.max(10, palette.fontSize - 1);
    Chart.defaults.color = palette.muted;
    Chart.defaults.borderColor = palette.grid;

    this.latents = latentsChart(views, palette);
    const models: ModelShape[] = [elboChart(views, palette, axis), entropiesChart(views, palette, axis), gapChart(views, palette, axis), this.latents];
    for (const model of models) {
      const canvas = h('canvas', { attrs: { id: model.id, role: 'img', 'aria-label': CARDS[model.id].title } });
      const keysId = `${model.id}-keys`;
      // The plot takes the focus and answers the arrow keys (onCursorKey): a point's values are not the mouse's alone.
      const box = h(
        'div',
        {
          className: 'vl-canvas-box',
          attrs: {
            tabindex: '0',
            role: 'application',
            'aria-roledescription': 'chart',
            'aria-label': `${CARDS[model.id].title}: read point by point`,
            'aria-describedby': keysId,
            'data-focus-key': `chart:${model.id}`,
          },
        },
        canvas,
        h('div', { className: 'vl-empty', text: 'Waiting for the first diagnostics pass…' }),
      );
      const legendSlot = h('div', { className: 'vl-legend-slot' });
      const caption = h('p', { className: 'vl-caption' });
      const card = h(
        'section',
        { className: 'vl-card vl-chart-card', attrs: { 'data-chart': model.id } },
        h(
          'header',
          { className: 'vl-card-head' },
          h('h2', { text: CARDS[model.id].title }),
          h('p', { className: 'vl-card-sub', text: CARDS[model.id].subtitle }),
        ),
        box,
        h('p', { className: 'vl-chart-keys vl-muted', text: CURSOR_KEYS_HELP, attrs: { id: keysId } }),
        legendSlot,
        caption,
      );
      if (model === this.latents) this.latentsCaption = caption;
      this.grid.append(card);
      const shown = this.visibility(model);
      model.config.data.datasets.forEach((ds, i) => (ds.hidden = !shown[i]));
      const config = { ...model.config, plugins: [backgroundPlugin(palette.card), marksPlugin(model.marks ?? [])] };
      const chart = new Chart(canvas, config as unknown as ChartConfiguration) as AnyChart;
      const live: LiveChart = { chart, model, card, canvas, legendSlot, legendShape: '' };
      box.addEventListener('keydown', (e) => this.onCursorKey(live, e));
      box.addEventListener('blur', () => this.clearCursor(live));
      this.live.set(model.id, live);
    }
    this.applyTail(true);
    this.refreshDecorations();
    refocus(this.grid, focus);
  }

  /** New points were pushed into the views' series (and records): redraw in place, no rebuild. */
  update(): void {
    this.latents?.refresh();
    this.applyTail(false);
    for (const [id, { chart, model }] of this.live) {
      const point = chart.options.elements?.point;
      if (point && id !== CHART_IDS.latents) point.radius = pointRadiusFor(model.tracked);
      chart.update('none');
    }
    for (const live of this.live.values()) this.showCursor(live);
    this.refreshDecorations();
  }

  /** Show only the last `fraction` of training on the pass axes (1 = everything). */
  setTail(fraction: number): void {
    this.tail = fraction;
    this.applyTail(true);
  }

  chartIds(): ChartId[] {
    return [...this.live.keys()];
  }

  /** The points each dataset of a chart holds (all of them, not the decimated subset drawn). */
  chartData(id: string): TrackedDataset[] {
    const live = this.live.get(id as ChartId);
    if (!live) return [];
    return live.model.tracked.map((t) => ({ label: t.label, data: t.data.map((p) => ({ x: p.x, y: p.y })) }));
  }

  /** The labels of the datasets a chart draws (the test hook's view of the legend toggles). */
  shownCurves(id: string): string[] {
    const live = this.live.get(id as ChartId);
    if (!live) return [];
    return live.model.tracked.filter((_, i) => live.chart.isDatasetVisible(i)).map((t) => t.label);
  }

  /** The text of a chart's tooltip while it shows one (the test hook's view of it). */
  tooltipOf(id: string): { title: string[]; lines: string[] } {
    const tooltip = this.live.get(id as ChartId)?.chart.tooltip;
    if (!tooltip || tooltip.getActiveElements().length === 0) return { title: [], lines: [] };
    return { title: [...tooltip.title], lines: tooltip.body.flatMap((b) => b.lines) };
  }

  /** Each chart as a PNG, with Chart.js's legend drawn in for the image (the buttons are not in it). */
  pngs(): { chart: ChartId; dataUrl: string }[] {
    return [...this.live.values()].map(({ chart, model }) => {
      const legend = chart.options.plugins?.legend;
      if (legend) legend.display = true;
      chart.update('none');
      const dataUrl = chart.toBase64Image('image/png');
      if (legend) legend.display = false;
      chart.update('none');
      return { chart: model.id, dataUrl };
    });
  }

  /** Switch a kind of curve off or on again, in every run, and remember it. */
  private toggleCurve(id: ChartId, kind: string): void {
    const live = this.live.get(id);
    if (!live) return;
    const hidden = this.hiddenOf(id);
    if (hidden.has(kind)) hidden.delete(kind);
    else hidden.add(kind);
    this.applyVisibility(live);
    live.syncLegend?.();
    this.onHiddenChange();
  }

  /** Show or hide every curve of one compared run, in every chart. */
  setRunShown(runDir: string, shown: boolean): void {
    if (shown) this.hiddenRuns.delete(runDir);
    else this.hiddenRuns.add(runDir);
    for (const live of this.live.values()) this.applyVisibility(live);
    this.onHiddenChange();
  }

  isRunShown(runDir: string): boolean {
    return !this.hiddenRuns.has(runDir);
  }

  private visibility(model: ModelShape): boolean[] {
    const hiddenRuns = new Set(this.views.flatMap((v, i) => (this.hiddenRuns.has(v.run.runDir) ? [i] : [])));
    return datasetVisibility(
      model.tracked.map((t) => t.label),
      this.views.length > 1,
      this.hiddenOf(model.id),
      model.runOf,
      hiddenRuns,
    );
  }

  private applyVisibility(live: LiveChart): void {
    this.visibility(live.model).forEach((visible, i) => live.chart.setDatasetVisibility(i, visible));
    live.chart.update('none');
    this.showCursor(live);
  }

  private shownOf(live: LiveChart): boolean[] {
    return live.model.tracked.map((_, i) => live.chart.isDatasetVisible(i));
  }

  /** Where a chart's cursor can stop: the points of its shown curves within the range its x axis shows. */
  private cursorStopsOf(live: LiveChart): number[] {
    const x = live.chart.options.scales?.x;
    const bound = (v: unknown) => (typeof v === 'number' ? v : undefined);
    return cursorStops(live.model.tracked, this.shownOf(live), { min: bound(x?.min), max: bound(x?.max) });
  }

  /** A key on a focused chart: move its cursor, show the tooltip there, and say the point. */
  private onCursorKey(live: LiveChart, e: KeyboardEvent): void {
    if (e.key === 'Escape' && live.cursor !== undefined) {
      e.preventDefault();
      return this.clearCursor(live);
    }
    const stops = this.cursorStopsOf(live);
    const next = moveCursor(stops, live.cursor, e.key);
    if (next === undefined) return;
    e.preventDefault();
    live.cursor = next;
    this.showCursor(live);
    this.pointReader.textContent = pointReading(live.model.tracked, this.shownOf(live), next, live.model.words, stops);
  }

  private clearCursor(live: LiveChart): void {
    if (live.cursor === undefined) return;
    live.cursor = undefined;
    this.showCursor(live);
    this.pointReader.textContent = '';
  }

  /**
   * Chart.js's own tooltip and hover markers at the cursor (none without one). Each curve's marker
   * is its drawn point nearest the cursor: a long run's curves are drawn decimated, so the tooltip
   * may name a neighbouring pass, while the words said (pointReading) are the cursor's own.
   */
  private showCursor(live: LiveChart): void {
    const { chart, model } = live;
    const x = live.cursor;
    const scale = chart.scales.x;
    const active: { datasetIndex: number; index: number }[] = [];
    const px = x !== undefined && scale ? scale.getPixelForValue(x) : NaN;
    if (x !== undefined && Number.isFinite(px)) {
      const shown = this.shownOf(live);
      model.tracked.forEach((t, i) => {
        if (!shown[i] || isLowerEdge(t.label) || valueAt(t.data, x) === undefined) return;
        let best = -1;
        let distance = Infinity;
        chart.getDatasetMeta(i).data.forEach((el, j) => {
          const d = Math.abs(el.x - px);
          if (d < distance) [best, distance] = [j, d];
        });
        if (best >= 0) active.push({ datasetIndex: i, index: best });
      });
    }
    if (active.length === 0 && chart.getActiveElements().length === 0) return;
    chart.setActiveElements(active);
    chart.tooltip?.setActiveElements(active, { x: active.length ? px : 0, y: chart.chartArea.top });
    chart.render();
  }

  private hiddenOf(id: ChartId): Set<string> {
    let set = this.hidden.get(id);
    if (!set) this.hidden.set(id, (set = new Set()));
    return set;
  }

  /** The legend buttons follow the curves that have points; rebuilt only when those change, keeping the focus. */
  private refreshLegend(id: ChartId, live: LiveChart): void {
    if (!this.palette) return;
    const entries = legendEntries(live.model.config.data.datasets as unknown as DatasetLook[], this.palette, this.views.length > 1);
    const shape = JSON.stringify(entries);
    if (shape === live.legendShape) return;
    live.legendShape = shape;
    const focus = focusedKey();
    const legend = legendButtons(entries, {
      chartTitle: CARDS[id].title,
      keyPrefix: `legend:${id}:`,
      isHidden: (kind) => this.hiddenOf(id).has(kind),
      toggle: (kind) => this.toggleCurve(id, kind),
    });
    live.syncLegend = legend.sync;
    live.legendSlot.replaceChildren(legend.element);
    refocus(live.legendSlot, focus);
  }

  destroy(): void {
    for (const { chart } of this.live.values()) chart.destroy();
    this.live.clear();
    this.latents = undefined;
    this.grid.replaceChildren();
  }

  /** Fit the pass axes to the data (or the chosen tail of it); redraw now only when asked and something changed. */
  private applyTail(redraw: boolean): void {
    const range = xRange(
      this.views.map((v) => v.series),
      this.tail,
    );
    for (const [id, { chart }] of this.live) {
      if (id === CHART_IDS.latents) continue;
      const x = chart.options.scales?.x;
      if (!x || (x.min === range?.min && x.max === range?.max)) continue;
      x.min = range?.min;
      x.max = range?.max;
      if (!redraw) continue;
      chart.update('none');
      this.showCursor(this.live.get(id)!);
    }
  }

  private refreshDecorations(): void {
    for (const [id, live] of this.live) {
      const { card, model, canvas } = live;
      this.refreshLegend(id, live);
      canvas.setAttribute('aria-label', chartAltText(id, CARDS[id].title, this.views, this.axis));
      const empty = model.tracked.every((t) => t.data.length === 0);
      card.classList.toggle('vl-is-empty', empty);
      if (id === CHART_IDS.latents && empty) {
        const anyRecords = this.views.some((v) => v.run.records.length > 0);
        card.querySelector('.vl-empty')!.textContent = anyRecords
          ? 'The trainer reported no per-latent statistics.'
          : 'Waiting for the first diagnostics pass…';
      }
    }
    if (this.latents && this.latentsCaption) {
      const collapsed = this.latents.collapsed();
      const H = this.views[0]?.run.records.at(-1)?.klPerLatent.length ?? 0;
      this.latentsCaption.textContent = latentsCaption(collapsed, H, this.views.length > 1 ? this.views[0]!.run.name : undefined);
      this.latentsCaption.classList.toggle('vl-caption-warn', collapsed.length > 0);
    }
  }
}
