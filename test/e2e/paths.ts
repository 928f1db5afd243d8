// Where things are: the repository, the results folder, and the code-server install.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Walks up from `start` to the folder whose package.json is VAE Lens's. */
export function repoRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name: unknown = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
      if (name === 'vae-lens') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`e2e: no vae-lens package.json above ${start}`);
    dir = parent;
  }
}

export function resultsDir(): string {
  return process.env.VAE_LENS_E2E_RESULTS ?? join(repoRoot(), 'test-results');
}

export function e2eCacheDir(): string {
  return process.env.VAE_LENS_E2E_CACHE ?? join(homedir(), '.cache', 'vae-lens-e2e');
}

export interface CodeServerInstall {
  /** The Node 24 binary code-server runs on. */
  node: string;
  /** code-server's CLI entry script (run it with `node`). */
  codeServer: string;
  version: string;
}

export const SETUP_HINT = 'code-server is not set up for the e2e tests: run `bash scripts/setup-code-server.sh` first';

/** Reads what scripts/setup-code-server.sh installed; throws a one-line hint when it has not run. */
export function codeServerInstall(): CodeServerInstall {
  const file = join(e2eCacheDir(), 'e2e-env.json');
  if (!existsSync(file)) throw new Error(`${SETUP_HINT} (no ${file})`);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CodeServerInstall>;
  const { node, codeServer, version } = parsed;
  if (typeof node !== 'string' || typeof codeServer !== 'string' || typeof version !== 'string') {
    throw new Error(`${SETUP_HINT} (${file} is incomplete)`);
  }
  for (const p of [node, codeServer]) {
    if (!existsSync(p)) throw new Error(`${SETUP_HINT} (${p} is missing)`);
  }
  return { node, codeServer, version };
}

export const CHROMIUM_PATH = process.env.VAE_LENS_E2E_CHROMIUM ?? '/usr/bin/chromium';
