// Runs the end-to-end tests in a real VS Code (code-server + Chromium):
//   node scripts/run-e2e.mjs [name filter...]     e.g. `node scripts/run-e2e.mjs smoke`
// Compiles test/e2e on its own (so unfinished code elsewhere cannot block it), packages the
// extension when its source exists, then runs out/test/e2e/**/*.{e2e,test}.js with node's test
// runner, one file at a time: two code-servers at once are too much for a 2-core machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);

const cache = process.env.VAE_LENS_E2E_CACHE ?? join(homedir(), '.cache', 'vae-lens-e2e');
// The desktop route (scripts/run-e2e-desktop.mjs) brings its own VS Code instead of code-server.
const desktop = process.env.VAE_LENS_E2E_TARGET === 'desktop';
if (!desktop && !existsSync(join(cache, 'e2e-env.json'))) {
  // Never a skip, in CI or not: a missing VS Code must not pass as a green run.
  console.error(`e2e: code-server is not set up in ${cache}: run \`bash scripts/setup-code-server.sh\` first`);
  process.exit(1);
}

const run = (args, what) => {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`e2e: ${what} failed`);
    process.exit(r.status ?? 1);
  }
};

// Start from an empty output folder so a deleted test cannot keep running from a stale .js file.
rmSync(join(root, 'out/test/e2e'), { recursive: true, force: true });
run([join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'test/e2e/tsconfig.json')], 'compiling test/e2e');
if (existsSync(join(root, 'src/extension/extension.ts')) && !process.env.VAE_LENS_VSIX) {
  run([join(root, 'scripts/package-vsix.mjs')], 'packaging the extension');
}

const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(e2e|test)\.js$/.test(entry) && (filters.length === 0 || filters.some((f) => entry.includes(f)))) files.push(path);
  }
};
walk(join(root, 'out/test/e2e'));
if (files.length === 0) {
  console.error(`e2e: no test files matched ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}
// The tests merge what they measure into this file; start it afresh so it holds this run only.
const results = process.env.VAE_LENS_E2E_RESULTS ?? join(root, 'test-results');
const measurements = join(results, 'e2e-measurements.json');
rmSync(measurements, { force: true });
const started = Date.now();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files.sort()], { stdio: 'inherit', cwd: root });
if (existsSync(results)) {
  const current = existsSync(measurements) ? JSON.parse(readFileSync(measurements, 'utf8')) : {};
  const suite = {
    seconds: Math.round((Date.now() - started) / 1000),
    files: files.map((f) => f.slice(join(root, 'out/test/e2e').length + 1).replace(/\.js$/, '.ts')),
    passed: r.status === 0,
    command: `node scripts/run-e2e.mjs${filters.length ? ` ${filters.join(' ')}` : ''}`,
    target: process.env.VAE_LENS_E2E_TARGET ?? 'code-server',
  };
  writeFileSync(measurements, `${JSON.stringify({ ...current, e2eSuite: suite }, null, 2)}\n`);
}
process.exit(r.status ?? 1);
