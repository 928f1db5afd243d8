/**
 * `vae-lens report --png` pictures the whole page: a comparison of several runs, or a run resumed
 * many times, is taller than one screen, and its figure must not end partway through the summary.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
