// Builds minified bundles and packs them into vae-lens.vsix (what `code --install-extension` takes).
//   node scripts/package-vsix.mjs [--out file.vsix]
// .vscodeignore decides what goes in; the size is printed so growth gets noticed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const out = resolve(outIndex > 0 ? process.argv[outIndex + 1] : join(root, 'vae-lens.vsix'));
// Well above today's size: crossing it means something big slipped past .vscodeignore.
const SIZE_BUDGET_BYTES = 8 * 1024 * 1024;

const run = (args, what) => {
  // stdin closed: vsce asks questions (missing license...) that must fail, not hang, in CI.
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
  if (r.status !== 0) {
    console.error(`package: ${what} failed`);
    process.exit(r.status ?? 1);
  }
};

run([join(root, 'scripts/build.mjs'), '--minify'], 'build');
// No repository URL to rewrite README links against: keep them relative (they point into the package).
const vsceArgs = ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out];
if (!readdirSync(root).some((f) => /^licen[cs]e/i.test(f))) {
  console.warn('package: no LICENSE file at the top level; packaging without one');
  vsceArgs.push('--skip-license');
}
run([join(root, 'node_modules/@vscode/vsce/vsce'), ...vsceArgs], 'vsce package');

if (!existsSync(out)) {
  console.error(`package: vsce reported success but ${out} is missing`);
  process.exit(1);
}
const bytes = statSync(out).size;
console.log(`package: ${out} is ${(bytes / 1024 / 1024).toFixed(2)} MiB`);
if (bytes > SIZE_BUDGET_BYTES) {
  console.error(`package: over the ${SIZE_BUDGET_BYTES / 1024 / 1024} MiB budget; check .vscodeignore`);
  process.exit(1);
}
