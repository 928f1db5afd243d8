/**
 * Messages between the extension host and the diagnostics webview, and the state the webview
 * persists for the serializer. Declared once as schemas (types and checks derived); both sides
 * check what they receive. The report page carries the same `show` message in a JSON island.
 */
import { array, is, literal, number, object, optional, refine, string, tagged, type Infer } from './guard';
import { datasetInfo, imageSet, metricsRecord, runStatus, sessionInfo } from './runFormat';

/** The id of the JSON island (`<script type="application/json">`) a report page carries its runs in. */
export const REPORT_DATA_ELEMENT_ID = 'vae-lens-data';

/**
 * The attribute of <html> a report page sets to its laid-out height in pixels: `report --png` reads it
 * (Chromium's --dump-dom) to make its screenshot as tall as the page.
 */
export const REPORT_HEIGHT_ATTRIBUTE = 'data-page-height';

/** The URL fragment of that measuring load: the page then drops its runs' data once read, so the DOM dumped stays small. */
export const REPORT_MEASURE_FRAGMENT = '#measure-height';

/**
 * The URL fragment, followed by a number of pixels, of a load that pictures the page from that far
 * down: Chromium renders at most about 16000 pixels at once, so `report --png` pictures a taller page in parts.
 */
export const REPORT_PART_FRAGMENT = '#from-y=';

const panelStatus = literal(...runStatus.values, 'training');

/** What the panel knows of one run. */
const panelRun = object({
  /** The run folder (absolute); also the run's identity. */
  runDir: string,
  name: string,
  modelType: string,
  backend: string,
  dataset: optional(datasetInfo),
  /** 'training' while a trainer is attached. */
  status: panelStatus,
  tolerance: number,
  epochs: number,
  records: array(metricsRecord),
  images: optional(imageSet),
  /** Why the run's images are not shown (its images.json cannot be drawn), when they are not. */
  imagesProblem: optional(string),
  message: optional(string),
  /** Why the entropy theorem does not apply to this run, when it does not. */
  theoremNote: optional(string),
  /** Where a verdict the run's files hold is not the one judged again from its passes (which the records show), saying so. */
  verdictNote: optional(string),
  /** Every process that trained the run, oldest first (run.json's `sessions`), where it records them. */
  sessions: optional(array(sessionInfo)),
});
export type PanelRun = Infer<typeof panelRun>;

const trainingProgress = object({
  epoch: number,
  epochs: number,
  epochFraction: number,
  samplesPerSec: number,
  etaSeconds: number,
});
export type TrainingProgress = Infer<typeof trainingProgress>;

// ---- host → webview ----
export const toPanel = tagged({
  /** Replace everything shown: one run, or several to compare. */
  show: object({ type: literal('show'), runs: array(panelRun) }),
  /** New diagnostics for a shown run (incremental; the panel appends, it does not redraw all). */
  append: object({
    type: literal('append'),
    runDir: string,
    records: array(metricsRecord),
    /** For a run followed from its files: where its stored verdicts differ from the judged one, now ('' where none does). */
    verdictNote: optional(string),
  }),
  status: object({ type: literal('status'), runDir: string, status: panelStatus, message: optional(string), progress: optional(trainingProgress) }),
  images: object({ type: literal('images'), runDir: string, images: imageSet }),
  /** Render every chart to PNG and send each back as `exportPng` (the Export Run command). */
  exportPngs: object({ type: literal('exportPngs'), runDir: string }),
});
export type ToPanel = Infer<typeof toPanel>;

// ---- webview → host ----
const pngDataUrl = refine(string, (s) => s.startsWith('data:image/png;base64,'), 'a data:image/png;base64 URL');
export const fromPanel = tagged({
  ready: object({ type: literal('ready') }),
  stop: object({ type: literal('stop'), runDir: string }),
  retrain: object({ type: literal('retrain'), runDir: string }),
  exportCsv: object({ type: literal('exportCsv'), runDir: string }),
  /** A chart rendered to PNG by the webview, as a data: URL. */
  exportPng: object({ type: literal('exportPng'), runDir: string, chart: string, dataUrl: pngDataUrl }),
});
export type FromPanel = Infer<typeof fromPanel>;

/**
 * What the webview stores with setState so a reloaded window can restore it from the run folders,
 * and what a user switched off: curves in each chart's legend (by chart id and curve kind), and
 * compared runs (by run folder).
 */
export const panelState = object({
  runDirs: array(string),
  hiddenCurves: optional(array(object({ chart: string, curves: array(string) }))),
  hiddenRuns: optional(array(string)),
});
export type PanelState = Infer<typeof panelState>;

export const isFromPanel = (v: unknown): v is FromPanel => is(fromPanel, v);
export const isToPanel = (v: unknown): v is ToPanel => is(toPanel, v);
export const isPanelState = (v: unknown): v is PanelState => is(panelState, v);
