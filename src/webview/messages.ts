/**
 * Where the panel's input comes from: the extension host (acquireVsCodeApi exists), or a report page
 * that carries its runs in a JSON island. Every message is checked with isToPanel before use.
 */
import { unpackReportRun } from '../core/reportPayload';
import { isPanelState, isToPanel, REPORT_DATA_ELEMENT_ID, type FromPanel, type PanelState, type ToPanel } from '../core/panelProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  setState(state: unknown): void;
  getState(): unknown;
}

declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

export interface HostBridge {
  post(message: FromPanel): void;
  saveState(state: PanelState): void;
  /** What the panel saved before it was hidden or the window reloaded, if it is still of this shape. */
  savedState(): PanelState | undefined;
  listen(handler: (message: ToPanel) => void): void;
}

/** The extension host, or undefined outside a VS Code webview. */
export function connectToHost(): HostBridge | undefined {
  if (typeof acquireVsCodeApi !== 'function') return undefined;
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    saveState: (state) => api.setState(state),
    savedState: () => {
      const state = api.getState();
      return isPanelState(state) ? state : undefined;
    },
    listen(handler) {
      window.addEventListener('message', (event: MessageEvent<unknown>) => {
        if (isToPanel(event.data)) handler(event.data);
        else console.warn('VAE Lens panel: ignored a message that is not a ToPanel message', event.data);
      });
    },
  };
}

/** The `show` message a report page carries, or a reason why there is none. */
export function readReportData(doc: Document): { message: ToPanel } | { problem: string } {
  const island = doc.getElementById(REPORT_DATA_ELEMENT_ID);
  if (!island) return { problem: 'This page has no run data.' };
  return reportMessage(island.textContent ?? '');
}

/** The `show` message of a report's data island (its runs' earlier passes are written as columns: core/reportPayload.ts). */
export function reportMessage(text: string): { message: ToPanel } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: 'The run data in this page is not valid JSON.' };
  }
  const runs = (parsed as { runs?: unknown } | null)?.runs;
  const message: unknown = { type: 'show', runs: Array.isArray(runs) ? runs.map(unpackReportRun) : runs };
  return isToPanel(message) ? { message } : { problem: 'The run data in this page does not describe runs.' };
}
