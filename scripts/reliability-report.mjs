// Runs the reliability tests (spec and loader fuzzing, injected training faults, bad input,
// the panel boundary) and writes the figures section of RELIABILITY.md from their output:
//   node scripts/reliability-report.mjs [--no-build] [--check]
// Every number in that section comes from a `RELIABILITY_FIGURE {json}` line or a loader
// fuzz line (`fuzz: csv 3000 inputs, 0 crashes (...)`) printed by the tests; none is typed.
// --check runs the tests and verifies the figures (no crash, nothing lost) without writing.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const checkOnly = args.includes('--check');
const DOC = join(root, 'RELIABILITY.md');
const BEGIN = '<!-- figures:begin (written by scripts/reliability-report.mjs; do not edit by hand) -->';
const END = '<!-- figures:end -->';

/** Test files (by name substring) whose output holds the figures. */
const SUITES = ['reliability-', 'data-fuzz'];

function run(cmd, cmdArgs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(cmd, cmdArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code) => resolve({ code, out, seconds: (Date.now() - started) / 1000 }));
  });
}

if (build) {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const runs = [];
for (const suite of SUITES) {
  runs.push({ suite, ...(await run(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), 'unit', '--filter', suite, '--no-typecheck'])) });
}

const figures = [];
const LOADER_FUZZ = /fuzz: (\S+) (\d+) inputs, (\d+) crashes \((\d+) datasets, (\d+) user errors, seed (\d+)\)/;
for (const r of runs) {
  for (const line of r.out.split('\n')) {
    const marked = /RELIABILITY_FIGURE (\{.*\})\s*$/.exec(line);
    if (marked) figures.push(JSON.parse(marked[1]));
    const loader = LOADER_FUZZ.exec(line);
    if (loader) {
      const [, name, inputs, crashes, accepted, userErrors, seed] = loader;
      figures.push({ kind: 'parser', name: `loader: ${name}`, inputs: +inputs, accepted: +accepted, userErrors: +userErrors, crashes: +crashes, slowest: null, seed: +seed });
    }
  }
}

const counts = (out, what) => Number(new RegExp(`^# ${what} (\\d+)`, 'm').exec(out)?.[1] ?? NaN);
const failed = runs.filter((r) => r.code !== 0 || counts(r.out, 'fail') > 0);
const parsers = figures.filter((f) => f.kind === 'parser');
const faults = figures.filter((f) => f.kind === 'fault');
const checks = figures.filter((f) => f.kind === 'check');
const crashes = parsers.reduce((s, f) => s + f.crashes, 0);
const lost = faults.reduce((s, f) => s + f.recordsLost, 0);
const unsurvived = faults.reduce((s, f) => s + f.injected - f.survived, 0);
const checkFailures = checks.reduce((s, f) => s + f.cases - f.passed, 0);

const problems = [];
if (failed.length > 0) problems.push(`failing tests in: ${failed.map((r) => r.suite).join(', ')}`);
if (parsers.length === 0 || faults.length === 0) problems.push('no figures were printed: did the tests run?');
if (crashes > 0) problems.push(`${crashes} crashes`);
if (lost > 0) problems.push(`${lost} records lost`);
if (unsurvived > 0) problems.push(`${unsurvived} faults not survived`);
if (checkFailures > 0) problems.push(`${checkFailures} checks failed`);
if (problems.length > 0) {
  console.error(`reliability-report: ${problems.join('; ')}; RELIABILITY.md left as it was`);
  process.exit(1);
}

const sum = (list, key) => list.reduce((s, f) => s + (f[key] ?? 0), 0);
const row = (cells) => `| ${cells.join(' | ')} |`;
const fmt = (n) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US'));
const testCount = runs.reduce((s, r) => s + counts(r.out, 'pass'), 0);
const seconds = runs.reduce((s, r) => s + r.seconds, 0);

// The hostile-input classes (issue 14): the figures of each, and the cases over all of them. Each
// figure names its class (HOSTILE_CLASSES in test/unit/reliability-figures.ts); the titles number them.
const classTitles = [...new Set(figures.map((f) => f.groupTitle).filter((t) => typeof t === 'string'))].sort((a, b) => parseInt(a) - parseInt(b));
const casesOf = (f) => (f.kind === 'parser' ? f.inputs : f.kind === 'fault' ? f.injected : f.cases);
const failuresOf = (f) => (f.kind === 'parser' ? f.crashes : f.kind === 'fault' ? f.injected - f.survived + f.recordsLost : f.cases - f.passed);
const classRows = classTitles.map((name) => {
  const of = figures.filter((f) => f.groupTitle === name);
  return row([name, fmt(of.length), fmt(of.reduce((s, f) => s + casesOf(f), 0)), fmt(of.reduce((s, f) => s + failuresOf(f), 0))]);
});

const section = [
  BEGIN,
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${availableParallelism()} cores, Node ${process.version}: ${testCount} tests passed in ${seconds.toFixed(0)} s ` +
    `(${runs.map((r) => `${r.suite}* ${r.seconds.toFixed(0)} s`).join(', ')}).`,
  '',
  '### Hostile input and faults, by class',
  '',
  row(['class', 'figures below', 'cases tried', 'crashes, failures or records lost']),
  row(['---', '---:', '---:', '---:']),
  ...classRows,
  '',
  '### Inputs tried per parser',
  '',
  row(['parser / generator', 'inputs', 'accepted', 'refused with a located error', 'crashes or hangs', 'slowest (ms)']),
  row(['---', '---:', '---:', '---:', '---:', '---:']),
  ...parsers.map((f) => row([f.name, fmt(f.inputs), fmt(f.accepted), fmt(f.userErrors), fmt(f.crashes), fmt(f.slowest)])),
  row(['**total**', `**${fmt(sum(parsers, 'inputs'))}**`, fmt(sum(parsers, 'accepted')), fmt(sum(parsers, 'userErrors')), `**${fmt(crashes)}**`, '']),
  '',
  `Seeds: ${[...new Set(parsers.map((f) => f.seed))].join(', ')} (\`FUZZ_SEED\`, \`FUZZ_RUNS\` to widen the search). ` +
    'For the message guards, "refused" means no guard accepted the value.',
  '',
  '### Faults injected into real training processes',
  '',
  row(['fault', 'injected', 'survived', 'records checked', 'records lost']),
  row(['---', '---:', '---:', '---:', '---:']),
  ...faults.map((f) => row([f.name + (f.seed !== undefined ? ` (seed ${f.seed})` : ''), fmt(f.injected), fmt(f.survived), fmt(f.recordsChecked), fmt(f.recordsLost)])),
  row(['**total**', `**${fmt(sum(faults, 'injected'))}**`, `**${fmt(sum(faults, 'survived'))}**`, fmt(sum(faults, 'recordsChecked')), `**${fmt(lost)}**`]),
  '',
  '"Records checked" are the metrics lines that existed before the fault; "lost" are those not at their place afterwards (after the resume, where there is one).',
  '',
  '### Guarantees checked case by case',
  '',
  row(['guarantee', 'cases', 'passed']),
  row(['---', '---:', '---:']),
  ...checks.map((f) => row([f.name, fmt(f.cases), fmt(f.passed)])),
  '',
  END,
].join('\n');

if (checkOnly) {
  console.log(`reliability-report: ${sum(parsers, 'inputs')} inputs, ${crashes} crashes; ${sum(faults, 'injected')} faults, ${lost} records lost (not written: --check)`);
  process.exit(0);
}
const doc = readFileSync(DOC, 'utf8');
const at = doc.indexOf(BEGIN);
const endAt = doc.indexOf(END);
if (at < 0 || endAt < at) {
  console.error(`reliability-report: RELIABILITY.md has no figures markers (${BEGIN} ... ${END})`);
  process.exit(1);
}
writeFileSync(DOC, doc.slice(0, at) + section + doc.slice(endAt + END.length));
console.log(`reliability-report: wrote RELIABILITY.md: ${sum(parsers, 'inputs')} inputs, ${crashes} crashes; ${sum(faults, 'injected')} faults, ${lost} records lost`);
