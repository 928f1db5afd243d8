/**
 * Messages between the extension host and the diagnostics webview (and the state the
 * webview persists for the serializer). Both sides validate what they receive.
 */
import type { ImagesEvent } from './protocol';
import type { DatasetInfo, MetricsRecord, RunStatus } from './runFormat';

/** What the panel knows of one run. */
export interface PanelRun {
  /** The run folder (absolute); also the run's identity. */
  runDir: string;
  name: string;
  modelType: string;
  backend: string;
  dataset?: DatasetInfo;
  /** 'training' while a trainer is attached. */
  status: RunStatus | 'training';
  tolerance: number;
  epochs: number;
  records: MetricsRecord[];
  images?: Omit<ImagesEvent, 'type'>;
  message?: string;
  /** Why the entropy theorem does not apply to this run, when it does not. */
  theoremNote?: string;
}

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  epochFraction: number;
  samplesPerSec: number;
  etaSeconds: number;
}

// ---- host → webview ----
export type ToPanel =
  /** Replace everything shown: one run, or several to compare. */
  | { type: 'show'; runs: PanelRun[] }
  /** New diagnostics for a shown run (incremental; the panel appends, it does not redraw all). */
  | { type: 'append'; runDir: string; records: MetricsRecord[] }
  | { type: 'status'; runDir: string; status: PanelRun['status']; message?: string; progress?: TrainingProgress }
  | { type: 'images'; runDir: string; images: Omit<ImagesEvent, 'type'> }
  /** Render every chart to PNG and send each back as `exportPng` (the Export Run command). */
  | { type: 'exportPngs'; runDir: string };

// ---- webview → host ----
export type FromPanel =
  | { type: 'ready' }
  | { type: 'stop'; runDir: string }
  | { type: 'retrain'; runDir: string }
  | { type: 'exportCsv'; runDir: string }
  /** A chart rendered to PNG by the webview, as a data: URL. */
  | { type: 'exportPng'; runDir: string; chart: string; dataUrl: string };

/** What the webview stores with setState so a reloaded window can restore it from the run folders. */
export interface PanelState {
  runDirs: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

export function isFromPanel(v: unknown): v is FromPanel {
  if (!isObj(v)) return false;
  switch (v.type) {
    case 'ready':
      return true;
    case 'stop':
    case 'retrain':
    case 'exportCsv':
      return isStr(v.runDir);
    case 'exportPng':
      return isStr(v.runDir) && isStr(v.chart) && isStr(v.dataUrl) && v.dataUrl.startsWith('data:image/png;base64,');
    default:
      return false;
  }
}

export function isToPanel(v: unknown): v is ToPanel {
  if (!isObj(v)) return false;
  switch (v.type) {
    case 'show':
      return Array.isArray(v.runs) && v.runs.every((r) => isObj(r) && isStr(r.runDir) && Array.isArray(r.records));
    case 'append':
      return isStr(v.runDir) && Array.isArray(v.records);
    case 'status':
      return isStr(v.runDir) && isStr(v.status);
    case 'images':
      return isStr(v.runDir) && isObj(v.images);
    case 'exportPngs':
      return isStr(v.runDir);
    default:
      return false;
  }
}

export function isPanelState(v: unknown): v is PanelState {
  return isObj(v) && Array.isArray(v.runDirs) && v.runDirs.every(isStr);
}
