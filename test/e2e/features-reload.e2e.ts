// A window reload while a long run trains: the extension host shuts down, and the trainer must still
// leave its run folder finished (summary.json "stopped", a checkpoint) rather than be killed mid-run.
// After the reload the old panel tab comes back only when it is first shown (VS Code restores
// background webviews lazily): showing it after a new run opened a live panel must not close the live one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { isProcessAlive, trainUntilRunning, waitForRun, type RunFolder } from './runFolders';
import { makeWorkspace, swissRollVariant } from './specFixtures';
import { elboPoints } from './trainTiming';
import { waitForPanel } from './vaeLensPanel';
import type { Workbench } from './workbench';

const LONG_EPOCHS = 3000;
const TRAINING_EPOCH = new RegExp(`^VAE epoch \\d+/${LONG_EPOCHS} `);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Reload Window while training, and the panel tab it restores', { timeout: 600_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };
  let source = '';
  let firstRun: RunFolder | undefined;

  before(async () => {
    source = makeWorkspace({ 'long.vae.json': swissRollVariant('swiss-roll-long', LONG_EPOCHS), 'notes.txt': 'Notes beside the panel.\n' });
    wb = await launchVaeLens({ workspace: source, label: 'features-reload' });
  });

  after(async () => {
    await wb?.close();
    if (source) rmSync(source, { recursive: true, force: true });
  });

  it('a reload during training leaves summary.json "stopped" with a checkpoint, and the trainer exits', () =>
    withFailureScreenshot(wb, 'reload-while-training', async () => {
      await workbench().openFile('long.vae.json');
      assert.equal(await workbench().waitForStatusBar(/^VAE\b/, 120_000), 'VAE: no runs');
      const { running, pid } = await trainUntilRunning(workbench(), LONG_EPOCHS);
      // Cover the panel with another editor in its group, so that after the reload its tab is in the background.
      await waitForPanel(workbench(), (p) => p.runDirs.includes(running.dir), 60_000);
      await workbench().runCommand('View: Focus Right Editor Group');
      await workbench().openFile('notes.txt');
      await workbench().screenshot('before-reload');

      await workbench().reloadWindow();
      const stopped = await waitForRun(
        workbench().workspaceDir,
        (r) => r.dir === running.dir && r.summary !== undefined && r.summary.status !== 'running',
        30_000,
        'with a final summary after the reload',
      );
      assert.equal(stopped.summary?.status, 'stopped', `summary.json after the reload: ${JSON.stringify(stopped.summary)}`);
      assert.ok(existsSync(join(running.dir, 'checkpoints', 'latest.json')), 'no checkpoint after the reload');
      const deadline = Date.now() + 15_000;
      while (isProcessAlive(pid) && Date.now() < deadline) await sleep(200);
      assert.equal(isProcessAlive(pid), false, `trainer ${pid} is still running after the reload`);
      firstRun = stopped;
    }));

  it('showing the restored panel tab after a new run opened a live panel keeps the live panel', () =>
    withFailureScreenshot(wb, 'restored-tab', async () => {
      assert.ok(firstRun, 'the reload test did not finish');
      await workbench().runCommand('View: Focus First Editor Group');
      await workbench().openFile('long.vae.json');
      await workbench().waitForStatusBar(/^VAE\b(?! starting| epoch)/, 120_000);
      await workbench().runCommand('VAE Lens: Train VAE');
      await workbench().waitForStatusBar(TRAINING_EPOCH, 120_000);
      const live = await waitForRun(workbench().workspaceDir, (r) => r.dir !== firstRun!.dir && r.records.length >= 1, 120_000, 'for the second run');
      await waitForPanel(workbench(), (p) => p.runDirs.includes(live.dir) && elboPoints(p) >= 1, 60_000);

      // The old tab is the first in the panel's group: showing it makes VS Code restore it now.
      await workbench().runCommand('View: Focus Right Editor Group');
      await workbench().runCommand('View: Open First Editor in Group');
      await sleep(3_000);
      await workbench().screenshot('after-showing-restored-tab');
      const shown = await waitForPanel(workbench(), (p) => p.runDirs.includes(live.dir), 30_000);
      assert.deepEqual(shown.runDirs, [live.dir]);
      // The live run keeps reporting into it.
      const points = elboPoints(shown);
      await waitForPanel(workbench(), (p) => p.runDirs.includes(live.dir) && elboPoints(p) > points, 60_000);
      assert.match((await workbench().statusBarText(/^VAE\b/)) ?? '', TRAINING_EPOCH);
      await workbench().runCommand('VAE Lens: Stop Training');
      await waitForRun(workbench().workspaceDir, (r) => r.dir === live.dir && r.summary?.status === 'stopped', 30_000, 'stopped');
    }));
});
