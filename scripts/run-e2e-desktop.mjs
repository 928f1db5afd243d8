// The desktop route of the e2e suite: the same feature tests (test/e2e/features-*.e2e.ts), run
// against desktop VS Code instead of code-server.
//   node scripts/run-e2e-desktop.mjs [name filter...]      (npm run test:e2e:desktop)
// @vscode/test-electron downloads a VS Code build into the e2e cache (VAE_LENS_VSCODE_VERSION,
// default "stable"), or VAE_LENS_VSCODE_EXECUTABLE names one already installed. Then
// scripts/run-e2e.mjs runs the tests with VAE_LENS_E2E_TARGET=desktop, which makes
// test/e2e/launch.ts start that VS Code through Playwright's Electron driver. Linux without a
// display needs a virtual one (e.g. `xvfb-run -a npm run test:e2e:desktop`).
// Where VS Code cannot be downloaded (no network access to its downloads, as on our build
// machines), this fails with one line and exit code 1: it never skips.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadAndUnzipVSCode, SilentReporter } from '@vscode/test-electron';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);
const cache = process.env.VAE_LENS_E2E_CACHE ?? join(homedir(), '.cache', 'vae-lens-e2e');
const DOWNLOAD_IDLE_TIMEOUT_MS = 20_000;

const oneLine = (err) => (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();

async function vscodeExecutable() {
  const given = process.env.VAE_LENS_VSCODE_EXECUTABLE;
  if (given) {
    if (!existsSync(given)) throw new Error(`VAE_LENS_VSCODE_EXECUTABLE is ${given}, which does not exist`);
    return given;
  }
  const version = process.env.VAE_LENS_VSCODE_VERSION ?? 'stable';
  try {
    return await downloadAndUnzipVSCode({
      version,
      cachePath: join(cache, 'vscode-desktop'),
      timeout: DOWNLOAD_IDLE_TIMEOUT_MS,
      reporter: new SilentReporter(),
    });
  } catch (err) {
    throw new Error(
      `cannot download VS Code ${version} with @vscode/test-electron (${oneLine(err)}); this route needs network access to VS Code's downloads, or VAE_LENS_VSCODE_EXECUTABLE set to an installed VS Code (here, use \`npm run test:e2e\`: the same tests on code-server)`,
    );
  }
}

let exe;
try {
  exe = await vscodeExecutable();
} catch (err) {
  console.error(`e2e desktop: ${oneLine(err)}`);
  process.exit(1);
}

console.log(`e2e desktop: VS Code at ${exe}`);
const r = spawnSync(process.execPath, [join(root, 'scripts/run-e2e.mjs'), ...(filters.length > 0 ? filters : ['features'])], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, VAE_LENS_E2E_TARGET: 'desktop', VAE_LENS_VSCODE_EXECUTABLE: exe },
});
process.exit(r.status ?? 1);
