// Runs "VAE Lens: Train VAE" and times it until the panel's ELBO chart holds a point of the new
// run, as the user would see it. Polls the panel every 100 ms; the trace says what each read found.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PANEL_ROOT, waitForPanel, type PanelSnapshot } from './vaeLensPanel';
import type { Workbench } from './workbench';

export interface FirstPointTiming {
  /** From opening the palette to the first point in the chart, by the webview's own clock when it could be read. */
  fromPaletteSeconds: number;
  /** From the palette closing on the command to the first point, by the webview's own clock when it could be read. */
  fromCommandSeconds: number;
  /** Same, as the test's polling first saw it (later by the driver's latency). */
  seenByDriverSeconds: number;
  /** Whether the webview's own timestamp was used. */
  inPageClock: boolean;
  /** The machine's 1-minute load average when the command ran. */
  loadAverageAtStart: number;
  panel: PanelSnapshot;
  /** "seconds after the command: what the read found", one entry per change. */
  trace: string[];
  /** Where the time went, from the webview document's own performance timeline (seconds after the command). */
  webview?: WebviewLoadTimes;
}

export interface WebviewLoadTimes {
  /** The panel's document started loading. */
  documentStartSeconds: number;
  /** Its script (dist/webview.js with Chart.js) had arrived. */
  scriptLoadedSeconds?: number;
  /** DOMContentLoaded done: the script has run and said `ready` to the extension. */
  domContentLoadedSeconds?: number;
}

interface TimelineRead {
  timeOrigin: number;
  scriptEnd?: number;
  domContentLoaded?: number;
}

async function webviewTimes(wb: Workbench, commandWallMs: number): Promise<{ load?: WebviewLoadTimes; mark?: FirstPointMark }> {
  try {
    const frame = await wb.findWebviewFrame(PANEL_ROOT, 5_000);
    const mark = await frame.evaluate(() => (globalThis as unknown as { __vaeLensFirstPoint?: FirstPointMark }).__vaeLensFirstPoint);
    const read: TimelineRead = await frame.evaluate(() => {
      // The page's own clock (this file's `performance` is Node's and is renamed by the compiler).
      const perf = (globalThis as unknown as Window).performance;
      const nav = perf.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      const script = perf.getEntriesByType('resource').find((e) => /webview\.js\b/.test(e.name)) as PerformanceResourceTiming | undefined;
      return { timeOrigin: perf.timeOrigin, scriptEnd: script?.responseEnd, domContentLoaded: nav?.domContentLoadedEventEnd };
    });
    const start = (read.timeOrigin - commandWallMs) / 1000;
    const after = (ms: number | undefined) => (ms === undefined || ms <= 0 ? undefined : Number((start + ms / 1000).toFixed(2)));
    return {
      load: {
        documentStartSeconds: Number(start.toFixed(2)),
        scriptLoadedSeconds: after(read.scriptEnd),
        domContentLoadedSeconds: after(read.domContentLoaded),
      },
      mark,
    };
  } catch {
    return {}; // The driver's own timing still stands.
  }
}

/**
 * Installed in every document: inside the panel's webview it notes the wall-clock time at which the
 * ELBO chart first holds a point of a run, checking every 20 ms. Reading that afterwards measures what
 * the user sees without the driver's own latency (attaching to a new webview frame can take seconds
 * on a busy machine). Elsewhere it gives up once its document has loaded without the hook.
 */
export const FIRST_POINT_PROBE = `(() => {
  const started = Date.now();
  const timer = setInterval(() => {
    const hook = window.__vaeLens;
    if (!hook) {
      if (document.readyState === 'complete' && Date.now() - started > 10000) clearInterval(timer);
      return;
    }
    try {
      const runDirs = hook.runDirs();
      const elbo = hook.chartData('chart-elbo').find((d) => d.label === 'ELBO');
      if (runDirs.length > 0 && elbo && elbo.data.length > 0) {
        window.__vaeLensFirstPoint = { at: Date.now(), runDir: runDirs[0] };
        clearInterval(timer);
      }
    } catch (e) {}
  }, 20);
})();`;

interface FirstPointMark {
  at: number;
  runDir: string;
}

export const elboPoints = (p: PanelSnapshot): number => p.charts['chart-elbo']?.find((d) => d.label === 'ELBO')?.data.length ?? 0;

/** `previousRunDirs`: runs the panel may already show; the point must belong to another run. */
export async function trainUntilFirstPoint(wb: Workbench, previousRunDirs: readonly string[], timeoutMs: number): Promise<FirstPointTiming> {
  const loadAverageAtStart = Number(loadavg()[0].toFixed(2));
  const paletteOpenedWallMs = Date.now();
  const paletteOpened = performance.now();
  await wb.runCommand('VAE Lens: Train VAE');
  const commandPicked = performance.now();
  const commandWallMs = Date.now();
  const trace: string[] = [];
  const isNewRun = (p: PanelSnapshot) => p.runDirs.length > 0 && !previousRunDirs.includes(p.runDirs[0]);
  const panel = await waitForPanel(
    wb,
    (p) => isNewRun(p) && elboPoints(p) > 0,
    timeoutMs,
    100,
    (p, error) => {
      const what = p ? `${isNewRun(p) ? 'new run' : 'old run'}, ${elboPoints(p)} ELBO points` : (error ?? '?');
      if (trace.at(-1)?.endsWith(what) !== true) trace.push(`${((performance.now() - commandPicked) / 1000).toFixed(2)} s: ${what}`);
    },
  );
  const arrived = performance.now();
  const seenByDriverSeconds = (arrived - commandPicked) / 1000;
  const { load, mark } = await webviewTimes(wb, commandWallMs);
  if (mark && mark.runDir === panel.runDirs[0] && mark.at >= commandWallMs) {
    return {
      fromPaletteSeconds: (mark.at - paletteOpenedWallMs) / 1000,
      fromCommandSeconds: (mark.at - commandWallMs) / 1000,
      seenByDriverSeconds,
      inPageClock: true,
      loadAverageAtStart,
      panel,
      trace,
      webview: load,
    };
  }
  return {
    fromPaletteSeconds: (arrived - paletteOpened) / 1000,
    fromCommandSeconds: seenByDriverSeconds,
    seenByDriverSeconds,
    inPageClock: false,
    loadAverageAtStart,
    panel,
    trace,
    webview: load,
  };
}
