// The convolutional example in the editor, as a user meets it: typing a layer that no longer
// fits the data underlines that layer with the shape message, putting it back clears it, and
// Train VAE on the (shortened) example charts its points in the panel, and names its image thumbnails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { repoRoot } from './paths';
import { waitForRun } from './runFolders';
import { makeWorkspace } from './specFixtures';
import { PANEL_ROOT, seriesOf, waitForPanel } from './vaeLensPanel';
import type { Problem, Workbench } from './workbench';

const SPEC = 'conv.vae.json';
/** The same spec in a file of its own for training, so the typing test cannot leave it broken. */
const TRAIN_SPEC = 'conv-train.vae.json';
const EPOCHS = 2;
/** The shipped example, on 512 images for 2 epochs, so the e2e run takes seconds. */
function convSpec(): string {
  const text = readFileSync(join(repoRoot(), 'examples/conv-fashion-mnist/conv-fashion-mnist.vae.json'), 'utf8');
  const short = text
    .replace(/"limit":\s*\d+/, '"limit": 512')
    .replace(/"epochs":\s*\d+/, `"epochs": ${EPOCHS}`)
    .replace(/"subset":\s*\d+/, '"subset": 256');
  if (!short.includes('"limit": 512') || !short.includes(`"epochs": ${EPOCHS}`)) throw new Error('e2e: the conv example changed shape');
  return short;
}
const LAST_LAYER = '{ "type": "conv2dTranspose", "filters": 1, "kernel": 4, "stride": 2 }';

describe('the convolutional example: layer diagnostics while typing, and training', { timeout: 600_000 }, () => {
  let wb: Workbench | undefined;
  let source = '';
  /** The spec as written into the workspace: the lines typed at are counted in this text. */
  let specText = '';
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };

  before(async () => {
    specText = convSpec();
    source = makeWorkspace({ [SPEC]: specText, [TRAIN_SPEC]: specText.replace('"name": "conv-fashion-mnist"', '"name": "conv-train"') });
    // The example reads Debian's Fashion-MNIST, outside the workspace.
    mkdirSync(join(source, '.vscode'));
    writeFileSync(join(source, '.vscode', 'settings.json'), JSON.stringify({ 'vaeLens.allowDataOutsideWorkspace': true }));
    wb = await launchVaeLens({ workspace: source, label: 'features-conv' });
  });

  after(async () => {
    await wb?.close();
    if (source) rmSync(source, { recursive: true, force: true });
  });

  const isShape = (p: Problem) => p.severity === 'error' && p.file === SPEC && /decoder\.layers\[3\]: output 14×14×1, the data is 28×28×1/.test(p.message);

  it('typing stride 1 into the last decoder layer shows the shape error at that layer; typing 2 back clears it', () =>
    withFailureScreenshot(wb, 'typing', async () => {
      const page = (workbench() as unknown as { page?: Page }).page;
      assert.ok(page, 'typing needs the browser page (code-server target)');
      const line = specText.split('\n').findIndex((l) => l.includes(LAST_LAYER)) + 1;
      /** Focus the editor (reading the Problems panel takes the focus), go to the layer, type over its stride. */
      const typeStride = async (stride: string) => {
        await workbench().openFile(SPEC);
        // Go to Line opens a quick input; keys typed before it shows go to the editor instead (seen
        // under load), so wait for it to open, and to close on Enter, before typing on.
        await page.keyboard.press('Control+G');
        await page.locator('.quick-input-widget').waitFor({ state: 'visible', timeout: 15_000 });
        await page.keyboard.type(String(line));
        // Enter before the picker has read the number does nothing: wait for its "go to line" row.
        await page
          .locator('.quick-input-list .monaco-list-row', { hasText: `line ${line}` })
          .first()
          .waitFor({ timeout: 15_000 });
        await page.keyboard.press('Enter');
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
        await page.keyboard.press('End');
        for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowLeft');
        await page.keyboard.press('Backspace');
        await page.keyboard.type(stride);
      };
      await typeStride('1');
      const problems = await workbench().waitForProblems((ps) => ps.some(isShape), 60_000);
      await workbench().screenshot('conv-shape-error');
      const shape = problems.find(isShape)!;
      assert.equal(shape.line, line, `the error is on the layer's line: ${JSON.stringify(shape)}`);
      await typeStride('2');
      await workbench().waitForProblems((ps) => !ps.some((p) => p.severity === 'error' && p.file === SPEC), 60_000);
      await workbench().openFile(SPEC);
      await page.keyboard.press('Control+S');
    }));

  it('Train VAE on the example charts its points', () =>
    withFailureScreenshot(wb, 'train', async () => {
      await workbench().openFile(TRAIN_SPEC);
      await workbench().runCommand('VAE Lens: Train VAE');
      const run = await waitForRun(workbench().workspaceDir, (r) => r.summary?.status === 'completed', 300_000, 'completed');
      assert.equal(run.records.length, EPOCHS + 1);
      const panel = await waitForPanel(workbench(), (p) => (p.charts['chart-elbo']?.find((d) => d.label === 'ELBO')?.data.length ?? 0) >= EPOCHS + 1, 60_000);
      const elbo = seriesOf(panel, 'chart-elbo', 'ELBO');
      assert.deepEqual(
        elbo.map((pt) => pt.x),
        run.records.map((r) => r.epoch),
      );
      for (const [i, pt] of elbo.entries()) {
        const want = run.records[i]!.elbo ?? NaN;
        assert.ok(Math.abs(pt.y - want) <= 1e-6 * Math.abs(want), `epoch ${pt.x}: chart ${pt.y}, metrics ${want}`);
      }
      // The thumbnails are images named by what they show, whose run and which pass.
      const frame = await workbench().findWebviewFrame(PANEL_ROOT, 30_000);
      // The last pass's images follow its records: wait for them rather than read the pass before.
      await frame
        .waitForFunction((epochs) => document.querySelector('.vl-thumb')?.getAttribute('aria-label')?.endsWith(`epoch ${epochs}`), EPOCHS, { timeout: 30_000 })
        .catch(() => undefined);
      const thumbs = await frame.evaluate(() =>
        Array.from(document.querySelectorAll('.vl-thumb'), (c) => `${c.getAttribute('role')} ${c.getAttribute('aria-label')}`),
      );
      assert.equal(thumbs[0], `img Training example 1 of 8, conv-train, epoch ${EPOCHS}`, thumbs.join('\n'));
      assert.ok(thumbs.includes(`img Reconstruction of training example 1, conv-train, epoch ${EPOCHS}`), thumbs.join('\n'));
      await workbench().screenshot('conv-panel');
    }));
});
