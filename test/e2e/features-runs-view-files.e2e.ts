// The VAE Runs view follows spec files changed outside the editor, with no spec ever opened: a spec
// written from a terminal shows in the expanded, empty view; deleted, it goes; renamed, it shows under
// its new name; a folder of specs moved in shows them, and deleted whole, they go.
import { after, before, describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { EXAMPLE_DIR, EXAMPLE_SPEC, makeWorkspace } from './specFixtures';
import type { Workbench } from './workbench';

const has = (name: string) => (rows: string[]) => rows.some((r) => r.startsWith(name));

describe('the runs view follows spec files changed outside the editor', { timeout: 300_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };
  const spec = readFileSync(join(EXAMPLE_DIR(), EXAMPLE_SPEC), 'utf8');

  before(async () => {
    wb = await launchVaeLens({ workspace: makeWorkspace({ 'README.md': '# no spec here yet\n' }), label: 'features-runs-view-files' });
  });

  after(() => wb?.close());

  it('a spec written, renamed and deleted from a terminal shows, moves and goes', () =>
    withFailureScreenshot(wb, 'runs-view-spec-file', async () => {
      const w = workbench();
      await w.waitForRunsView((rows) => rows.length === 0);
      writeFileSync(join(w.workspaceDir, 'made.vae.json'), spec);
      await w.waitForRunsView(has('made.vae.json'));
      renameSync(join(w.workspaceDir, 'made.vae.json'), join(w.workspaceDir, 'renamed.vae.json'));
      await w.waitForRunsView((rows) => has('renamed.vae.json')(rows) && !has('made.vae.json')(rows));
      unlinkSync(join(w.workspaceDir, 'renamed.vae.json'));
      await w.waitForRunsView((rows) => rows.length === 0);
    }));

  it('a folder of specs moved in shows them; deleted whole, they go', () =>
    withFailureScreenshot(wb, 'runs-view-spec-folder', async () => {
      const w = workbench();
      const outside = mkdtempSync(join(tmpdir(), 'vae-lens-moved-in-'));
      mkdirSync(join(outside, 'models'));
      writeFileSync(join(outside, 'models', 'moved.vae.json'), spec);
      renameSync(join(outside, 'models'), join(w.workspaceDir, 'models'));
      await w.waitForRunsView(has('moved.vae.json'));
      rmSync(join(w.workspaceDir, 'models'), { recursive: true });
      await w.waitForRunsView((rows) => rows.length === 0);
    }));
});
