// In Restricted Mode (an untrusted workspace) VAE Lens still checks specs but never trains: Train
// VAE refuses and says why. code-server opens the folder untrusted without --disable-workspace-trust.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { runDirs } from './runFolders';
import { EXAMPLE_DIR, EXAMPLE_SPEC } from './specFixtures';
import type { Workbench } from './workbench';

describe('Restricted Mode', { timeout: 400_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };

  before(async () => {
    wb = await launchVaeLens({ workspace: EXAMPLE_DIR(), label: 'features-restricted', trustWorkspace: false });
  });

  after(async () => {
    await wb?.close();
  });

  it('Train VAE refuses in an untrusted workspace and explains why', () =>
    withFailureScreenshot(wb, 'restricted', async () => {
      await workbench().openFile(EXAMPLE_SPEC);
      assert.equal(await workbench().waitForStatusBar(/^VAE\b/, 120_000), 'VAE: no runs');
      await workbench().runCommand('VAE Lens: Train VAE');
      const message = await workbench().waitForNotification(/Restricted Mode/, 30_000);
      await workbench().screenshot('restricted-refused');
      assert.match(message, /Training is not available in Restricted Mode/);
      assert.match(message, /trust this workspace/);
      await new Promise((r) => setTimeout(r, 3_000));
      assert.deepEqual(runDirs(workbench().workspaceDir), [], 'a run folder appeared in Restricted Mode');
      assert.equal(await workbench().statusBarText(/^VAE (starting|epoch)/), undefined);
    }));
});
