// Train VAE on the shipped swiss-roll example, as a user does: the palette, the panel's charts,
// the status bar from training to its verdict (the example's constant step leaves it "stalled on
// the step's noise"), that verdict with its reason in the status bar's tooltip, the CodeLens and the
// panel, a window reload that brings the panel back, and a second run. Measures the time to the first chart point (test side and extension side), the
// extension's activation time and the extension host's event-loop delay during training, into
// test-results/e2e-measurements.json.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { withFailureScreenshot } from './failureScreenshot';
import { e2eTarget, launchVaeLens } from './launch';
import { measuredNow, recordMeasurements, type TrainRunMeasurement } from './measurements';
import { parseActivationTimes, parseTrainingTimings, readOutputChannel, type TrainingTimingsLine } from './outputChannelLog';
import { readRunFolder, runDirs, waitForRun, type MetricsLine, type RunFolder } from './runFolders';
import { EXAMPLE_DIR, EXAMPLE_SPEC } from './specFixtures';
import { StatusBarRecorder } from './statusBarRecorder';
import { elboPoints, FIRST_POINT_PROBE, trainUntilFirstPoint, type FirstPointTiming } from './trainTiming';
import { seriesOf, waitForPanel, type ChartPoint, type PanelSnapshot } from './vaeLensPanel';
import { vaeLensVsix } from './vsix';
import type { Workbench } from './workbench';

const VAE_ITEM = /^VAE\b/;
const TRAINING = /^VAE (starting|epoch \d+\/60 \(\d+%\))$/;
const EPOCH_PROGRESS = /^VAE epoch (\d+)\/60 \((\d+)%\)$/;
const VERDICT =
  /^VAE (converged|converged, latents collapsed|not converged|still improving|stalled on the step's noise|stationary \(VAE-0\)|too early to judge|failed|diverged)$/;
/** The example's verdict: its gap closes, but the averaged recent weights beat its constant step's. */
const EXAMPLE_STATE = 'noise-limited';
const EXAMPLE_VERDICT = "VAE stalled on the step's noise";
const SPEC_LABEL = `examples/swiss-roll/${EXAMPLE_SPEC}`;
const FIRST_RUN = "1st run (also loads the session's first webview)";

/** The chart's points must be the run's records: same epochs, same values (JSON round-trips exactly; 1e-9 leaves room). */
function assertSeriesMatches(points: ChartPoint[], records: MetricsLine[], field: 'elbo' | 'entropySum' | 'gap', what: string): void {
  const expected = records.filter((r) => typeof r[field] === 'number').map((r) => ({ x: r.epoch, y: r[field] as number }));
  assert.deepEqual(
    points.map((p) => p.x),
    expected.map((p) => p.x),
    `${what}: the chart's epochs differ from metrics.jsonl`,
  );
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(points[i].y - expected[i].y) <= 1e-9, `${what} at epoch ${expected[i].x}: chart ${points[i].y}, metrics.jsonl ${expected[i].y}`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The extension's timings lines for the example, once there are `count` of them (one per finished run). */
async function waitForTimings(wb: Workbench, count: number, timeoutMs: number): Promise<{ log: string; lines: TrainingTimingsLine[] }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    // The output channel reaches its log file a moment after the line is written.
    const log = readOutputChannel(wb.logsDir, 'VAE Lens');
    // The log names a spec by its path in the workspace folder.
    const lines = parseTrainingTimings(log).filter((t) => t.spec === EXAMPLE_SPEC);
    if (lines.length >= count) return { log, lines };
    if (performance.now() > deadline)
      throw new Error(`e2e: ${lines.length} of ${count} timings lines for ${EXAMPLE_SPEC} in the VAE Lens output channel after ${timeoutMs} ms:\n${log}`);
    await sleep(500);
  }
}

function runMeasurement(label: string, timing: FirstPointTiming, logged: TrainingTimingsLine, run: RunFolder): TrainRunMeasurement {
  return {
    ...measuredNow(e2eTarget()),
    loadAverage1m: timing.loadAverageAtStart,
    label,
    spec: SPEC_LABEL,
    panelFirstPointFromPaletteSeconds: Number(timing.fromPaletteSeconds.toFixed(3)),
    panelFirstPointFromCommandSeconds: Number(timing.fromCommandSeconds.toFixed(3)),
    inPageClock: timing.inPageClock,
    seenByDriverSeconds: Number(timing.seenByDriverSeconds.toFixed(3)),
    extensionFirstPointSeconds: logged.firstPointSeconds,
    webview: timing.webview,
    eventLoop: { p50Ms: logged.loopP50Ms, p99Ms: logged.loopP99Ms, maxMs: logged.loopMaxMs },
    epochs: run.meta?.epochs ?? 0,
    wallSeconds: Number((run.summary?.wallSeconds ?? 0).toFixed(2)),
    status: run.summary?.status ?? 'unknown',
    convergence: run.summary?.convergence,
  };
}

describe('Train VAE on the swiss-roll example', { timeout: 900_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };
  let firstRun: RunFolder | undefined;
  let firstTiming: FirstPointTiming | undefined;
  let panelAfterRun: PanelSnapshot | undefined;
  let recorder: StatusBarRecorder | undefined;

  before(async () => {
    wb = await launchVaeLens({ workspace: EXAMPLE_DIR(), label: 'features-train' });
    await wb.addInitScript(FIRST_POINT_PROBE);
  });

  after(async () => {
    await recorder?.stop();
    await wb?.close();
  });

  it('activates on the example spec: the status bar says there are no runs yet', () =>
    withFailureScreenshot(wb, 'activate', async () => {
      await workbench().openFile(EXAMPLE_SPEC);
      assert.equal(await workbench().waitForStatusBar(VAE_ITEM, 120_000), 'VAE: no runs');
    }));

  it('"Train VAE" from the palette opens the panel, whose ELBO chart gets the run\'s first point', (t) =>
    withFailureScreenshot(wb, 'first-point', async () => {
      recorder = new StatusBarRecorder(workbench(), VAE_ITEM);
      firstTiming = await trainUntilFirstPoint(workbench(), [], 180_000);
      t.diagnostic(
        `first point ${firstTiming.fromCommandSeconds.toFixed(2)} s after the command (${firstTiming.inPageClock ? 'webview clock' : 'driver polling'}; the driver saw it at ${firstTiming.seenByDriverSeconds.toFixed(2)} s); webview ${JSON.stringify(firstTiming.webview)}; panel reads: ${firstTiming.trace.join(' | ')}`,
      );
      await workbench().screenshot('first-point');
      assert.equal(firstTiming.panel.runDirs.length, 1, `the panel shows ${JSON.stringify(firstTiming.panel.runDirs)}`);
      assert.deepEqual(firstTiming.panel.chartIds.slice().sort(), ['chart-elbo', 'chart-entropies', 'chart-gap', 'chart-latents']);
    }));

  it('the status bar shows training with epoch progress, then the verdict', () =>
    withFailureScreenshot(wb, 'status-verdict', async () => {
      const verdict = await workbench().waitForStatusBar(VERDICT, 300_000);
      await workbench().screenshot('verdict');
      const texts = (await recorder!.stop()).map((c) => c.text);
      assert.equal(verdict, EXAMPLE_VERDICT, `the status bar went ${JSON.stringify(texts)}`);
      const training = texts.filter((t) => TRAINING.test(t));
      assert.ok(
        training.some((t) => EPOCH_PROGRESS.test(t)),
        `never saw epoch progress; the status bar went ${JSON.stringify(texts)}`,
      );
      // Progress only moves forward, and "converged" comes after the last training text.
      const epochs = training.map((t) => Number(EPOCH_PROGRESS.exec(t)?.[1] ?? 0));
      assert.deepEqual(
        epochs,
        epochs.slice().sort((a, b) => a - b),
        `epoch progress went backwards: ${JSON.stringify(texts)}`,
      );
      const lastTraining = texts.reduce((last, t, i) => (TRAINING.test(t) ? i : last), -1);
      assert.ok(texts.indexOf(EXAMPLE_VERDICT) > lastTraining, `the verdict came before training ended: ${JSON.stringify(texts)}`);
    }));

  it("the charts hold one point per diagnostics pass, equal to the run folder's metrics.jsonl", () =>
    withFailureScreenshot(wb, 'chart-data', async () => {
      firstRun = await waitForRun(workbench().workspaceDir, (r) => r.summary?.status === 'completed', 30_000, 'that completed');
      assert.equal(runDirs(workbench().workspaceDir).length, 1);
      const records = firstRun.records;
      // One pass before training (epoch 0) and one after every epoch: diagnostics.every is 1.
      assert.deepEqual(
        records.map((r) => r.epoch),
        Array.from({ length: 61 }, (_, i) => i),
      );
      assert.equal(firstRun.summary?.convergence, EXAMPLE_STATE);
      const panel = await waitForPanel(workbench(), (p) => elboPoints(p) >= records.length, 30_000);
      assert.deepEqual(panel.runDirs, [firstRun.dir]);
      assertSeriesMatches(seriesOf(panel, 'chart-elbo', 'ELBO'), records, 'elbo', 'ELBO');
      assertSeriesMatches(seriesOf(panel, 'chart-elbo', 'Entropy sum'), records, 'entropySum', 'entropy sum');
      assertSeriesMatches(seriesOf(panel, 'chart-gap', 'gap'), records, 'gap', 'gap');
      panelAfterRun = panel;
      await workbench().screenshot('panel-after-run');
    }));

  it('the status bar tooltip, the CodeLens and the panel show the state and its reason', () =>
    withFailureScreenshot(wb, 'verdict-reason', async () => {
      assert.ok(firstRun, 'the chart-data test did not read the run');
      const reason = firstRun.summary?.convergenceReason ?? '';
      const firstSentence = reason.slice(0, reason.indexOf('. ') + 1);
      assert.match(firstSentence, /^A smaller step would gain about \d/, `the run's reason: ${reason}`);
      // Status bar tooltip: the state, then the whole reason (Markdown rendered), and the evidence.
      const tooltip = await workbench().statusBarTooltip(EXAMPLE_VERDICT);
      const flat = tooltip.replace(/\s+/g, ' ');
      assert.ok(flat.includes(`stalled on the step's noise. ${firstSentence}`), `tooltip: ${flat}`);
      assert.match(flat, /"schedule": "cosine"/);
      assert.match(flat, /active units 2 of 2/);
      assert.match(flat, /averaged weights gain/);
      assert.equal(typeof firstRun.records.at(-1)?.meanFieldGap, 'number', 'the record carries the mean-field gap');
      assert.match(flat, /mean-field gap \d/);
      // The CodeLens: the state, the gap, and the reason's first sentence.
      const lens = await workbench().waitForCodeLens(/^stalled on the step's noise, gap /, 30_000);
      assert.ok(lens.endsWith(`— ${firstSentence}`), `CodeLens: ${lens}`);
      // The panel: the badge and, under it, the reason.
      const frame = await workbench().findWebviewFrame('.vl-run-detail', 30_000);
      assert.equal((await frame.locator('.vl-badge').first().innerText()).trim(), "Stalled on the step's noise");
      assert.equal((await frame.locator('.vl-run-detail').first().innerText()).trim(), reason);
      // The summary's evidence beside the gap, the mean-field gap among it.
      const row = frame.locator('table.vl-summary tr', { hasText: 'Mean-field gap' }).first();
      assert.match((await row.innerText()).replace(/\s+/g, ' '), /^Mean-field gap \d+\.\d+/);
      await workbench().screenshot('verdict-reason');
    }));

  it('logs its activation time, the first chart point and the event-loop delay to its output channel', () =>
    withFailureScreenshot(wb, 'output-channel', async () => {
      const { log, lines } = await waitForTimings(workbench(), 1, 30_000);
      const activations = parseActivationTimes(log);
      assert.ok(activations.length >= 1, `no "activated in" line in the VAE Lens output channel:\n${log}`);
      const logged = lines[0];
      assert.ok(firstTiming && firstRun, 'the earlier tests did not run');
      assert.ok(logged.firstPointSeconds !== undefined && logged.firstPointSeconds > 0, `no first point in ${JSON.stringify(logged)}`);
      // The host has the point before the panel draws it, and both come after the palette opened.
      assert.ok(logged.firstPointSeconds <= firstTiming.fromPaletteSeconds, `host ${logged.firstPointSeconds} s, panel ${firstTiming.fromPaletteSeconds} s`);
      assert.ok(logged.loopMaxMs >= logged.loopP99Ms && logged.loopP99Ms >= logged.loopP50Ms);
      const vsix = vaeLensVsix();
      recordMeasurements({
        vsix: { ...measuredNow(e2eTarget()), file: 'vae-lens.vsix', bytes: statSync(vsix).size },
        trainRuns: [runMeasurement(FIRST_RUN, firstTiming, logged, firstRun)],
      });
    }));

  it('a window reload brings the panel back with the same chart data', () =>
    withFailureScreenshot(wb, 'reload', async () => {
      assert.ok(panelAfterRun && firstRun, 'the chart-data test did not read the panel');
      const before = panelAfterRun;
      await workbench().reloadWindow();
      // The serializer restores the panel from the run folder once the extension host is back.
      const restored = await waitForPanel(workbench(), (p) => elboPoints(p) >= elboPoints(before), 180_000);
      await workbench().screenshot('panel-after-reload');
      assert.deepEqual(restored.runDirs, before.runDirs);
      for (const id of ['chart-elbo', 'chart-entropies', 'chart-gap']) {
        assert.deepEqual(restored.charts[id], before.charts[id], `${id} differs after the reload`);
      }
      assertSeriesMatches(seriesOf(restored, 'chart-elbo', 'ELBO'), readRunFolder(firstRun.dir).records, 'elbo', 'ELBO after reload');
    }));

  it('trains again into a new panel (the webview machinery is warm now) and measures it', (t) =>
    withFailureScreenshot(wb, 'second-run', async () => {
      assert.ok(firstRun);
      await workbench().runCommand('View: Close All Editors');
      await workbench().openFile(EXAMPLE_SPEC);
      await workbench().waitForStatusBar(EXAMPLE_VERDICT, 120_000);
      const timing = await trainUntilFirstPoint(workbench(), [firstRun.dir], 180_000);
      t.diagnostic(
        `first point ${timing.fromCommandSeconds.toFixed(2)} s after the command (${timing.inPageClock ? 'webview clock' : 'driver polling'}; the driver saw it at ${timing.seenByDriverSeconds.toFixed(2)} s); webview ${JSON.stringify(timing.webview)}; panel reads: ${timing.trace.join(' | ')}`,
      );
      const run = await waitForRun(
        workbench().workspaceDir,
        (r) => r.dir !== firstRun!.dir && r.summary?.status === 'completed',
        300_000,
        'for the second run',
      );
      const { log, lines } = await waitForTimings(workbench(), 2, 30_000);
      await workbench().screenshot('second-run');
      const measured = [runMeasurement(FIRST_RUN, firstTiming!, lines[0], firstRun)];
      measured.push(runMeasurement('2nd run, a new panel after the reload', timing, lines[1], run));
      recordMeasurements({ activation: { ...measuredNow(e2eTarget()), ms: parseActivationTimes(log) }, trainRuns: measured });
      assert.equal(run.summary?.convergence, EXAMPLE_STATE);
    }));
});
