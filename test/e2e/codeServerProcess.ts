// Runs code-server: installs a .vsix into a fresh extensions folder, then serves one workspace on
// a free loopback port. Output goes to a log file so a failing test can show what the server said.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { CodeServerInstall } from './paths';

export interface CodeServerDirs {
  userDataDir: string;
  extensionsDir: string;
  /** Holds code-server's own config.yaml, so the user's ~/.config is never read or written. */
  configDir: string;
}

export interface CodeServerLaunch {
  install: CodeServerInstall;
  dirs: CodeServerDirs;
  workspaceDir: string;
  logFile: string;
  /** false starts the workspace in restricted mode. */
  trustWorkspace: boolean;
  readyTimeoutMs: number;
}

export interface RunningCodeServer {
  url: string;
  pid: number;
  /** Milliseconds from spawn until /healthz answered. */
  readyMs: number;
  stop(): Promise<void>;
}

/** Environment for code-server: ours minus anything that would make it talk to another VS Code. */
function serverEnv(install: CodeServerInstall): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('VSCODE_') && key !== 'ELECTRON_RUN_AS_NODE') env[key] = value;
  }
  env.PATH = `${dirname(install.node)}:${process.env.PATH ?? ''}`;
  return env;
}

function commonArgs(dirs: CodeServerDirs): string[] {
  return ['--config', join(dirs.configDir, 'config.yaml'), '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir];
}

export function logTail(logFile: string, lines = 30): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error(`pid ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** `code-server --install-extension file.vsix`, the route ENVIRONMENT.md found reliable. */
export async function installExtension(install: CodeServerInstall, dirs: CodeServerDirs, vsix: string, logFile: string): Promise<number> {
  writeFileSync(join(dirs.configDir, 'config.yaml'), 'auth: none\n');
  const started = performance.now();
  const log = openSync(logFile, 'a');
  const child = spawn(install.node, [install.codeServer, ...commonArgs(dirs), '--install-extension', vsix], {
    env: serverEnv(install),
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const code = await waitForExit(child, 120_000);
  if (code !== 0) throw new Error(`e2e: installing ${vsix} failed (exit ${code}); log ${logFile}:\n${logTail(logFile)}`);
  const tail = logTail(logFile, 5);
  if (!/successfully installed/i.test(tail)) {
    throw new Error(`e2e: code-server did not report installing ${vsix}; log ${logFile}:\n${tail}`);
  }
  return performance.now() - started;
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('e2e: no free port'))));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Signals the whole process group (code-server forks its server and extension hosts). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export async function startCodeServer(launch: CodeServerLaunch): Promise<RunningCodeServer> {
  const { install, dirs, workspaceDir, logFile } = launch;
  const port = await freeLoopbackPort();
  const args = [
    install.codeServer,
    ...commonArgs(dirs),
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(launch.trustWorkspace ? ['--disable-workspace-trust'] : []),
    workspaceDir,
  ];
  const started = performance.now();
  const log = openSync(logFile, 'a');
  const child = spawn(install.node, args, { env: serverEnv(install), stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`e2e: could not spawn code-server (${install.node})`);
  let exited = false;
  child.once('exit', () => (exited = true));

  const stop = async (): Promise<void> => {
    if (exited) return;
    signalGroup(pid, 'SIGTERM');
    for (let i = 0; i < 50 && !exited; i++) await sleep(100);
    if (!exited) signalGroup(pid, 'SIGKILL');
  };

  const url = `http://127.0.0.1:${port}/`;
  const deadline = started + launch.readyTimeoutMs;
  while (performance.now() < deadline) {
    if (exited) throw new Error(`e2e: code-server exited while starting; log ${logFile}:\n${logTail(logFile)}`);
    try {
      const res = await fetch(`${url}healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { url, pid, readyMs: performance.now() - started, stop };
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  await stop();
  throw new Error(`e2e: code-server did not answer on ${url} within ${launch.readyTimeoutMs} ms; log ${logFile}:\n${logTail(logFile)}`);
}
