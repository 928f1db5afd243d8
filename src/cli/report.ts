/**
 * `vae-lens report RUN...`: a self-contained HTML page with the panel's charts (the same
 * bundled webview script, inlined), and optionally PNG figures of it rendered by headless Chromium.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { shownPath, UserError } from '../core/errors';
import { RUN_FILES } from '../core/runFormat';
import { describeWriteError, replaceFileAtomic } from '../core/safeWrite';
import { REPORT_HEIGHT_ATTRIBUTE, REPORT_MEASURE_FRAGMENT, REPORT_PART_FRAGMENT, type PanelRun } from '../core/panelProtocol';
import { readRunContents, runFolderNotes } from '../core/run/read';
import { nearbyRunsHint } from '../core/run/nearbyRuns';
import { toPanelRun } from '../core/panelRun';
import { renderReportHtml } from '../pages/html';

/** dist/ when bundled (dist/cli.js), else the repo's dist/ beside src/. */
function assetPath(...parts: string[]): string {
  for (const base of [path.join(__dirname, '..'), path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')]) {
    const p = path.join(base, ...parts);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`missing build output ${parts.join('/')}: run npm run build`);
}

/** A run's panel view and what in its folder could not be used (bad metrics lines by number, unread files). */
async function readPanelRun(runDir: string): Promise<{ run: PanelRun; warnings: string[] }> {
  if (!fs.existsSync(runDir)) throw new UserError(`run folder not found: ${shownPath(runDir)}`, { file: runDir });
  if (!fs.statSync(runDir).isDirectory())
    throw new UserError(`${shownPath(runDir)} is not a run folder: it is a file, not a folder${nearbyRunsHint(runDir)}`, { file: runDir });
  const c = await readRunContents(path.resolve(runDir));
  if (!c.meta)
    throw new UserError(`${shownPath(runDir)} is not a run folder (no readable run.json with "name", "specPath" and "startedAt")${nearbyRunsHint(runDir)}`, {
      file: path.join(runDir, RUN_FILES.meta),
    });
  return { run: toPanelRun(c, false), warnings: runFolderNotes(c) };
}

export interface ReportOutput {
  written: string[];
  /** Located notes on what the report left out, for stderr. */
  warnings: string[];
  /** What the user should know of what was written (a figure in parts), for stderr. */
  notes: string[];
}

export async function writeReport(given: string[], opts: { out?: string; png?: boolean }): Promise<ReportOutput> {
  const { runDirs, notes } = distinctRunDirs(given);
  const read = await Promise.all(runDirs.map(readPanelRun));
  const runs = read.map((r) => r.run);
  const out = path.resolve(opts.out ?? path.join(runDirs[0]!, 'report.html'));
  checkReportTarget(out, opts.out !== undefined);
  if (opts.png) for (const png of pngTargetsOf(out)) checkPngTarget(png, opts.out !== undefined);
  const title = runs.length === 1 ? `VAE Lens report: ${runs[0]!.name}` : `VAE Lens report: ${runs.map((r) => r.name).join(', ')}`;
  const html = renderReportHtml({
    runs,
    title,
    script: fs.readFileSync(assetPath('dist', 'webview.js'), 'utf8'),
    css: fs.readFileSync(assetPath('media', 'panel.css'), 'utf8'),
  });
  try {
    replaceFileAtomic(out, html);
  } catch (e) {
    throw describeWriteError(e, out, 'Choose another file with --out.');
  }
  const written = [out];
  const figureNotes: string[] = [];
  if (opts.png) {
    const figure = renderPng(out);
    written.push(...figure.files);
    figureNotes.push(...figure.notes);
  }
  return { written, warnings: [...notes, ...read.flatMap((r) => r.warnings)], notes: figureNotes };
}

/**
 * The run folders named, each once: the same folder spelled twice (a trailing slash, ./R, a
 * symbolic link to it) would be charted twice, as two runs with one name.
 */
function distinctRunDirs(given: string[]): { runDirs: string[]; notes: string[] } {
  const first = new Map<string, string>();
  const same = new Map<string, string[]>();
  for (const dir of given) {
    const key = canonical(dir);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, dir);
    else same.set(earlier, [...(same.get(earlier) ?? []), dir]);
  }
  const notes = [...same].map(
    ([dir, others]) => `one run folder is named ${others.length + 1} times (${[dir, ...others].map(shownPath).join(', ')}); it is charted once`,
  );
  return { runDirs: [...first.values()], notes };
}

/** The folder a name stands for: links resolved where it exists, else its absolute spelling (readPanelRun says it is missing). */
function canonical(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** The report's file: its folder must exist, and it must not be a folder or a link. Checked before any work. */
function checkReportTarget(out: string, given: boolean): void {
  const where = given ? '--out' : 'the report';
  const dir = path.dirname(out);
  let dirStat: fs.Stats | undefined;
  try {
    dirStat = fs.statSync(dir);
  } catch {
    dirStat = undefined;
  }
  if (!dirStat?.isDirectory())
    throw new UserError(`${where}: the folder ${shownPath(dir)} does not exist; create it first or choose another file`, {
      file: out,
      field: given ? '--out' : undefined,
    });
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(out);
  } catch {
    return; // a new file
  }
  if (st.isSymbolicLink())
    throw new UserError(`${where}: ${shownPath(out)} is a symbolic link; VAE Lens does not write through links. Remove it or choose another file`, {
      file: out,
      field: given ? '--out' : undefined,
    });
  if (!st.isFile())
    throw new UserError(`${where}: ${shownPath(out)} is a folder or another non-file; give the name of an .html file`, {
      file: out,
      field: given ? '--out' : undefined,
    });
  // Replacing an earlier report is the point of the command; replacing anything else (a run's own
  // metrics.jsonl, a spec, a script) would lose it.
  if (!looksLikeHtml(out))
    throw new UserError(
      `${where}: ${shownPath(out)} exists and is not an HTML page; a report replaces only an earlier report. Choose another file, or remove it first`,
      {
        file: out,
        field: given ? '--out' : undefined,
      },
    );
}

/**
 * The PNG beside the report (Chromium writes it, following links): like the report, it replaces only
 * an earlier PNG, never a link, a folder or another file of that name.
 */
function checkPngTarget(png: string, given: boolean): void {
  const where = given ? '--png (beside --out)' : '--png';
  const at = { file: png, field: given ? '--out' : undefined };
  let st: fs.Stats;
  try {
    st = fs.lstatSync(png);
  } catch {
    return; // a new file
  }
  if (st.isSymbolicLink())
    throw new UserError(`${where}: ${shownPath(png)} is a symbolic link; VAE Lens does not write through links. Remove it or choose another --out`, at);
  if (!st.isFile()) throw new UserError(`${where}: ${shownPath(png)} is a folder or another non-file; remove it or choose another --out`, at);
  if (!startsWith(png, (head) => head.length === 0 || PNG_SIGNATURE.equals(head.subarray(0, PNG_SIGNATURE.length))))
    throw new UserError(
      `${where}: ${shownPath(png)} exists and is not a PNG image; the figure replaces only an earlier one. Choose another --out, or remove it first`,
      at,
    );
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether the file starts as an HTML page does (an empty file counts: nothing to lose). */
function looksLikeHtml(file: string): boolean {
  // \s also matches a byte-order mark.
  return startsWith(file, (head) => head.length === 0 || /^\s*<(!doctype html|html)/i.test(head.toString('utf8')));
}

/** `test` on the file's first 256 bytes; false where it cannot be read. */
function startsWith(file: string, test: (head: Buffer) => boolean): boolean {
  const head = Buffer.alloc(256);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    return test(head.subarray(0, fs.readSync(fd, head, 0, head.length, 0)));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The report's name without .html, which its figures' names start with. */
const figureBase = (htmlFile: string) => htmlFile.replace(/\.html?$/i, '');

/** The figure's files: the report's name with .png for .html, or for a page in parts, -1.png, -2.png... top to bottom. */
function pngPathsOf(htmlFile: string, parts: number): string[] {
  const base = figureBase(htmlFile);
  return parts === 1 ? [`${base}.png`] : Array.from({ length: parts }, (_, i) => `${base}-${i + 1}.png`);
}

/**
 * Every file a figure of the report may be written to that is there now: its one PNG, and any part
 * (-1.png, -2.png...). Checked before any work, as the page's height, and so the parts, are known only once it is laid out.
 */
function pngTargetsOf(htmlFile: string): string[] {
  const base = figureBase(htmlFile);
  const part = new RegExp(`^${escapeRegExp(path.basename(base))}-\\d+\\.png$`);
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.dirname(base)).filter((n) => part.test(n));
  } catch {
    names = []; // the report's folder was checked first: a folder that cannot be listed has no parts to lose
  }
  return [`${base}.png`, ...names.map((n) => path.join(path.dirname(base), n))];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Chromium gets this long to lay out, then to render, the page; a page it cannot render within it is reported, not waited for. */
const PNG_TIMEOUT_MS = 60_000;

/** The screenshot's width, and its height where the page does not say its own. */
const PNG_WIDTH = 1400;
const PNG_FALLBACK_HEIGHT = 1800;
/** The tallest picture Chromium renders whole (its limit is 16384 pixels); a taller page is pictured in parts of this height. */
export const PNG_PART_HEIGHT = 16_000;

/**
 * Screenshot the report with Debian's Chromium (no network: the page is self-contained), the whole
 * page: in one PNG, or where it is taller than Chromium pictures at once, in parts top to bottom.
 */
function renderPng(htmlFile: string): { files: string[]; notes: string[] } {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));
  if (!chromium) throw new UserError('--png needs Chromium (apt-get install chromium)');
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--hide-scrollbars',
    '--virtual-time-budget=4000',
  ];
  // pathToFileURL encodes "#", "%", spaces...: a plain "file://" + path cuts the path at "#".
  const url = pathToFileURL(htmlFile).href;
  const run = (args: string[], at: string) =>
    // The measuring load's DOM holds the inlined script, not the runs' data (the page drops them).
    execFileSync(chromium, [...flags, ...args, at], { stdio: ['ignore', 'pipe', 'ignore'], timeout: PNG_TIMEOUT_MS, maxBuffer: 256 << 20 });
  let files: string[] = [];
  let height = PNG_FALLBACK_HEIGHT;
  try {
    // A window of a fixed height would cut a taller page (several runs, many sessions) off partway.
    const laidOut = run([`--window-size=${PNG_WIDTH},${PNG_FALLBACK_HEIGHT}`, '--dump-dom'], url + REPORT_MEASURE_FRAGMENT).toString('utf8', 0, 4096);
    const said = Number(new RegExp(`<html[^>]*\\s${REPORT_HEIGHT_ATTRIBUTE}="(\\d+)"`).exec(laidOut)?.[1]);
    height = Number.isFinite(said) && said > 0 ? said : PNG_FALLBACK_HEIGHT;
    const parts = Math.ceil(height / PNG_PART_HEIGHT);
    files = pngPathsOf(htmlFile, parts);
    files.forEach((png, i) => {
      const top = i * PNG_PART_HEIGHT;
      const partHeight = Math.min(PNG_PART_HEIGHT, height - top);
      run([`--screenshot=${png}`, `--window-size=${PNG_WIDTH},${partHeight}`], top === 0 ? url : `${url}${REPORT_PART_FRAGMENT}${top}`);
    });
  } catch (e) {
    const timedOut = (e as NodeJS.ErrnoException).code === 'ETIMEDOUT' || (e as { signal?: string }).signal === 'SIGTERM';
    throw new UserError(
      timedOut
        ? `--png: Chromium did not render ${shownPath(htmlFile)} within ${PNG_TIMEOUT_MS / 1000} s; the HTML report is written`
        : `--png: Chromium failed on ${shownPath(htmlFile)} (${(e as Error).message.split('\n')[0]}); the HTML report is written`,
      { file: htmlFile },
    );
  }
  const missing = files.find((png) => !fs.existsSync(png));
  if (missing !== undefined) throw new UserError(`--png: Chromium wrote no screenshot ${shownPath(missing)}; the HTML report is written`, { file: missing });
  const notes =
    files.length > 1
      ? [
          `the page is ${height} pixels tall, more than the ${PNG_PART_HEIGHT} Chromium pictures at once: its figure is in ${files.length} parts, top to bottom (${files.map((f) => path.basename(f)).join(', ')})`,
        ]
      : [];
  // A figure of an earlier report, in another number of parts, is not of this one: it is left, and said.
  const stale = pngTargetsOf(htmlFile).filter((f) => !files.includes(f) && fs.existsSync(f));
  if (stale.length > 0) notes.push(`left as they were, from an earlier report: ${stale.map(shownPath).join(', ')}`);
  return { files, notes };
}
