// Starts a real VS Code for one test: code-server with fresh user and extension folders, the
// given .vsix installed, a copy of the given workspace open, and Chromium showing the workbench.
//
//   const wb = await launchWorkbench({ vsix, workspace: 'examples/swiss-roll', label: 'train' });
//   try { await wb.runCommand('VAE Lens: Train VAE'); ... } finally { await wb.close(); }
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchChromium, type RunningBrowser } from './chromiumBrowser';
import { installExtension, logTail, startCodeServer, type CodeServerDirs, type RunningCodeServer } from './codeServerProcess';
import { CodeServerWorkbench } from './codeServerWorkbench';
import { codeServerInstall, resultsDir } from './paths';

export type { Workbench, Problem, ProblemSeverity, WorkbenchTimings } from './workbench';
export { CodeServerWorkbench } from './codeServerWorkbench';

export interface LaunchOptions {
  /** .vsix files to install before starting (an extension folder is not picked up). */
  vsix: string | readonly string[];
  /** Folder to open. Copied into a temp folder first unless copyWorkspace is false. */
  workspace: string;
  /** Names this run's files in test-results/ (logs, screenshots). */
  label: string;
  /** Default true, so tests never leave run folders in the repository. */
  copyWorkspace?: boolean;
  /** Default true; false opens the workspace in restricted mode. */
  trustWorkspace?: boolean;
  /** Merged over the quiet defaults below into the fresh user settings.json. */
  settings?: Readonly<Record<string, unknown>>;
  /** Default 90 s: the first start on a fresh user folder is the slow one. */
  readyTimeoutMs?: number;
  viewport?: { width: number; height: number };
}

// A fresh profile otherwise greets the user with welcome pages, tips and AI offers that cover the UI.
export const QUIET_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'security.workspace.trust.startupPrompt': 'never',
  'git.enabled': false,
};

/** Everything launchWorkbench started, so a failure half-way can still be cleaned up. */
class Resources {
  server?: RunningCodeServer;
  browser?: RunningBrowser;
  constructor(
    readonly tempRoot: string,
    readonly userDataDir: string,
    readonly results: string,
    readonly label: string,
  ) {}

  async release(): Promise<void> {
    await this.browser?.stop();
    await this.server?.stop();
    // VS Code's own logs (extension host, renderer) are the first thing to read after a failure.
    const logs = join(this.userDataDir, 'logs');
    if (existsSync(logs)) cpSync(logs, join(this.results, `${this.label}-vscode-logs`), { recursive: true });
    rmSync(this.tempRoot, { recursive: true, force: true });
  }
}

export async function launchWorkbench(options: LaunchOptions): Promise<CodeServerWorkbench> {
  const install = codeServerInstall();
  const label = options.label.replace(/[^\w.-]+/g, '_');
  const results = resultsDir();
  mkdirSync(results, { recursive: true });
  const serverLog = join(results, `${label}-code-server.log`);
  const consoleLog = join(results, `${label}-browser-console.log`);
  writeFileSync(serverLog, '');
  writeFileSync(consoleLog, '');
  rmSync(join(results, `${label}-vscode-logs`), { recursive: true, force: true });

  const tempRoot = mkdtempSync(join(tmpdir(), 'vae-lens-e2e-'));
  const dirs: CodeServerDirs = {
    userDataDir: join(tempRoot, 'user-data'),
    extensionsDir: join(tempRoot, 'extensions'),
    configDir: join(tempRoot, 'config'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(join(dirs.userDataDir, 'User'), { recursive: true });
  // VAE_LENS_E2E_SETTINGS (JSON) adds settings to every window: for A/B measurements of a setting.
  const experiment = process.env.VAE_LENS_E2E_SETTINGS ? (JSON.parse(process.env.VAE_LENS_E2E_SETTINGS) as Record<string, unknown>) : {};
  writeFileSync(join(dirs.userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...experiment, ...options.settings }, null, 2));
  const resources = new Resources(tempRoot, dirs.userDataDir, results, label);

  try {
    const workspaceSource = resolve(options.workspace);
    if (!existsSync(workspaceSource)) throw new Error(`e2e: workspace ${workspaceSource} does not exist`);
    let workspaceDir = workspaceSource;
    if (options.copyWorkspace !== false) {
      workspaceDir = join(tempRoot, 'workspace');
      cpSync(workspaceSource, workspaceDir, { recursive: true, filter: (src) => !src.includes('/.vae-lens') });
    }

    let installMs = 0;
    for (const vsix of typeof options.vsix === 'string' ? [options.vsix] : options.vsix) {
      const file = resolve(vsix);
      if (!existsSync(file)) throw new Error(`e2e: no .vsix at ${file} (run \`npm run package\`)`);
      installMs += await installExtension(install, dirs, file, serverLog);
    }

    const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
    const started = Date.now();
    resources.server = await startCodeServer({
      install,
      dirs,
      workspaceDir,
      logFile: serverLog,
      trustWorkspace: options.trustWorkspace !== false,
      readyTimeoutMs,
    });
    resources.browser = await launchChromium();
    const context = await resources.browser.browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('console', (msg) => appendFileSync(consoleLog, `[${msg.type()}] ${msg.text()}\n`));
    page.on('pageerror', (err) => appendFileSync(consoleLog, `[pageerror] ${err.message}\n`));
    await page.goto(resources.server.url, { timeout: readyTimeoutMs });

    const timings = { installMs, serverReadyMs: resources.server.readyMs, workbenchReadyMs: 0 };
    const workbench = new CodeServerWorkbench({
      page,
      url: resources.server.url,
      workspaceDir,
      logsDir: join(dirs.userDataDir, 'logs'),
      resultsDir: results,
      label,
      serverLog,
      timings,
      processIds: { codeServer: resources.server.pid, chromium: resources.browser.pid },
      tempRoot,
      shutdown: () => resources.release(),
    });
    await workbench.waitForWorkbench(readyTimeoutMs);
    timings.workbenchReadyMs = Date.now() - started;
    return workbench;
  } catch (err) {
    await resources.release().catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    if (message.includes('code-server log')) throw err;
    throw new Error(`${message}\n  code-server log ${serverLog}:\n${logTail(serverLog, 15)}`);
  }
}
