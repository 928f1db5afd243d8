/**
 * `vae-lens report --png` pictures the whole page: a comparison of several runs, or of runs resumed
 * several times, is taller than one screen, and its figure must not end partway through the summary.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { sampleRecord } from './record-testkit';

const CHROMIUM = '/usr/bin/chromium';
const bin = path.join(__dirname, '..', '..', '..', 'bin', 'vae-lens.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-report-png-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A finished run of `passes` passes, trained in `sessions` sessions. */
function runFolder(name: string, passes: number, sessions: number): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const startedAt = '2026-01-01T00:00:00Z';
  fs.writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({
      formatVersion: 1,
      name,
      specPath: 'x.vae.json',
      startedAt,
      backend: 'cpu',
      modelType: 'VAE-1',
      latentDim: 2,
      epochs: passes,
      dataset: { n: 100, dim: 2, source: 'synthetic' },
      sessions: Array.from({ length: sessions }, (_, i) => ({
        startedAt: new Date(Date.parse(startedAt) + i * 60_000).toISOString(),
        backend: 'cpu',
        fromEpoch: Math.floor((i * passes) / sessions),
      })),
    }),
  );
  const records = Array.from({ length: passes }, (_, e) =>
    JSON.stringify(sampleRecord(e, { convergence: 'improving', convergenceReason: 'The ELBO still rises.' })),
  );
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), records.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: passes - 1 }));
  return dir;
}

/** The height of a PNG, from its IHDR chunk. */
const pngHeight = (file: string): number => fs.readFileSync(file).readUInt32BE(20);
const pngWidth = (file: string): number => fs.readFileSync(file).readUInt32BE(16);

/**
 * Whether a PNG pictures something other than one colour: its rows, filtered, hold bytes other than
 * zero past the first pixel (a plain page filters to zeros).
 */
function pictures(file: string): boolean {
  const png = fs.readFileSync(file);
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const rows = zlib.inflateSync(Buffer.concat(idat));
  const rowBytes = rows.length / pngHeight(file);
  let busy = 0;
  for (let r = 0; r < rows.length; r += rowBytes) for (let i = r + 9; i < r + rowBytes; i++) if (rows[i] !== 0) busy++;
  return busy > rows.length / 1000;
}

/** The height of the report page laid out 1400 pixels wide, as a browser shows it. */
async function pageHeight(html: string): Promise<number> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(pathToFileURL(html).href);
    await page.locator('canvas').first().waitFor();
    await page.waitForTimeout(500);
    return await page.evaluate(() => document.documentElement.scrollHeight);
  } finally {
    await browser.close();
  }
}

test(
  'report --png holds the whole page, for one run, a comparison of several and a run resumed many times',
  { timeout: 600_000, skip: !fs.existsSync(CHROMIUM) && `no ${CHROMIUM} here` },
  async () => {
    for (const [label, runs] of [
      [
        'three runs',
        [
          ['a', 20, 1],
          ['b', 30, 1],
          ['c', 5, 1],
        ],
      ],
      ['six runs', ['p', 'q', 'r', 's', 't', 'u'].map((n, i) => [n, 10 + i, 1])],
      ['a run resumed 30 times', [['resumed', 60, 30]]],
      ['one run', [['solo', 20, 1]]],
    ] as [string, [string, number, number][]][]) {
      const dirs = runs.map(([name, passes, sessions]) => runFolder(`${label.replace(/ /g, '-')}-${name}`, passes, sessions));
      const html = path.join(tmp, `${label.replace(/ /g, '-')}.html`);
      const r = spawnSync(process.execPath, [bin, 'report', ...dirs, '--out', html, '--png'], { encoding: 'utf8', timeout: 300_000 });
      assert.equal(r.status, 0, `${label}: ${r.stderr}`);
      const png = html.replace(/\.html$/, '.png');
      const shown = pngHeight(png);
      const page = await pageHeight(html);
      assert.ok(shown >= page, `${label}: the figure is ${shown} pixels tall, the page ${page}: its bottom is cut off`);
      // Not a screen of white below a short page either.
      assert.ok(shown <= page + 200, `${label}: the figure is ${shown} pixels tall for a page of ${page}`);
    }
  },
);

test(
  'report --png pictures a page taller than Chromium renders at once in numbered parts, top to bottom, and says which files it wrote',
  { timeout: 600_000, skip: !fs.existsSync(CHROMIUM) && `no ${CHROMIUM} here` },
  async () => {
    // Seventy compared runs, each resumed seven times: their headers list every session (a run
    // resumed hundreds of times folds most of its sessions away, and is no longer so tall).
    const dirs = Array.from({ length: 70 }, (_, i) => runFolder(`tall-run-${i}`, 9, 8));
    const html = path.join(tmp, 'tall.html');
    // An earlier figure of the one-piece name, and a part beyond this report's: left as they were, and said.
    const earlier = path.join(tmp, 'tall.png');
    const beyond = path.join(tmp, 'tall-9.png');
    // A PNG's signature is what makes a file an earlier figure.
    for (const f of [earlier, beyond])
      fs.writeFileSync(f, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(path.basename(f))]));
    const before = fs.readFileSync(earlier);
    const r = spawnSync(process.execPath, [bin, 'report', ...dirs, '--out', html, '--png'], { encoding: 'utf8', timeout: 500_000 });
    assert.equal(r.status, 0, r.stderr);
    const page = await pageHeight(html);
    assert.ok(page > 16_000, `the page is ${page} pixels tall: not a tall page`);
    const count = Math.ceil(page / 16_000);
    const parts = Array.from({ length: count }, (_, i) => path.join(tmp, `tall-${i + 1}.png`));
    assert.deepEqual(r.stdout.trim().split('\n'), [html, ...parts], 'the files written, in order');
    assert.match(
      r.stderr,
      new RegExp(`note: the page is \\d+ pixels tall, more than the 16000 Chromium pictures at once: its figure is in ${count} parts, top to bottom`),
    );
    assert.match(r.stderr, /note: left as they were, from an earlier report: .*tall\.png, .*tall-9\.png/);
    assert.deepEqual(fs.readFileSync(earlier), before, 'the earlier figure is not overwritten');
    const heights = parts.map(pngHeight);
    heights.slice(0, -1).forEach((h, i) => assert.equal(h, 16_000, `part ${i + 1}`));
    const total = heights.reduce((a, b) => a + b, 0);
    assert.ok(total >= page && total <= page + 200, `the parts are ${total} pixels tall together for a page of ${page}`);
    for (const part of parts) {
      assert.equal(pngWidth(part), 1400, part);
      assert.ok(pictures(part), `${part} is blank`);
    }
    assert.ok(!fs.readFileSync(parts[0]!).equals(fs.readFileSync(parts[1]!)), 'the parts picture different stretches of the page');
  },
);

test('report --png never overwrites a file named like a part of its figure that is not a PNG, and refuses before writing anything', () => {
  const dir = runFolder('guarded', 5, 1);
  const html = path.join(tmp, 'guarded.html');
  const notes = path.join(tmp, 'guarded-2.png');
  fs.writeFileSync(notes, 'my notes, not a picture');
  const r = spawnSync(process.execPath, [bin, 'report', dir, '--out', html, '--png'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--png \(beside --out\): .*guarded-2\.png exists and is not a PNG image/);
  assert.equal(fs.readFileSync(notes, 'utf8'), 'my notes, not a picture');
  assert.equal(fs.existsSync(html), false, 'nothing is written');
});
