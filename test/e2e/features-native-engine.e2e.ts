// "VAE Lens: Install Native TensorFlow" in a real VS Code, failing the way it fails offline: npm is
// pointed at a registry on 127.0.0.1 that refuses connections (the suite talks to nothing else),
// so the install fails within seconds. The user sees the progress notification, then one error
// naming the cause; nothing is left in the extension's storage for the trainer to half-load.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { EXAMPLE_DIR, EXAMPLE_SPEC } from './specFixtures';
import type { Workbench } from './workbench';

describe('Install Native TensorFlow', { timeout: 400_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };
  const saved = { registry: process.env.npm_config_registry, retries: process.env.npm_config_fetch_retries };

  before(async () => {
    // code-server, and so the extension host and its npm, inherit this environment.
    process.env.npm_config_registry = 'http://127.0.0.1:9/';
    process.env.npm_config_fetch_retries = '0';
    wb = await launchVaeLens({ workspace: EXAMPLE_DIR(), label: 'features-native-engine' });
  });

  after(async () => {
    await wb?.close();
    for (const [key, value] of [
      ['npm_config_registry', saved.registry],
      ['npm_config_fetch_retries', saved.retries],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('a failed download says why and leaves nothing installed', () =>
    withFailureScreenshot(wb, 'native-engine', async () => {
      // The extension is up once the spec's status bar item shows.
      await workbench().openFile(EXAMPLE_SPEC);
      await workbench().waitForStatusBar(/^VAE\b/, 120_000);
      await workbench().runCommand('VAE Lens: Install Native TensorFlow');
      const message = await workbench().waitForNotification(/native TensorFlow could not be installed/, 120_000);
      await workbench().screenshot('native-engine-failed');
      assert.match(message, /npm could not install @tensorflow\/tfjs-node@4\.22\.0/);
      assert.match(message, /ECONNREFUSED/);
      assert.match(message, /Nothing was left installed; training keeps using the WebAssembly engine/);

      // <user-data-dir>/User/globalStorage/<publisher.name>: only the install log remains.
      const storage = join(dirname(workbench().logsDir), 'User', 'globalStorage', 'vae-lens.vae-lens');
      assert.ok(existsSync(storage), `${storage} was not created`);
      assert.deepEqual(readdirSync(storage).sort(), ['native-engine-install.log']);
      assert.match(readFileSync(join(storage, 'native-engine-install.log'), 'utf8'), /ECONNREFUSED/);
    }));
});
