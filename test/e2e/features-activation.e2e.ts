// Activation on a JSONC file that is no spec (tsconfig.json): VAE Lens activates (onLanguage:jsonc is
// how a lone spec opened without a folder reaches it) but starts nothing costly and shows nothing
// until a spec is opened, even with a spec in the workspace; then the spec gets its status. The activation times go to the test's output.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { parseActivationTimes, readOutputChannel } from './outputChannelLog';
import { EXAMPLE_DIR, EXAMPLE_SPEC, makeWorkspace } from './specFixtures';
import type { Workbench } from './workbench';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('activation on a JSONC file that is no spec', { timeout: 300_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };
  const log = () => readOutputChannel(workbench().logsDir, 'VAE Lens');

  before(async () => {
    const tsconfig = '{\n  // a comment, as JSONC allows\n  "compilerOptions": { "strict": true }\n}\n';
    // The spec is there from the start (its runs view collapsed), but it is not opened until the second test.
    const spec = readFileSync(join(EXAMPLE_DIR(), EXAMPLE_SPEC), 'utf8');
    wb = await launchVaeLens({ workspace: makeWorkspace({ 'tsconfig.json': tsconfig, [EXAMPLE_SPEC]: spec }), label: 'features-activation' });
  });

  after(() => wb?.close());

  it('activates on tsconfig.json without starting the run index or showing a status', (t) =>
    withFailureScreenshot(wb, 'activation-no-spec', async () => {
      // Quick open can come back empty while the window is still starting: one more try.
      await workbench()
        .openFile('tsconfig.json')
        .catch(() => sleep(3000).then(() => workbench().openFile('tsconfig.json')));
      const deadline = Date.now() + 60_000;
      while (parseActivationTimes(log()).length === 0 && Date.now() < deadline) await sleep(500);
      const text = log();
      t.diagnostic(`activation on tsconfig.json: ${parseActivationTimes(text).join(', ')} ms`);
      assert.match(text, /activated in [\d.]+ ms \(.*waiting for a spec/, text);
      // Given time to show up, nothing of VAE Lens is in the status bar.
      await sleep(3000);
      const items = await workbench().statusBarItems();
      assert.ok(!items.some((i) => /^VAE\b/.test(i)), `status bar: ${JSON.stringify(items)}`);
      assert.doesNotMatch(log(), /a spec is in sight/);
    }));

  it('a spec opened afterwards gets its status', (t) =>
    withFailureScreenshot(wb, 'activation-then-spec', async () => {
      await workbench().openFile(EXAMPLE_SPEC);
      assert.equal(await workbench().waitForStatusBar(/^VAE\b/, 60_000), 'VAE: no runs');
      const started = /a spec is in sight: .* in ([\d.]+) ms/.exec(log());
      assert.ok(started, log());
      t.diagnostic(`the spec's parts started in ${started[1]} ms`);
    }));
});
