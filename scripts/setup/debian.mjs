// Which Debian packages are missing, and whether (and how) this process can install them.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The full path of a command found on PATH, or undefined. */
export function which(name, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * The names among `names` that dpkg does not list as installed. One dpkg-query call for all of
 * them (it exits 1 when some are unknown, and still prints the ones it knows).
 * @returns {string[] | undefined} undefined when dpkg-query itself is missing (not Debian)
 */
export function missingPackages(names) {
  if (!which('dpkg-query')) return undefined;
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...names], { encoding: 'utf8' });
  const installed = new Set(
    (r.stdout ?? '')
      .split('\n')
      .filter((l) => l.endsWith(' install ok installed'))
      .map((l) => l.split(' ')[0]),
  );
  return names.filter((n) => !installed.has(n));
}

/**
 * How to run apt-get here: directly as root, through passwordless sudo otherwise.
 * @returns {{ prefix: string[] } | { cannot: string }}
 */
export function aptInstaller() {
  if (!which('apt-get')) return { cannot: 'apt-get is not on PATH (not a Debian or Ubuntu machine?)' };
  if (process.getuid?.() === 0) return { prefix: [] };
  if (!which('sudo')) return { cannot: 'this is not root and sudo is not installed' };
  const probe = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  if (probe.status !== 0) return { cannot: 'this is not root and sudo asks for a password' };
  return { prefix: ['sudo', '-n'] };
}

/** The command a person would type to install `names`. */
export function installCommand(names) {
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${names.join(' ')}`;
}
