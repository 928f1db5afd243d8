/**
 * The diagnostics panel's entry point (bundled by esbuild as an IIFE into dist/webview.js).
 * In a VS Code webview it talks to the extension host; on a report page it reads the runs the page
 * carries and hides the buttons.
 */
import type { TrackedDataset } from './chartConfigs';
import { REPORT_DATA_ELEMENT_ID, REPORT_HEIGHT_ATTRIBUTE, REPORT_MEASURE_FRAGMENT, REPORT_PART_FRAGMENT } from '../core/panelProtocol';
import { connectToHost, readReportData } from './messages';
import { Panel } from './panel';
import { observeTheme } from './theme';

/** Read-only hook for end-to-end tests: what the charts hold. */
export interface VaeLensTestHook {
  chartData(id: string): TrackedDataset[];
  chartIds(): string[];
  runDirs(): string[];
  /** The labels of a chart's datasets that are drawn (not switched off in its legend). */
  shownCurves(id: string): string[];
  /** What a chart's tooltip says while it is shown (by the mouse or the keyboard cursor); empty lists when it is not. */
  tooltipOf(id: string): { title: string[]; lines: string[] };
}

declare global {
  interface Window {
    __vaeLens?: VaeLensTestHook;
  }
}

function start(): void {
  const root = document.getElementById('vae-lens-root') ?? document.body.appendChild(document.createElement('main'));
  root.classList.add('vl-root');
  const host = connectToHost();
  const panel = new Panel(root, host);
  observeTheme(() => panel.applyTheme());
  window.__vaeLens = Object.freeze({
    chartData: (id: string) => panel.chartData(id),
    chartIds: () => panel.chartIds(),
    runDirs: () => panel.runDirs(),
    shownCurves: (id: string) => panel.shownCurves(id),
    tooltipOf: (id: string) => panel.tooltipOf(id),
  });

  if (host) {
    host.listen((message) => panel.handle(message));
    host.post({ type: 'ready' });
    return;
  }
  document.body.classList.add('vl-report');
  const data = readReportData(document);
  if (location.hash === REPORT_MEASURE_FRAGMENT) document.getElementById(REPORT_DATA_ELEMENT_ID)?.remove();
  if ('message' in data) panel.handle(data.message);
  else panel.showProblem(data.problem);
  markPageHeight();
  showFromPartTop();
}

/** For a part of a tall page's figure: the page moved up so that the window starts where the part does. */
function showFromPartTop(): void {
  if (!location.hash.startsWith(REPORT_PART_FRAGMENT)) return;
  const top = Number(location.hash.slice(REPORT_PART_FRAGMENT.length));
  // A transform, not a scroll: the window of the last part is only as tall as what is left of the page.
  if (Number.isInteger(top) && top > 0) document.body.style.transform = `translateY(-${top}px)`;
}

/** Says the page's height on <html>, now and once the charts have drawn, for `report --png`. */
function markPageHeight(): void {
  const mark = () => document.documentElement.setAttribute(REPORT_HEIGHT_ATTRIBUTE, String(Math.ceil(document.documentElement.scrollHeight)));
  mark();
  requestAnimationFrame(mark);
  setTimeout(mark, 500);
}

start();
