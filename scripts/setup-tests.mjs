// Sets a machine up for `npm test` (which runs this first, as its "pretest"), once and cached:
// the Debian packages the tests read or run (data sets, Chromium, code-server's build headers,
// Python with PyTorch and pytest), then code-server for the end-to-end tests. A second run only
// checks, in about a second.
//
//   node scripts/setup-tests.mjs [debian] [code-server] [--check]
//
// With step names, only those steps; --check installs nothing and fails if anything is missing.
// Where it cannot install (no apt-get, not root and no passwordless sudo, no network) it stops with
// one message that lists what is missing and the command that installs it, and exits 1: a suite is
// never skipped because the machine lacked something.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptInstaller, installCommand, missingPackages } from './setup/debian.mjs';
import { runLongStep, tail } from './setup/longStep.mjs';
import { DEBIAN_PACKAGES, PYTHON, PYTHON_MODULES } from './setup/requirements.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const checkOnly = args.includes('--check');
const named = args.filter((a) => !a.startsWith('--'));
const unknown = named.filter((s) => s !== 'debian' && s !== 'code-server');
if (unknown.length) {
  console.error(`setup: unknown step ${unknown.join(', ')}; the steps are: debian, code-server`);
  process.exit(2);
}
const wants = (step) => named.length === 0 || named.includes(step);
const cache = process.env.VAE_LENS_E2E_CACHE ?? join(homedir(), '.cache', 'vae-lens-e2e');
const logs = logFolder();
const everySeconds = Number(process.env.VAE_LENS_SETUP_PROGRESS_SECONDS ?? '15');
const started = Date.now();
const log = (line) => console.log(`setup: ${line}`);
const since = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

/** The cache's log folder, or a temporary one when the cache cannot be made (its step then says why). */
function logFolder() {
  try {
    mkdirSync(join(cache, 'setup-logs'), { recursive: true });
    return join(cache, 'setup-logs');
  } catch {
    return mkdtempSync(join(tmpdir(), 'vae-lens-setup-logs-'));
  }
}

/** The one message for a machine the tests cannot run on yet; exits 1. */
function cannot(reason, missing, command) {
  const width = Math.max(...missing.map((m) => m.name.length));
  console.error(
    [
      `setup: the tests cannot run here yet: ${reason}.`,
      'Missing:',
      ...missing.map((m) => `  ${m.name.padEnd(width)}  ${m.for}`),
      'Install with:',
      `  ${command}`,
      'then run `npm test` again.',
    ].join('\n'),
  );
  process.exit(1);
}

const describe = (names) => names.map((n) => DEBIAN_PACKAGES.find((p) => p.name === n) ?? { name: n, for: '' });

async function debian() {
  const t0 = Date.now();
  const names = DEBIAN_PACKAGES.map((p) => p.name);
  const missing = missingPackages(names);
  if (missing === undefined)
    cannot('dpkg-query is not on PATH, so this is not a Debian-based machine', DEBIAN_PACKAGES, installCommand(names));
  if (missing.length === 0) {
    log(`${names.length} Debian packages present (checked in ${since(t0)})`);
    return;
  }
  log(`missing Debian packages: ${missing.join(' ')}`);
  const command = installCommand(missing);
  if (checkOnly) cannot('--check installs nothing', describe(missing), command);
  const how = aptInstaller();
  if ('cannot' in how) cannot(how.cannot, describe(missing), command);

  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (label, aptArgs, logName) => {
    const [command0, ...rest] = [...how.prefix, 'apt-get', ...aptArgs];
    return runLongStep({ label, command: command0, args: rest, env, logFile: join(logs, logName), log, everySeconds });
  };
  const update = await apt('apt-get update', ['update', '-q'], 'apt-get-update.log');
  if (update.code !== 0)
    cannot(`apt-get update failed (exit ${update.code}: ${tail(join(logs, 'apt-get-update.log')) || 'no output'})`, describe(missing), command);
  const install = await apt(`apt-get install ${missing.join(' ')}`, ['install', '-y', '-q', '--no-install-recommends', ...missing], 'apt-get-install.log');
  const still = missingPackages(missing) ?? missing;
  if (install.code !== 0 || still.length) {
    const why = tail(join(logs, 'apt-get-install.log')) || 'no output';
    cannot(`apt-get install failed (exit ${install.code}: ${why}); log in ${join(logs, 'apt-get-install.log')}`, describe(still.length ? still : missing), installCommand(still.length ? still : missing));
  }
  log(`installed ${missing.length} Debian packages in ${install.seconds.toFixed(0)} s (apt-get update ${update.seconds.toFixed(0)} s)`);

  // The packages are in; make sure the interpreter the Python tests use really imports them.
  if (missing.some((n) => n.startsWith('python3-'))) {
    const probe = spawnSync(PYTHON, ['-c', `import ${PYTHON_MODULES.join(', ')}`], { encoding: 'utf8' });
    if (probe.status !== 0) {
      const why = (probe.stderr ?? '').trim().split('\n').pop() || probe.error?.message || `exit ${probe.status}`;
      cannot(`${PYTHON} cannot import the Python tests' modules after the install (${why})`, describe(missing.filter((n) => n.startsWith('python3-'))), command);
    }
    log(`${PYTHON} imports ${PYTHON_MODULES.join(', ')}`);
  }
}

async function codeServer() {
  const script = join(root, 'scripts', 'setup-code-server.sh');
  if (checkOnly) {
    // The harness reads e2e-env.json; without it the end-to-end tests cannot start.
    if (!existsSync(join(cache, 'e2e-env.json'))) cannot('--check installs nothing', [{ name: 'code-server', for: `VS Code for the end-to-end tests, in ${cache}` }], `bash ${script}`);
    log(`code-server is set up in ${cache}`);
    return;
  }
  const logFile = join(logs, 'setup-code-server.log');
  const r = await runLongStep({
    label: 'code-server (VS Code for the end-to-end tests)',
    command: 'bash',
    args: [script],
    env: { ...process.env, VAE_LENS_E2E_CACHE: cache },
    logFile,
    log,
    everySeconds,
    // The script announces each of its steps as "[setup-code-server] <step>: running".
    phase: /^\[setup-code-server\] .*: running$/,
  });
  if (r.code !== 0)
    cannot(`setting up code-server failed (exit ${r.code}: ${tail(logFile)}); log in ${logFile}`, [{ name: 'code-server', for: `VS Code for the end-to-end tests, in ${cache}` }], `bash ${script}`);
  // The script's own summary line says whether it installed or only checked.
  log(`code-server: ${tail(logFile).replace(/^\[setup-code-server\] /, '')}`);
}

if (wants('debian')) await debian();
if (wants('code-server')) await codeServer();
log(`ready for the tests in ${since(started)}`);
