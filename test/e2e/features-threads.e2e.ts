// Train VAE on every core from the editor: the MLP VAE (784-512-20) on Fashion-MNIST's test images
// with vaeLens.threads set to the machine's cores, so the trainer's kernel threads take every core
// the editor has. The run must record its thread count and complete, and the extension host must
// stay responsive meanwhile: its event-loop delay, as the extension logs it, is recorded into
// test-results/e2e-measurements.json (target: p99 under 50 ms, docs/extension-performance.md).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpus, loadavg } from 'node:os';
import { withFailureScreenshot } from './failureScreenshot';
import { e2eTarget, launchVaeLens } from './launch';
import { measuredNow, recordMeasurements } from './measurements';
import { parseTrainingTimings, readOutputChannel, type TrainingTimingsLine } from './outputChannelLog';
import { waitForRun } from './runFolders';
import { makeWorkspace } from './specFixtures';
import type { Workbench } from './workbench';

const SPEC_NAME = 'mlp-all-cores';
const SPEC_FILE = `${SPEC_NAME}.vae.json`;
const THREADS = cpus().length;
const LOOP_P99_TARGET_MS = 50;
// Big enough that every product of a step is split over the threads; a few seconds of training.
const SPEC = `{ "name": "${SPEC_NAME}",
  "data": { "path": "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz" },
  "model": { "type": "VAE-1", "latentDim": 20, "encoder": { "hidden": [512] }, "decoder": { "hidden": [512] } },
  "training": { "epochs": 4, "batchSize": 128 },
  "diagnostics": { "subset": 2048 } }
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForTimings(wb: Workbench, timeoutMs: number): Promise<TrainingTimingsLine> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    // The log names a spec by its path in the workspace folder.
    const line = parseTrainingTimings(readOutputChannel(wb.logsDir, 'VAE Lens')).find((t) => t.spec === SPEC_FILE);
    if (line) return line;
    if (performance.now() > deadline) throw new Error(`e2e: no timings line for ${SPEC_FILE} in the VAE Lens output channel after ${timeoutMs} ms`);
    await sleep(500);
  }
}

describe('Train VAE on every core', { timeout: 900_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };

  before(async () => {
    wb = await launchVaeLens({
      workspace: makeWorkspace({ [SPEC_FILE]: SPEC }),
      label: 'features-threads',
      settings: { 'vaeLens.threads': THREADS, 'vaeLens.allowDataOutsideWorkspace': true },
    });
  });

  after(async () => {
    await wb?.close();
  });

  it(`trains the MLP VAE on ${THREADS} threads, records them, and the extension host stays responsive`, (t) =>
    withFailureScreenshot(wb, 'all-cores', async () => {
      await workbench().openFile(SPEC_FILE);
      await workbench().waitForStatusBar(/^VAE\b/, 120_000);
      const load = loadavg()[0];
      await workbench().runCommand('VAE Lens: Train VAE');
      const run = await waitForRun(
        workbench().workspaceDir,
        (r) => r.summary?.status === 'completed' || r.summary?.status === 'failed',
        600_000,
        'that finished',
      );
      assert.equal(run.summary?.status, 'completed', `the run ended ${JSON.stringify(run.summary)}`);
      assert.equal(run.meta?.threads, THREADS, 'run.json records the thread count from the setting');
      const timings = await waitForTimings(workbench(), 30_000);
      t.diagnostic(
        `${THREADS} threads, ${run.summary?.steps} steps in ${run.summary?.wallSeconds.toFixed(1)} s; extension-host event loop p50 ${timings.loopP50Ms} ms, p99 ${timings.loopP99Ms} ms, max ${timings.loopMaxMs} ms (target p99 < ${LOOP_P99_TARGET_MS} ms); load ${load.toFixed(2)} on ${cpus().length} cores`,
      );
      recordMeasurements({
        allCoresRun: {
          ...measuredNow(e2eTarget()),
          loadAverage1m: Number(load.toFixed(2)),
          spec: SPEC_FILE,
          threads: THREADS,
          eventLoop: { p50Ms: timings.loopP50Ms, p99Ms: timings.loopP99Ms, maxMs: timings.loopMaxMs },
          wallSeconds: run.summary?.wallSeconds ?? 0,
          steps: run.summary?.steps ?? 0,
          status: run.summary?.status ?? 'unknown',
        },
      });
      assert.ok(timings.loopMaxMs >= timings.loopP99Ms && timings.loopP99Ms >= timings.loopP50Ms);
      // The target, with room for a machine other jobs load well beyond its cores (the figure is recorded either way).
      const allowed = load > cpus().length ? 4 * LOOP_P99_TARGET_MS : LOOP_P99_TARGET_MS;
      assert.ok(timings.loopP99Ms < allowed, `event-loop p99 ${timings.loopP99Ms} ms while the trainer used every core (load ${load.toFixed(2)})`);
    }));
});
