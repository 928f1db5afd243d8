// The figure of an experiment: its `vae-lens report` page in headless Chromium, zoomed to the second
// half of training (the panel's "Last 50%" button), the whole page. `report --png` shows every epoch,
// and there the untrained model of epoch 0 sets the vertical scale of every chart; the zoom lets the
// axes fit what is left to see: the ELBO and the entropy sum meeting, and the gap's split.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export async function renderZoomedFigure(htmlFile, pngFile, { tailLabel = 'Last 50%', width = 1400 } = {}) {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width, height: 1000 } });
    await page.goto(`file://${htmlFile}`);
    await page.locator('canvas').first().waitFor();
    await page.getByRole('button', { name: tailLabel }).click();
    // The panel throttles redraws to 10 per second; give the charts a few frames to settle.
    await page.waitForTimeout(800);
    await page.screenshot({ path: pngFile, fullPage: true });
  } finally {
    await browser.close();
  }
}
