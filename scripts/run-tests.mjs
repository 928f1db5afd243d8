// Type-checks with tsc, bundles each test file with esbuild, and runs them with node's test runner:
//   node scripts/run-tests.mjs <dir under test/> [more dirs] [--filter substring] [--no-typecheck]
// Bundling (rather than running tsc's output) is what makes tfjs-core's gradient registrations
// loadable: they ship only as extension-less ES modules, which esbuild resolves and Node does not.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, rmSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const filterAt = argv.indexOf('--filter');
const filter = filterAt >= 0 ? argv.splice(filterAt, 2)[1] : undefined;
const noTypecheck = argv.includes('--no-typecheck');
if (noTypecheck) argv.splice(argv.indexOf('--no-typecheck'), 1);

if (!noTypecheck) {
  const tsc = spawnSync(process.execPath, [join(root, 'scripts/typecheck.mjs')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}

const sources = [];
const walk = (d) => {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith('.test.ts') && (!filter || e.includes(filter))) sources.push(p);
  }
};
for (const dir of argv) walk(join(root, 'test', dir));
if (sources.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// Same layout as tsc's outDir, so tests that find fixtures through __dirname keep working.
const outFiles = sources.map((s) => join(root, 'out', relative(root, s)).replace(/\.ts$/, '.js'));
for (const f of outFiles) rmSync(f, { force: true });
await Promise.all(
  sources.map((src, i) =>
    esbuild.build({
      entryPoints: [src],
      outfile: outFiles[i],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      mainFields: ['module', 'main'],
      external: ['vscode', '@tensorflow/tfjs-node', 'playwright-core', 'esbuild'],
      logLevel: 'warning',
    }),
  ),
);

const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=2', ...outFiles], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
