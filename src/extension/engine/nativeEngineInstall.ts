/**
 * Installing native TensorFlow (@tensorflow/tfjs-node) for the trainer, outside the .vsix: npm
 * installs it into a folder of the extension's global storage, which the trainer searches. No
 * VS Code API here, so the unit tests run it against a fake npm and against the real one.
 *
 * npm works in a staging folder that is renamed into place only once the package installed and
 * loads; a failed or cancelled install removes it, so the trainer never finds half an install.
 * tfjs-node's install script downloads the TensorFlow C library from its own host, which is where
 * installs usually fail (offline, a proxy): the message then says so, and the wasm engine stays.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { killProcessTree } from '../../core/processTree';

export const TFJS_NODE = '@tensorflow/tfjs-node';
/** The version matching the bundled tfjs-core: the trainer's model code is written against it. */
export const TFJS_NODE_VERSION = '4.22.0';
const FINAL = 'tfjs-node';
const STAGING_PREFIX = 'tfjs-node.partial-';

/** The folder the installer fills (its node_modules holds tfjs-node); a trainer search path. */
export function nativeEngineFolder(storageDir: string): string {
  return path.join(storageDir, FINAL);
}

/** Where tfjs-node would be loaded from for these search paths (its package folder), if anywhere. */
export function locateTfjsNode(searchPaths: readonly string[]): string | undefined {
  for (const dir of searchPaths) {
    const pkg = path.join(dir, 'node_modules', ...TFJS_NODE.split('/'), 'package.json');
    if (fs.existsSync(pkg)) return path.dirname(pkg);
  }
  return undefined;
}

export interface InstallOptions {
  /** The extension's global storage folder. */
  storageDir: string;
  /** How to run npm: default `npm` on PATH. */
  npm?: readonly string[];
  /** The Node that checks the installed package loads (the extension host's, as the trainer's). */
  node?: string;
  env?: NodeJS.ProcessEnv;
  /** Each line npm and the package's install script print, for a progress notification and a log. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  /** How long the installed package gets to load before it counts as not loading (default 120 s). */
  loadTimeoutMs?: number;
}

export type InstallResult = { ok: true; folder: string; seconds: number } | { ok: false; cancelled: boolean; message: string; logFile: string };

const LOAD_CHECK_MS = 120_000;

/**
 * How to start npm on this platform. On Windows `npm` is `npm.cmd`, which Node runs only through a
 * shell (since the fix for CVE-2024-27980 it refuses a .cmd without one); the arguments are this
 * module's own flags, so the shell sees nothing a user wrote.
 */
export function npmCommand(platform: NodeJS.Platform = process.platform): { command: string; shell: boolean } {
  return platform === 'win32' ? { command: 'npm.cmd', shell: true } : { command: 'npm', shell: false };
}

/**
 * Install tfjs-node into the storage folder; never throws (a folder it cannot write is a failed
 * install with its reason), never leaves a partial install, and never blocks the extension host.
 */
export async function installTfjsNode(o: InstallOptions): Promise<InstallResult> {
  const t0 = performance.now();
  const logFile = path.join(o.storageDir, 'native-engine-install.log');
  let staging: string | undefined;
  let log: number | undefined;
  const lines: string[] = [];
  const line = (text: string) => {
    if (log !== undefined) fs.writeSync(log, `${text}\n`);
    lines.push(text);
    o.onLine?.(text);
  };
  const fail = (message: string, cancelled = false): InstallResult => ({ ok: false, cancelled, message, logFile });
  try {
    fs.mkdirSync(o.storageDir, { recursive: true });
    removeLeftovers(o.storageDir);
    staging = fs.mkdtempSync(path.join(o.storageDir, STAGING_PREFIX));
    log = fs.openSync(logFile, 'w');

    // npm 11 runs a dependency's install script only when the project allows it (allowScripts);
    // tfjs-node's script is what fetches the native library.
    const manifest = { name: 'vae-lens-native-engine', private: true, dependencies: { [TFJS_NODE]: TFJS_NODE_VERSION }, allowScripts: { [TFJS_NODE]: true } };
    fs.writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const platformNpm = npmCommand();
    const [npm, ...npmArgs] = o.npm ?? [platformNpm.command];
    line(`$ ${[npm, ...npmArgs, 'install'].join(' ')}  (in ${staging})`);
    const code = await run(npm!, [...npmArgs, 'install', '--no-audit', '--no-fund', '--foreground-scripts'], {
      cwd: staging,
      env: o.env,
      shell: o.npm === undefined && platformNpm.shell,
      onLine: line,
      signal: o.signal,
    });
    if (o.signal?.aborted) return fail('the install was cancelled; nothing was installed', true);
    if (code === 'ENOENT')
      return fail(`npm was not found (${npm}): install Node.js, which brings npm, or install ${TFJS_NODE} yourself and set vaeLens.tfjsNodePath to its folder`);
    if (code !== 0) return fail(`npm could not install ${TFJS_NODE}@${TFJS_NODE_VERSION} (exit ${code}): ${why(lines)}`);

    // Installed is not enough: the native library must load in a Node like the trainer's.
    const problem = await tfjsNodeLoadProblem(path.join(staging, 'node_modules', ...TFJS_NODE.split('/')), { ...o, onLine: line });
    if (o.signal?.aborted) return fail('the install was cancelled; nothing was installed', true);
    if (problem !== undefined) return fail(`${TFJS_NODE} installed but does not load here: ${problem}`);
    const folder = nativeEngineFolder(o.storageDir);
    fs.rmSync(folder, { recursive: true, force: true });
    fs.renameSync(staging, folder);
    staging = undefined;
    line(`installed in ${folder}`);
    return { ok: true, folder, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    // A storage folder that cannot be written, or an old install held open (EBUSY on Windows).
    return fail(`could not install ${TFJS_NODE} in ${o.storageDir}: ${(e as Error).message}`);
  } finally {
    // A staging folder that cannot be removed now (a file still held open on Windows) is removed by
    // the next install (removeLeftovers): this function returns its result, never throws.
    if (staging !== undefined) ignoreErrors(() => fs.rmSync(staging!, { recursive: true, force: true }));
    if (log !== undefined) ignoreErrors(() => fs.closeSync(log!));
    // Output that arrives after this (it should not: run() waits for its process to close) goes nowhere.
    log = undefined;
  }
}

/**
 * Why the tfjs-node in `folder` (its package folder) does not start its backend in a Node like the
 * trainer's, or undefined when it does. Installed is not loadable: its native library may be missing
 * (an install script that did not run) or built for another Node.js or platform.
 */
export async function tfjsNodeLoadProblem(
  folder: string,
  o: { node?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; signal?: AbortSignal; loadTimeoutMs?: number } = {},
): Promise<string | undefined> {
  if (!fs.existsSync(folder)) return `${folder} is not there`;
  const lines: string[] = [];
  const loaded = await run(
    o.node ?? process.execPath,
    ['-e', `require(${JSON.stringify(folder)}).setBackend('tensorflow').then((ok) => process.exit(ok ? 0 : 3))`],
    {
      cwd: folder,
      env: { ...(o.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' },
      onLine: (l) => {
        lines.push(l);
        o.onLine?.(l);
      },
      signal: o.signal,
      timeoutMs: o.loadTimeoutMs ?? LOAD_CHECK_MS,
    },
  );
  if (loaded === 0) return undefined;
  const err =
    loaded === 'timeout'
      ? `it did not load within ${(o.loadTimeoutMs ?? LOAD_CHECK_MS) / 1000} s`
      : loaded === 3
        ? 'its tensorflow backend failed to initialise'
        : (lines.find((l) => /error/i.test(l)) ?? (loaded === 'ENOENT' ? `${o.node ?? process.execPath} was not found` : `exit ${loaded}`));
  return err.trim();
}

function ignoreErrors(f: () => void): void {
  try {
    f();
  } catch {
    // See the caller.
  }
}

/** Staging folders of an install that was killed with the editor. */
function removeLeftovers(storageDir: string): void {
  for (const name of fs.readdirSync(storageDir)) {
    if (name.startsWith(STAGING_PREFIX)) fs.rmSync(path.join(storageDir, name), { recursive: true, force: true });
  }
}

/** The most telling line of a failed install: the download error when there is one. */
function why(lines: readonly string[]): string {
  const text = lines.map((l) => l.replace(/^npm (error|ERR!) ?/, '').trim()).filter(Boolean);
  const network = (l: string) =>
    /\b(ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN)\b|getaddrinfo|socket hang up|certificate|status code [45]\d\d/.test(l);
  // npm prints the bare code too ("code ECONNREFUSED"); the line with the address says more.
  const download = text.find((l) => network(l) && /reason:|Error:|getaddrinfo/.test(l)) ?? text.find(network);
  const pick = download ?? text.find((l) => /error/i.test(l)) ?? text.at(-1) ?? 'no output';
  const hint =
    download && lines.some((l) => /libtensorflow/.test(l)) ? ' (the TensorFlow library download failed: is this machine offline or behind a proxy?)' : '';
  return `${pick.slice(0, 300)}${hint}`;
}

function run(
  command: string,
  args: string[],
  o: { cwd: string; env?: NodeJS.ProcessEnv; shell?: boolean; onLine: (l: string) => void; signal?: AbortSignal; timeoutMs?: number },
): Promise<number | 'ENOENT' | 'timeout'> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: o.cwd, env: o.env ?? process.env, shell: o.shell ?? false, stdio: ['ignore', 'pipe', 'pipe'] });
    let outcome: number | 'ENOENT' | 'timeout' | undefined;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(closeTimer);
      o.signal?.removeEventListener('abort', onAbort);
      resolve(outcome ?? 1);
    };
    // A cancel or a timeout kills the process (its whole tree) and waits for it to close, so nothing it
    // still prints, and no file it still holds in the staging folder, outlives the install; at most CLOSE_WAIT_MS.
    let closeTimer: NodeJS.Timeout | undefined;
    const end = (why: number | 'timeout') => {
      outcome ??= why;
      killTree(child);
      closeTimer ??= setTimeout(settle, CLOSE_WAIT_MS);
    };
    const onAbort = () => end(1);
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort);
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => end('timeout'), o.timeoutMs);
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        if (settled) return;
        const parts = (rest + chunk).split(/\r?\n|\r/);
        rest = parts.pop() ?? '';
        for (const p of parts) if (p.trim()) o.onLine(p.trimEnd());
      });
      stream.on('end', () => !settled && rest.trim() && o.onLine(rest.trimEnd()));
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      outcome ??= e.code === 'ENOENT' ? 'ENOENT' : 1;
      // Never started: no close to wait for.
      if (child.pid === undefined) settle();
    });
    child.on('close', (code) => {
      outcome ??= code ?? 1;
      settle();
    });
  });
}

/** How long a killed install step gets to close before the install gives up on it. */
const CLOSE_WAIT_MS = 3000;

/** Kill a process and, on Windows, the processes it started (npm under the shell that runs npm.cmd). */
function killTree(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  killProcessTree(child.pid, { group: false });
}
