// Stop Training stops a long run for good (status bar, summary.json, the trainer process), and a
// broken spec shows its problems where they are and cannot be trained.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { withFailureScreenshot } from './failureScreenshot';
import { e2eTarget, launchVaeLens } from './launch';
import { measuredNow, recordMeasurements } from './measurements';
import { isProcessAlive, runDirs, trainUntilRunning, waitForRun } from './runFolders';
import { BROKEN_SPEC, makeWorkspace, swissRollVariant } from './specFixtures';
import type { Problem, Workbench } from './workbench';

const LONG_EPOCHS = 3000;
const TRAINING = new RegExp(`^VAE (starting|epoch \\d+/${LONG_EPOCHS} \\(\\d+%\\))$`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Stop Training, and a broken spec', { timeout: 600_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };
  let source = '';

  before(async () => {
    source = makeWorkspace({ 'long.vae.json': swissRollVariant('swiss-roll-long', LONG_EPOCHS), 'broken.vae.json': BROKEN_SPEC });
    wb = await launchVaeLens({ workspace: source, label: 'features-stop-problems' });
  });

  after(async () => {
    await wb?.close();
    if (source) rmSync(source, { recursive: true, force: true });
  });

  it('Stop Training ends a long run: the status bar leaves training, summary.json says stopped, the trainer exits', () =>
    withFailureScreenshot(wb, 'stop', async () => {
      await workbench().openFile('long.vae.json');
      assert.equal(await workbench().waitForStatusBar(/^VAE\b/, 120_000), 'VAE: no runs');
      const { running, pid } = await trainUntilRunning(workbench(), LONG_EPOCHS);
      await workbench().screenshot('before-stop');

      const stopAt = performance.now();
      await workbench().runCommand('VAE Lens: Stop Training');
      const after = await workbench().waitForStatusBar(/^VAE (?!starting|epoch )/, 30_000);
      const leftTrainingSeconds = (performance.now() - stopAt) / 1000;
      await workbench().screenshot('after-stop');
      assert.doesNotMatch(after, TRAINING);

      const stopped = await waitForRun(
        workbench().workspaceDir,
        (r) => r.dir === running.dir && r.summary !== undefined && r.summary.status !== 'running',
        30_000,
        'with a final summary',
      );
      assert.equal(stopped.summary?.status, 'stopped', `summary.json: ${JSON.stringify(stopped.summary)}`);
      assert.ok((stopped.summary?.epochsDone ?? LONG_EPOCHS) < LONG_EPOCHS, 'the run went on to the end');
      const deadline = Date.now() + 15_000;
      while (isProcessAlive(pid) && Date.now() < deadline) await sleep(200);
      assert.equal(isProcessAlive(pid), false, `trainer ${pid} is still running after Stop`);
      // Stop is graceful: the trainer itself wrote "stopped" well before the 15 s kill deadline.
      assert.ok(leftTrainingSeconds < 15, `the status bar said training for ${leftTrainingSeconds.toFixed(1)} s after Stop`);
      // Nothing restarts it: a moment later the status bar still is not training.
      await sleep(2_000);
      assert.doesNotMatch((await workbench().statusBarText(/^VAE\b/)) ?? '', TRAINING);
      recordMeasurements({
        stop: { ...measuredNow(e2eTarget()), statusLeftTrainingSeconds: Number(leftTrainingSeconds.toFixed(2)), summaryStatus: stopped.summary!.status },
      });
    }));

  const isLaten = (p: Problem) => p.severity === 'error' && p.file === 'broken.vae.json' && /did you mean "latentDim"/.test(p.message);
  const isEpochs = (p: Problem) => p.severity === 'error' && p.file === 'broken.vae.json' && /training\.epochs must be an integer/.test(p.message);

  it('a broken spec shows its errors in the Problems panel, with their messages, at their lines', () =>
    withFailureScreenshot(wb, 'problems', async () => {
      await workbench().openFile('broken.vae.json');
      const problems = await workbench().waitForProblems((ps) => ps.some(isLaten) && ps.some(isEpochs), 60_000);
      await workbench().screenshot('broken-spec-problems');
      const laten = problems.find(isLaten)!;
      assert.match(laten.message, /unknown field "laten" in model/);
      assert.deepEqual([laten.line, laten.column], [4, 31], JSON.stringify(laten));
      const epochs = problems.find(isEpochs)!;
      assert.match(epochs.message, /not "sixty"/);
      assert.deepEqual([epochs.line, epochs.column], [7, 27], JSON.stringify(epochs));
      // The long spec is fine: every error is in the broken one.
      assert.deepEqual(
        problems.filter((p) => p.severity === 'error' && p.file !== 'broken.vae.json'),
        [],
      );
    }));

  it('Train VAE refuses the broken spec and says why', () =>
    withFailureScreenshot(wb, 'train-refused', async () => {
      const before = runDirs(workbench().workspaceDir);
      await workbench().runCommand('VAE Lens: Train VAE');
      const message = await workbench().waitForNotification(/broken\.vae\.json has \d+ problems?/, 30_000);
      await workbench().screenshot('broken-spec-refused');
      assert.match(message, /fix (it|them) before training/);
      assert.match(message, /laten|latentDim|epochs/);
      await sleep(2_000);
      assert.deepEqual(runDirs(workbench().workspaceDir), before, 'a run folder appeared for the broken spec');
    }));
});
