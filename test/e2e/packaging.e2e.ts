// The packaged vae-lens.vsix works once installed: it activates on a spec, trains with the wasm
// engine it carries in dist/, writes a run folder and shows its panel. This guards
// .vscodeignore and the bundling; the feature-by-feature tests live in their own files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchWorkbench, type CodeServerWorkbench } from './harness';
import { repoRoot } from './paths';
import { vaeLensVsix } from './vsix';

describe('the packaged extension', { timeout: 420_000 }, () => {
  let wb: CodeServerWorkbench | undefined;
  const workbench = (): CodeServerWorkbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };

  before(async () => {
    wb = await launchWorkbench({ vsix: vaeLensVsix(), workspace: join(repoRoot(), 'examples', 'swiss-roll'), label: 'packaging' });
  });

  after(async () => {
    await wb?.close();
  });

  it('activates on a spec and validates it without problems', async () => {
    await workbench().openFile('swiss-roll.vae.json');
    assert.equal(await workbench().waitForStatusBar(/^VAE\b/, 90_000), 'VAE: no runs');
    // The schema and spec checks run on open; give them a moment, then there must be nothing.
    await new Promise((r) => setTimeout(r, 2_000));
    assert.deepEqual(await workbench().problems(), []);
  });

  it('trains from the palette with the bundled wasm engine and shows the panel', async () => {
    await workbench().runCommand('VAE Lens: Train VAE');
    const panel = await workbench().findWebviewFrame('#vae-lens-root', 90_000);
    const verdict = await workbench().waitForStatusBar(/^VAE (converged|not converged|too early to judge)$/, 240_000);
    await workbench().screenshot('trained');
    // tfjs-node is absent here, so "wasm" proves the .wasm files were found inside the installed extension.
    assert.match((await panel.textContent('#vae-lens-root')) ?? '', /backend wasm/, `status was "${verdict}"`);
  });

  it('writes the run folder into the workspace', () => {
    const files = readdirSync(join(workbench().workspaceDir, '.vae-lens'), { recursive: true }).map(String);
    assert.ok(
      files.some((f) => f.endsWith('metrics.jsonl')),
      `no metrics.jsonl in ${JSON.stringify(files)}`,
    );
  });
});
