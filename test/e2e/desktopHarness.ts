// The same Workbench on desktop VS Code: a VS Code build (downloaded by @vscode/test-electron in
// scripts/run-e2e-desktop.mjs, or VAE_LENS_VSCODE_EXECUTABLE) driven through Playwright's Electron
// support. Desktop VS Code draws the same workbench DOM as code-server, so the page-driven
// CodeServerWorkbench works on its window unchanged; only starting and stopping differ.
import { _electron, type ElectronApplication } from 'playwright-core';
import { resolveCliArgsFromVSCodeExecutablePath } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CodeServerWorkbench } from './codeServerWorkbench';
import { QUIET_SETTINGS, type LaunchOptions } from './harness';
import { resultsDir } from './paths';

export function desktopExecutable(): string {
  const exe = process.env.VAE_LENS_VSCODE_EXECUTABLE;
  if (!exe || !existsSync(exe)) {
    throw new Error(`e2e: no desktop VS Code at ${exe ?? '(VAE_LENS_VSCODE_EXECUTABLE unset)'}: run the desktop route with \`npm run test:e2e:desktop\``);
  }
  return exe;
}

function installVsix(exe: string, userDataDir: string, extensionsDir: string, vsix: string, log: string): number {
  const started = performance.now();
  const [cli, ...cliArgs] = resolveCliArgsFromVSCodeExecutablePath(exe);
  const r = spawnSync(cli, [...cliArgs, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  appendFileSync(log, `${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.status !== 0) throw new Error(`e2e: installing ${vsix} into desktop VS Code failed (exit ${r.status}); log ${log}`);
  return performance.now() - started;
}

export async function launchDesktopWorkbench(options: LaunchOptions): Promise<CodeServerWorkbench> {
  const exe = desktopExecutable();
  const label = options.label.replace(/[^\w.-]+/g, '_');
  const results = resultsDir();
  mkdirSync(results, { recursive: true });
  const log = join(results, `${label}-vscode-desktop.log`);
  writeFileSync(log, '');
  const tempRoot = mkdtempSync(join(tmpdir(), 'vae-lens-e2e-desktop-'));
  const userDataDir = join(tempRoot, 'user-data');
  const extensionsDir = join(tempRoot, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2));

  let app: ElectronApplication | undefined;
  const shutdown = async (): Promise<void> => {
    const pid = app?.process().pid;
    await app?.close().catch(() => undefined);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
    const logs = join(userDataDir, 'logs');
    if (existsSync(logs)) cpSync(logs, join(results, `${label}-vscode-logs`), { recursive: true });
    rmSync(tempRoot, { recursive: true, force: true });
  };

  try {
    const source = resolve(options.workspace);
    let workspaceDir = source;
    if (options.copyWorkspace !== false) {
      workspaceDir = join(tempRoot, 'workspace');
      cpSync(source, workspaceDir, { recursive: true, filter: (src) => !src.includes('/.vae-lens') });
    }
    let installMs = 0;
    for (const vsix of typeof options.vsix === 'string' ? [options.vsix] : options.vsix)
      installMs += installVsix(exe, userDataDir, extensionsDir, resolve(vsix), log);

    const started = performance.now();
    app = await _electron.launch({
      executablePath: exe,
      args: [
        workspaceDir,
        '--user-data-dir',
        userDataDir,
        '--extensions-dir',
        extensionsDir,
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-telemetry',
        '--disable-updates',
        '--disable-gpu',
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
        ...(options.trustWorkspace === false ? [] : ['--disable-workspace-trust']),
      ],
      timeout: options.readyTimeoutMs ?? 90_000,
    });
    app.process().stdout?.on('data', (b: Buffer) => appendFileSync(log, b));
    app.process().stderr?.on('data', (b: Buffer) => appendFileSync(log, b));
    const page = await app.firstWindow({ timeout: options.readyTimeoutMs ?? 90_000 });
    const pid = app.process().pid ?? -1;
    const timings = { installMs, serverReadyMs: 0, workbenchReadyMs: 0 };
    const workbench = new CodeServerWorkbench({
      page,
      url: page.url(),
      workspaceDir,
      logsDir: join(userDataDir, 'logs'),
      resultsDir: results,
      label,
      serverLog: log,
      timings,
      processIds: { codeServer: pid, chromium: pid },
      tempRoot,
      shutdown,
    });
    await workbench.waitForWorkbench(options.readyTimeoutMs ?? 90_000);
    timings.workbenchReadyMs = performance.now() - started;
    return workbench;
  } catch (err) {
    await shutdown().catch(() => undefined);
    throw err;
  }
}
