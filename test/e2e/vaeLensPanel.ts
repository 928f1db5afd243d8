// Reads the VAE Lens panel the way its own test hook exposes it: window.__vaeLens in the webview
// (src/webview/main.ts) returns, per chart, each dataset's label and its full, undecimated points.
import type { Frame } from 'playwright-core';
import type { Workbench } from './workbench';

export const PANEL_ROOT = '#vae-lens-root';

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartDataset {
  label: string;
  data: ChartPoint[];
}

/** The hook's shape as the webview defines it; only what the tests read. */
interface VaeLensHook {
  chartData(id: string): ChartDataset[];
  chartIds(): string[];
  runDirs(): string[];
}

export interface PanelSnapshot {
  chartIds: string[];
  runDirs: string[];
  /** Every chart's datasets, by chart id. */
  charts: Record<string, ChartDataset[]>;
}

/** Everything the panel's charts hold right now; throws when the hook is not installed yet. */
export async function readPanel(frame: Frame): Promise<PanelSnapshot> {
  return frame.evaluate(() => {
    const hook = (globalThis as unknown as { __vaeLens?: VaeLensHook }).__vaeLens;
    if (!hook) throw new Error('the webview has no __vaeLens test hook (yet)');
    const chartIds = hook.chartIds();
    const charts: Record<string, ChartDataset[]> = {};
    // Copy the points: the hook hands out the live arrays the charts keep appending to.
    for (const id of chartIds) charts[id] = hook.chartData(id).map((d) => ({ label: d.label, data: d.data.map((p) => ({ x: p.x, y: p.y })) }));
    return { chartIds, runDirs: hook.runDirs(), charts };
  });
}

/** One dataset's points by its exact legend label; the error lists the labels that exist. */
export function seriesOf(snapshot: PanelSnapshot, chartId: string, label: string): ChartPoint[] {
  const datasets = snapshot.charts[chartId];
  if (!datasets) throw new Error(`no chart "${chartId}" in the panel; charts: ${snapshot.chartIds.join(', ') || '(none)'}`);
  const found = datasets.find((d) => d.label === label);
  if (!found) throw new Error(`chart "${chartId}" has no dataset "${label}"; it has ${datasets.map((d) => JSON.stringify(d.label)).join(', ')}`);
  return found.data;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the panel until `accept` holds. The webview's frame is replaced whenever the panel is
 * re-created (first show, reload), so the frame is looked up again on every failed read.
 */
export async function waitForPanel(
  wb: Workbench,
  accept: (snapshot: PanelSnapshot) => boolean,
  timeoutMs: number,
  pollMs = 100,
  onRead?: (snapshot: PanelSnapshot | undefined, error?: string) => void,
): Promise<PanelSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: PanelSnapshot | undefined;
  let lastError = '';
  for (;;) {
    try {
      const frame = await wb.findWebviewFrame(PANEL_ROOT, Math.max(1_000, deadline - Date.now()));
      last = await readPanel(frame);
      onRead?.(last);
      if (accept(last)) return last;
    } catch (err) {
      lastError = err instanceof Error ? err.message.split('\n')[0] : String(err);
      onRead?.(undefined, lastError);
    }
    if (Date.now() > deadline) {
      const shot = await wb.screenshot('panel-wait-timeout').catch(() => '(no screenshot)');
      const counts = last
        ? Object.entries(last.charts)
            .map(([id, ds]) => `${id}: ${ds.map((d) => `${d.label}=${d.data.length}`).join(' ')}`)
            .join('; ')
        : '(never read)';
      throw new Error(
        `e2e: the panel did not get there within ${timeoutMs} ms; last read ${counts}; last error: ${lastError || 'none'}\n  screenshot: ${shot}`,
      );
    }
    await sleep(pollMs);
  }
}
