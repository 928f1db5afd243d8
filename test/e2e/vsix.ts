// The .vsix files the e2e tests install: the real extension's, and the harness probe's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths';

/** The packaged VAE Lens (`npm run package`), or $VAE_LENS_VSIX. */
export function vaeLensVsix(): string {
  const file = process.env.VAE_LENS_VSIX ?? join(repoRoot(), 'vae-lens.vsix');
  if (!existsSync(file)) throw new Error(`e2e: no ${file}: run \`npm run package\` first`);
  return file;
}

/** Packs an extension folder with vsce into `out` and returns it. */
export function packVsix(extensionDir: string, out: string): string {
  const vsce = join(repoRoot(), 'node_modules', '@vscode', 'vsce', 'vsce');
  const result = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', out], {
    cwd: extensionDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) throw new Error(`e2e: vsce could not pack ${extensionDir}:\n${result.stdout}\n${result.stderr}`);
  return out;
}

/** The harness's own probe extension (test/e2e/fixtures/probe-extension), freshly packed into `outDir`. */
export function probeVsix(outDir: string): string {
  return packVsix(join(repoRoot(), 'test', 'e2e', 'fixtures', 'probe-extension'), join(outDir, 'probe.vsix'));
}
