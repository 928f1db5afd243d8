/**
 * `vae-lens report RUN...`: a self-contained HTML page with the panel's charts (the same
 * bundled webview script, inlined), and optionally PNG figures of it rendered by headless Chromium.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import type { PanelRun } from '../core/panelProtocol';
import { readRunContents, toPanelRun } from '../core/runReader';
import { renderReportHtml } from '../webview/html';

/** dist/ when bundled (dist/cli.js), else the repo's dist/ beside src/. */
function assetPath(...parts: string[]): string {
  for (const base of [path.join(__dirname, '..'), path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')]) {
    const p = path.join(base, ...parts);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`missing build output ${parts.join('/')}: run npm run build`);
}

async function readPanelRun(runDir: string): Promise<PanelRun> {
  if (!fs.existsSync(runDir)) throw new UserError(`run folder not found: ${runDir}`, { file: runDir });
  const c = await readRunContents(path.resolve(runDir));
  if (!c.meta) throw new UserError(`${runDir} is not a run folder (no readable run.json)`, { file: runDir });
  return toPanelRun(c, false);
}

export async function writeReport(runDirs: string[], opts: { out?: string; png?: boolean }): Promise<string[]> {
  const runs = await Promise.all(runDirs.map(readPanelRun));
  const title = runs.length === 1 ? `VAE Lens report: ${runs[0]!.name}` : `VAE Lens report: ${runs.map((r) => r.name).join(', ')}`;
  const html = renderReportHtml({
    runs,
    title,
    script: fs.readFileSync(assetPath('dist', 'webview.js'), 'utf8'),
    css: fs.readFileSync(assetPath('media', 'panel.css'), 'utf8'),
  });
  const out = path.resolve(opts.out ?? path.join(runDirs[0]!, 'report.html'));
  fs.writeFileSync(out, html);
  const written = [out];
  if (opts.png) written.push(renderPng(out));
  return written;
}

/** Screenshot the report with Debian's Chromium (no network: the page is self-contained). */
function renderPng(htmlFile: string): string {
  const png = htmlFile.replace(/\.html?$/i, '') + '.png';
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));
  if (!chromium) throw new UserError('--png needs Chromium (apt-get install chromium)');
  execFileSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      '--virtual-time-budget=4000',
      `--screenshot=${png}`,
      '--window-size=1400,1800',
      `file://${htmlFile}`,
    ],
    { stdio: 'ignore', timeout: 60_000 },
  );
  return png;
}
