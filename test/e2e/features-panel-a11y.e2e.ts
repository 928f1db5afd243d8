// The diagnostics panel for a keyboard and a screen reader, while a run trains: every control has a
// name and is reached by Tab; a range toggled with Enter or Space keeps the focus as points arrive;
// Stop pressed from the keyboard leaves the focus on the button that takes its place; the one live
// region says the run's state without a word per pass; each chart's canvas names its latest values;
// the legends are buttons that toggle curves, kept through redraws and a reload; the summary's row
// explanations and the header's are reachable by keyboard, nothing is said only on hover.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Frame, Page } from 'playwright-core';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { trainUntilRunning, waitForRun } from './runFolders';
import { makeWorkspace, swissRollVariant } from './specFixtures';
import { elboPoints } from './trainTiming';
import { PANEL_ROOT, waitForPanel } from './vaeLensPanel';
import type { Workbench } from './workbench';

const EPOCHS = 3000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The focused element in the panel: its tag, text or name, and pressed state. */
async function focused(frame: Frame): Promise<{ tag: string; name: string; pressed: string | null }> {
  return frame.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', name: '', pressed: null };
    return { tag: el.tagName.toLowerCase(), name: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim(), pressed: el.getAttribute('aria-pressed') };
  });
}

describe('the panel by keyboard and screen reader, while training', { timeout: 600_000 }, () => {
  let wb: Workbench | undefined;
  let source = '';
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };
  const page = (): Page => {
    const p = (workbench() as unknown as { page?: Page }).page;
    if (!p) throw new Error('keyboard input needs the browser page (code-server target)');
    return p;
  };

  before(async () => {
    source = makeWorkspace({ 'long.vae.json': swissRollVariant('a11y-long', EPOCHS) });
    wb = await launchVaeLens({ workspace: source, label: 'features-panel-a11y' });
  });

  after(async () => {
    await wb?.close();
    if (source) rmSync(source, { recursive: true, force: true });
  });

  it('names, Tab order, focus kept through redraws, a quiet live region, and charts in words', () =>
    withFailureScreenshot(wb, 'panel-a11y', async () => {
      const w = workbench();
      await w.openFile('long.vae.json');
      await w.waitForStatusBar(/^VAE\b/, 120_000);
      const { running } = await trainUntilRunning(w, EPOCHS);
      await waitForPanel(w, (p) => p.runDirs.includes(running.dir) && elboPoints(p) >= 3, 60_000);
      const frame = await w.findWebviewFrame(PANEL_ROOT, 30_000);

      // Two polite live regions, neither the whole page: the runs' state, and the chart point read
      // from the keyboard (silent until a chart is read).
      const live = await frame.evaluate(() => {
        const regions = Array.from(document.querySelectorAll('[aria-live], [role="status"], [role="alert"]'));
        return regions.map((r) => ({ id: r.id, live: r.getAttribute('aria-live'), role: r.getAttribute('role'), text: r.textContent ?? '' }));
      });
      assert.equal(live.length, 2, `live regions: ${JSON.stringify(live)}`);
      for (const r of live) assert.notEqual(r.id, 'vae-lens-root', 'the page root is a live region: every redraw is read out');
      for (const r of live) assert.equal(r.live ?? 'polite', 'polite');
      assert.match(live[0]!.text, /^a11y-long: Training/);
      assert.equal(live[1]!.text, '', 'the point reader speaks before a chart is read');

      // Over several passes the live region speaks only when a run's state changes, not per pass.
      // (The verdict may really change more than once meanwhile: it is counted, not bounded.)
      await frame.evaluate(() => {
        const region = document.querySelector('[role="status"]')!;
        const said: string[] = [region.textContent ?? ''];
        (globalThis as unknown as { __said: string[] }).__said = said;
        new MutationObserver(() => said.push(region.textContent ?? '')).observe(region, { childList: true, characterData: true, subtree: true });
      });
      const before = elboPoints(await waitForPanel(w, () => true, 10_000));
      const after = elboPoints(await waitForPanel(w, (p) => elboPoints(p) >= before + 6, 60_000));
      const said = await frame.evaluate(() => (globalThis as unknown as { __said: string[] }).__said);
      for (let i = 1; i < said.length; i++) assert.notEqual(said[i], said[i - 1], `said again without a change of state: ${JSON.stringify(said)}`);
      assert.ok(said.length - 1 < after - before, `${said.length - 1} announcements over ${after - before} passes: ${JSON.stringify(said)}`);

      // Every control has a name; canvases are images named by their latest values; the progress bar is named.
      const unnamed = await frame.evaluate(() =>
        Array.from(document.querySelectorAll('button, [role="button"], [tabindex]'))
          .filter((el) => !(el.getAttribute('aria-label') ?? el.textContent ?? '').trim())
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      assert.deepEqual(unnamed, [], 'controls without an accessible name');
      const canvases = await frame.evaluate(() =>
        Array.from(document.querySelectorAll('.vl-chart-card canvas')).map((c) => ({
          role: c.getAttribute('role'),
          label: c.getAttribute('aria-label') ?? '',
        })),
      );
      assert.equal(canvases.length, 4);
      for (const c of canvases) assert.equal(c.role, 'img');
      assert.match(canvases[0]!.label, /ELBO -?\d+\.\d+, entropy sum -?\d+\.\d+/, canvases[0]!.label);
      assert.match(canvases[2]!.label, /(within|above) the [\d.]+ % tolerance/, canvases[2]!.label);
      const bar = await frame.evaluate(() => document.querySelector('[role="progressbar"]')?.getAttribute('aria-label') ?? '');
      assert.equal(bar, 'Training progress');

      // Tab from the first control reaches every button, in reading order.
      await frame.focus('.vl-actions .vl-btn');
      const order: string[] = [];
      for (let i = 0; i < 7; i++) {
        order.push((await focused(frame)).name);
        await page().keyboard.press('Tab');
      }
      assert.deepEqual(order.slice(0, 6), ['Stop', 'Export CSV', 'Export PNG', 'All', 'Last 50%', 'Last 10%'], `Tab order: ${JSON.stringify(order)}`);

      // Past the range toggles Tab reaches the first chart, which reads its points to the arrow keys
      // (Chart.js's tooltip drawn there, the values said in the live region), then its legend.
      assert.equal(order[6], 'ELBO vs entropy sum: read point by point', `Tab order: ${JSON.stringify(order)}`);
      const reading = () => frame.evaluate(() => document.querySelectorAll('[aria-live]')[1]?.textContent ?? '');
      const tooltip = () =>
        frame.evaluate(() => {
          const chart = (globalThis as unknown as { __vaeLens: { tooltipOf(id: string): { title: string[]; lines: string[] } } }).__vaeLens;
          return chart.tooltipOf('chart-elbo');
        });
      await page().keyboard.press('Shift+Tab');
      await page().keyboard.press('Home');
      assert.match(await reading(), /^epoch 0: ELBO ± 2 s\.e\. from -?\d+\.\d+ to -?\d+\.\d+, ELBO -?\d+\.\d+, Entropy sum -?\d+\.\d+.*, point 1 of \d+$/);
      assert.deepEqual((await tooltip()).title, ['epoch 0'], 'the tooltip is drawn at the first pass');
      await page().keyboard.press('ArrowRight');
      await page().keyboard.press('ArrowRight');
      const second = await reading();
      assert.match(second, /^epoch 2: .*point 3 of \d+$/);
      const tip = await tooltip();
      assert.deepEqual(tip.title, ['epoch 2']);
      // What is said is what the tooltip writes, curve by curve.
      const elboLine = tip.lines.find((l) => l.startsWith(' ELBO: '));
      assert.ok(elboLine && second.includes(`ELBO ${elboLine.slice(' ELBO: '.length)},`), `${JSON.stringify(tip)} against ${second}`);
      await page().keyboard.press('End');
      const latest = await reading();
      const [, k, n] = /point (\d+) of (\d+)$/.exec(latest) ?? [];
      assert.ok(k && k === n && Number(n) >= 3, latest);
      await page().keyboard.press('Escape');
      assert.deepEqual(await tooltip(), { title: [], lines: [] }, 'Escape puts the tooltip away');
      assert.equal(await reading(), '');
      await page().keyboard.press('Tab');
      assert.deepEqual(await focused(frame), { tag: 'button', name: 'ELBO ± 2 s.e.', pressed: 'true' }, 'the legend follows its chart');
      // The legends are buttons: Enter on one hides its curve and flips aria-pressed, and both hold
      // through the redraws of new passes.
      await page().keyboard.press('Tab');
      await page().keyboard.press('Tab');
      assert.deepEqual(await focused(frame), { tag: 'button', name: 'Entropy sum', pressed: 'true' }, 'the third legend button');
      await page().keyboard.press('Enter');
      const shownNow = () =>
        frame.evaluate(() => (globalThis as unknown as { __vaeLens: { shownCurves(id: string): string[] } }).__vaeLens.shownCurves('chart-elbo'));
      assert.deepEqual(await focused(frame), { tag: 'button', name: 'Entropy sum', pressed: 'false' }, 'Enter on Entropy sum');
      assert.ok(!(await shownNow()).includes('Entropy sum') && (await shownNow()).includes('ELBO'), JSON.stringify(await shownNow()));
      const passes = elboPoints(await waitForPanel(w, () => true, 10_000));
      await waitForPanel(w, (p) => elboPoints(p) >= passes + 2, 60_000);
      assert.deepEqual(await focused(frame), { tag: 'button', name: 'Entropy sum', pressed: 'false' }, 'after two more passes');
      assert.ok(!(await shownNow()).includes('Entropy sum'), 'the curve came back with a redraw');
      await page().keyboard.press('Space');
      assert.ok((await shownNow()).includes('Entropy sum'), 'Space shows it again');
      await page().keyboard.press('Space');

      // What each summary row means is a button press away, and a row header is described by it.
      await frame.focus('.vl-explain');
      await page().keyboard.press('Enter');
      const rowHelp = await frame.evaluate(() => {
        const th = document.querySelector('.vl-summary tbody th')!;
        const help = document.getElementById(th.getAttribute('aria-describedby') ?? '');
        return {
          expanded: document.activeElement?.getAttribute('aria-expanded'),
          text: help?.textContent ?? '',
          shown: !!(help as HTMLElement | null)?.offsetParent,
        };
      });
      assert.deepEqual(rowHelp, { expanded: 'true', text: 'Sampled ELBO per data point (nats) ± its standard error', shown: true });

      // Nothing is said only on hover: a title is left only on buttons (where it is also their
      // description) and on row headers described by their explanation. The run folder is an
      // explanation that Tab reaches, shown on focus.
      const titled = await frame.evaluate(() =>
        Array.from(document.querySelectorAll('#vae-lens-root [title]'))
          .filter((el) => el.tagName !== 'BUTTON' && !(el.tagName === 'TH' && el.hasAttribute('aria-describedby')))
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      assert.deepEqual(titled, [], 'hover-only explanations');
      await frame.focus('.vl-run-name .vl-term');
      const folderTip = await frame.evaluate(() => {
        const tip = document.getElementById(document.activeElement?.getAttribute('aria-describedby') ?? '');
        return { text: tip?.textContent ?? '', shown: !!(tip as HTMLElement | null)?.offsetParent };
      });
      assert.ok(folderTip.shown && folderTip.text === `Run folder: ${running.dir}`, JSON.stringify(folderTip));

      // A range toggled from the keyboard keeps the focus, through the redraws of new passes too.
      await frame.focus('.vl-seg >> text="Last 50%"');
      await page().keyboard.press('Enter');
      assert.deepEqual(await focused(frame), { tag: 'button', name: 'Last 50%', pressed: 'true' }, 'Enter on Last 50%');
      const points = elboPoints(await waitForPanel(w, () => true, 10_000));
      await waitForPanel(w, (p) => elboPoints(p) >= points + 3, 60_000);
      assert.deepEqual(await focused(frame), { tag: 'button', name: 'Last 50%', pressed: 'true' }, 'after three more passes');
      await page().keyboard.press('Shift+Tab');
      await page().keyboard.press('Space');
      assert.deepEqual(await focused(frame), { tag: 'button', name: 'All', pressed: 'true' }, 'Space on All');

      // Stop from the keyboard: the focus moves to the button that replaces it, not to nowhere.
      await frame.focus('.vl-actions .vl-btn-primary');
      await page().keyboard.press('Enter');
      await waitForRun(w.workspaceDir, (r) => r.dir === running.dir && r.summary?.status === 'stopped', 30_000, 'stopped');
      const deadline = Date.now() + 15_000;
      while ((await frame.evaluate(() => document.querySelector('.vl-actions .vl-btn')?.textContent)) !== 'Retrain' && Date.now() < deadline) await sleep(200);
      assert.deepEqual(await focused(frame), { tag: 'button', name: 'Retrain', pressed: null }, 'after Stop');
      await w.screenshot('panel-a11y');

      // A window reload restores the panel (its serializer) with the curve still switched off.
      await w.reloadWindow();
      await waitForPanel(w, (p) => p.runDirs.includes(running.dir) && elboPoints(p) > 0, 180_000);
      const restored = await w.findWebviewFrame(PANEL_ROOT, 30_000);
      const afterReload = await restored.evaluate(() => ({
        shown: (globalThis as unknown as { __vaeLens: { shownCurves(id: string): string[] } }).__vaeLens.shownCurves('chart-elbo'),
        pressed: Array.from(document.querySelectorAll('.vl-legend-item'), (b) => `${b.textContent} ${b.getAttribute('aria-pressed')}`).slice(0, 4),
      }));
      assert.ok(!afterReload.shown.includes('Entropy sum') && afterReload.shown.includes('ELBO'), JSON.stringify(afterReload));
      assert.ok(afterReload.pressed.includes('Entropy sum false'), JSON.stringify(afterReload));
    }));
});
