// In Restricted Mode (an untrusted workspace) VAE Lens still checks specs but never trains: Train
// VAE refuses and says why; and a spec's output.runsDir outside the workspace does not make it read
// run folders there. code-server opens the folder untrusted without --disable-workspace-trust.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { runDirs } from './runFolders';
import { EXAMPLE_DIR, EXAMPLE_SPEC, makeWorkspace } from './specFixtures';
import type { Workbench } from './workbench';

describe('Restricted Mode', { timeout: 400_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };

  // A run folder outside the workspace that an untrusted spec points its runs folder at.
  const outside = mkdtempSync(join(tmpdir(), 'vae-lens-e2e-outside-'));
  const EVIL_SPEC = 'elsewhere.vae.json';

  before(async () => {
    const example = readFileSync(join(EXAMPLE_DIR(), EXAMPLE_SPEC), 'utf8');
    const evil = JSON.stringify({ name: 'elsewhere', data: { synthetic: 'circle' }, model: { latentDim: 2 }, output: { runsDir: outside } });
    wb = await launchVaeLens({ workspace: makeWorkspace({ [EXAMPLE_SPEC]: example, [EVIL_SPEC]: evil }), label: 'features-restricted', trustWorkspace: false });
  });

  after(async () => {
    await wb?.close();
    rmSync(outside, { recursive: true, force: true });
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

  it("an untrusted spec's output.runsDir outside the workspace is not read", () =>
    withFailureScreenshot(wb, 'restricted-runsdir', async () => {
      const run = join(outside, 'elsewhere-20260101-000000');
      mkdirSync(run, { recursive: true });
      const meta = {
        formatVersion: 1,
        name: 'elsewhere',
        specPath: join(workbench().workspaceDir, EVIL_SPEC),
        startedAt: new Date().toISOString(),
        backend: 'wasm',
        modelType: 'VAE-1',
        latentDim: 2,
        epochs: 5,
        dataset: { n: 10, dim: 2, source: 'circle' },
      };
      writeFileSync(join(run, 'run.json'), JSON.stringify(meta));
      writeFileSync(
        join(run, 'summary.json'),
        JSON.stringify({ status: 'failed', epochsDone: 5, steps: 5, wallSeconds: 1, message: 'planted outside the workspace' }),
      );
      await workbench().openFile(EVIL_SPEC);
      assert.equal(await workbench().waitForStatusBar(/^VAE\b/, 120_000), 'VAE: no runs');
      await new Promise((r) => setTimeout(r, 3_000));
      assert.equal(await workbench().statusBarText(/^VAE\b/), 'VAE: no runs', 'the run folder outside the workspace was read');
    }));
});
