// Reproduces the paper's verification experiments with the CLI and writes the numbers of
// docs/verification.md from the runs (never by hand):
//   node scripts/build.mjs && node scripts/verify.mjs [--only id,id] [--results DIR] [--reuse]
//                                                    [--samples S] [--no-train] [--no-png]
// For every experiment: `vae-lens train SPEC --out DIR/<id>`, `vae-lens eval RUN --samples S --json`,
// `vae-lens report RUN --out DIR/<id>/report.html --png` (the figure docs/figures/<id>.png is that page
// zoomed to the second half of training, see verify/figure.mjs); for the
// linear models also the exact pPCA log-likelihood from the data's sample covariance. Then the blocks
// between `<!-- verify:begin ID -->` and `<!-- verify:end ID -->` in docs/verification.md are rewritten.
// --reuse skips training where DIR/<id> already holds a completed run of the identical spec text.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { EXPERIMENTS } from './verify/experiments.mjs';
import { renderBlocks } from './verify/tables.mjs';
import { exactLinearLogLikelihoods } from './verify/exactPpca.mjs';
import { thinRingLogLikelihood } from './verify/ringApprox.mjs';
import { renderZoomedFigure } from './verify/figure.mjs';
import { simulateLearnedVariance } from './verify/adamVarianceSim.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'vae-lens.js');
const docPath = join(root, 'docs', 'verification.md');
const figuresDir = join(root, 'docs', 'figures');
const MAX_FIGURE_BYTES = 300 * 1024;

function parseOptions(argv) {
  const opts = { results: join(root, '.vae-lens', 'verification'), only: undefined, reuse: false, samples: 16, train: true, png: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--results') opts.results = resolve(argv[++i]);
    else if (a === '--only') opts.only = new Set(argv[++i].split(','));
    else if (a === '--samples') opts.samples = Number(argv[++i]);
    else if (a === '--reuse') opts.reuse = true;
    else if (a === '--no-train') opts.train = false;
    else if (a === '--no-png') opts.png = false;
    else {
      console.error(`verify: unknown option ${a}`);
      process.exit(2);
    }
  }
  if (opts.only) for (const id of opts.only) if (!EXPERIMENTS.some((e) => e.id === id)) fail(`no experiment ${id} (have ${EXPERIMENTS.map((e) => e.id).join(', ')})`);
  return opts;
}

function fail(message) {
  console.error(`verify: ${message}`);
  process.exit(1);
}

/** Runs the CLI; returns its stdout. The train log goes to a file because a run can take half an hour. */
function vaeLens(args, logFile) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (logFile) writeFileSync(logFile, r.stdout + r.stderr);
  if (r.status !== 0) fail(`vae-lens ${args.join(' ')} exited with ${r.status}:\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** The newest run folder under dir (run folders end in -YYYYMMDD-HHMMSS, so names sort by time). */
function latestRun(dir) {
  if (!existsSync(dir)) return undefined;
  const runs = readdirSync(dir)
    .filter((f) => /-\d{8}-\d{6}$/.test(f) && statSync(join(dir, f)).isDirectory())
    .sort();
  return runs.length ? join(dir, runs[runs.length - 1]) : undefined;
}

function readJsonLines(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

function reusableRun(dir, specText) {
  const run = latestRun(dir);
  if (!run) return undefined;
  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
  const sameSpec = readFileSync(join(run, 'spec.vae.json'), 'utf8') === specText;
  return summary.status === 'completed' && sameSpec ? run : undefined;
}

/** parseSpec + loadData + ppcaLogLikelihood from the TypeScript sources, bundled once. */
async function loadProjectModules() {
  const out = join(tmpdir(), `vae-lens-verify-${process.pid}.cjs`);
  await esbuild.build({
    stdin: {
      contents: "export { parseSpec } from './src/core/spec'; export { loadData } from './src/data/load'; export { ppcaLogLikelihood } from './src/core/entropy';",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'warning', mainFields: ['module', 'main'],
  });
  return createRequire(import.meta.url)(out);
}

/** Cached eval.json when it is of this run with this many samples. */
function cachedEvaluation(file, run, samples) {
  if (!existsSync(file)) return undefined;
  const e = JSON.parse(readFileSync(file, 'utf8'));
  return e.runDir === run && e.samples === samples ? e : undefined;
}

/** `eval` on every training point: the diagnostics subset's own sampling error drops out. */
function evaluateWholeSet(exp, run, dir) {
  const file = join(dir, 'eval-whole-set.json');
  const n = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).dataset.n;
  let e = cachedEvaluation(file, run, exp.wholeSetSamples);
  if (!e || e.points !== n) {
    console.log(`${exp.id}: vae-lens eval --points ${n} --samples ${exp.wholeSetSamples}`);
    e = JSON.parse(vaeLens(['eval', run, '--points', String(n), '--samples', String(exp.wholeSetSamples), '--json']).trim().split('\n').pop());
    writeFileSync(file, JSON.stringify(e, null, 2) + '\n');
  }
  return e;
}

/**
 * selected: train (unless reusable), evaluate, render. Not selected (--only): read what an earlier
 * verify left, so the summary still covers every experiment; undefined when there is nothing.
 */
async function runExperiment(exp, opts, modules, selected) {
  const specPath = join(root, exp.spec);
  const specText = readFileSync(specPath, 'utf8');
  const dir = join(opts.results, exp.id);
  mkdirSync(dir, { recursive: true });
  const train = selected && opts.train;
  let run = opts.reuse || !train ? reusableRun(dir, specText) : undefined;
  if (!run && !selected) return undefined;
  if (!run && !train) fail(`--no-train: no completed run of ${exp.spec} in ${dir}`);
  if (run) console.log(`${exp.id}: reusing ${relative(root, run)}`);
  else {
    console.log(`${exp.id}: vae-lens train ${exp.spec} --out ${relative(root, dir)}`);
    const t0 = Date.now();
    vaeLens(['train', exp.spec, '--out', dir], join(dir, 'train.log'));
    run = latestRun(dir);
    console.log(`${exp.id}: trained in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const evalFile = join(dir, 'eval.json');
  let evaluation = cachedEvaluation(evalFile, run, opts.samples);
  if (!evaluation) {
    console.log(`${exp.id}: vae-lens eval --samples ${opts.samples}`);
    evaluation = JSON.parse(vaeLens(['eval', run, '--samples', String(opts.samples), '--json']).trim().split('\n').pop());
    writeFileSync(evalFile, JSON.stringify(evaluation, null, 2) + '\n');
  }
  const wholeSet = exp.wholeSetSamples ? evaluateWholeSet(exp, run, dir) : undefined;
  const records = readJsonLines(join(run, 'metrics.jsonl'));
  const runMeta = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
  const { spec } = modules.parseSpec(specText, specPath);
  const exact = exp.exactPpca ? exactLinearLogLikelihoods(await modules.loadData(spec.data, specPath), spec, modules.ppcaLogLikelihood) : undefined;
  const ring = spec.data.kind === 'synthetic' && spec.data.synthetic === 'ring' ? thinRingLogLikelihood(spec.data.dim, spec.data.noise) : undefined;
  const varianceSim = exp.simulateVariance ? simulateLearnedVariance(records, spec, runMeta.dataset.dim) : undefined;
  const result = { exp, spec, ring, wholeSet, varianceSim, run, runRel: relative(root, run), dir: relative(root, dir), runMeta, summary, records, evaluation, exact };
  if (!selected) return result;
  const reportArgs = ['report', run, '--out', join(dir, 'report.html')];
  if (opts.png) {
    vaeLens([...reportArgs, '--png']);
    const png = join(dir, 'report-last50.png');
    await renderZoomedFigure(join(dir, 'report.html'), png);
    const size = statSync(png).size;
    if (size > MAX_FIGURE_BYTES) console.warn(`${exp.id}: ${relative(root, png)} is ${(size / 1024).toFixed(0)} KB (> 300 KB); not copied`);
    else copyFileSync(png, join(figuresDir, `${exp.id}.png`));
  } else vaeLens(reportArgs);
  return result;
}

const opts = parseOptions(process.argv.slice(2));
if (!existsSync(join(root, 'dist', 'cli.js'))) fail('build first: node scripts/build.mjs');
mkdirSync(figuresDir, { recursive: true });
const modules = await loadProjectModules();
const results = [];
for (const exp of EXPERIMENTS) {
  const result = await runExperiment(exp, opts, modules, !opts.only || opts.only.has(exp.id));
  if (result) results.push(result);
}

let doc = readFileSync(docPath, 'utf8');
for (const [id, text] of renderBlocks(results, { samples: opts.samples })) {
  const re = new RegExp(`(<!-- verify:begin ${id} -->\\n)[\\s\\S]*?(<!-- verify:end ${id} -->)`);
  if (!re.test(doc)) fail(`docs/verification.md has no block ${id}`);
  doc = doc.replace(re, (_m, begin, end) => `${begin}${text.trimEnd()}\n${end}`);
}
writeFileSync(docPath, doc);
console.log(`wrote ${relative(root, docPath)} (${results.map((r) => r.exp.id).join(', ')})`);
