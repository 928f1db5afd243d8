// "VAE Lens: Install Native TensorFlow" in a real VS Code, failing the way it fails offline: npm is
// pointed at a registry on 127.0.0.1 that refuses connections (the suite talks to nothing else),
// so the install fails within seconds. The user sees the progress notification, then one error
// naming the cause; nothing is left in the extension's storage for the trainer to half-load.
// The workspace holds a tfjs-node whose native library is missing (npm installed it without its
// install script): the command does not take it for an available engine, and training passes it
// over with one warning in the output channel that names its folder and the repair.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { readOutputChannel } from './outputChannelLog';
import { waitForRun } from './runFolders';
import { EXAMPLE_SPEC, makeWorkspace, swissRollVariant } from './specFixtures';
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
    const workspace = makeWorkspace({ [EXAMPLE_SPEC]: swissRollVariant('native-fallback', 1) });
    const pkg = join(workspace, 'node_modules', '@tensorflow', 'tfjs-node');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"@tensorflow/tfjs-node","version":"4.22.0","main":"index.js"}');
    writeFileSync(join(pkg, 'index.js'), "throw new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory');");
    wb = await launchVaeLens({ workspace, label: 'features-native-engine' });
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
      // The workspace's copy was tried first, and why it was passed over is in the output channel.
      assert.match(
        readOutputChannel(workbench().logsDir, 'VAE Lens'),
        /tfjs-node in .*node_modules\/@tensorflow\/tfjs-node does not load: .*libtensorflow\.so\.2/,
      );

      // <user-data-dir>/User/globalStorage/<publisher.name>: only the install log remains.
      const storage = join(dirname(workbench().logsDir), 'User', 'globalStorage', 'vae-lens.vae-lens');
      assert.ok(existsSync(storage), `${storage} was not created`);
      assert.deepEqual(readdirSync(storage).sort(), ['native-engine-install.log']);
      assert.match(readFileSync(join(storage, 'native-engine-install.log'), 'utf8'), /ECONNREFUSED/);
    }));

  it('training passes over the broken tfjs-node of the workspace with one warning that says where and how to repair it', () =>
    withFailureScreenshot(wb, 'native-engine-fallback', async () => {
      await workbench().runCommand('VAE Lens: Train VAE');
      const run = await waitForRun(
        workbench().workspaceDir,
        (r) => r.summary?.status === 'completed' || r.summary?.status === 'failed',
        300_000,
        'that finished',
      );
      assert.equal(run.summary?.status, 'completed', JSON.stringify(run.summary));
      assert.equal(run.meta?.backend, 'wasm');
      const warnings = readOutputChannel(workbench().logsDir, 'VAE Lens')
        .split('\n')
        .filter((l) => /warn: native TensorFlow is not used/.test(l));
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(
        warnings[0]!,
        /node_modules\/@tensorflow\/tfjs-node did not load \(libtensorflow\.so\.2: cannot open shared object file.*npm rebuild @tensorflow\/tfjs-node.*choose "wasm" with (training|vaeLens)\.backend/,
      );
    }));
});
