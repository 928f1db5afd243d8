// `npm run bench`: VAE Lens's trainer against PyTorch on this machine, in one run, and the
// results section of BENCHMARKS.md rewritten from what was measured (never typed by hand).
//   node bench/run.mjs [--rounds 2] [--quick] [--no-write] [--render]
//   node bench/run.mjs --only conv [--rounds 2]   (the conv VAE, with the MLP pair for its ratio)
//   node bench/run.mjs --cross-check [--steps 100] [--seed 1]   (same steps in the trainer and PyTorch)
// Every engine and workload runs in its own child process (peak memory is per run); the
// rounds interleave PyTorch and tfjs so both see the same machine load, and each reports
// its best round.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderResults, RESULTS_START, RESULTS_END } from './report.mjs';
import { CONV_END, CONV_START, renderConv } from './convReport.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const quick = flag('--quick');
const rounds = Number(option('--rounds', quick ? '1' : '2'));
const PYTHON = '/usr/bin/python3';
// Not out/bench: tsc compiles bench/*.ts there.
const work = join(root, 'out', 'bench-run');
mkdirSync(work, { recursive: true });

// One full Fashion-MNIST epoch (60000 / 128 steps), so the diagnostics pass is measured
// against a real epoch at default settings.
const FMNIST_STEPS = quick ? 120 : 469;
const MANIFOLD_STEPS = quick ? 100 : 304;
const CPU_ENGINE_STEPS = quick ? 8 : 20;
// The conv VAE's step is ~10x the MLP's: fewer steps give the same measuring time.
const CONV_STEPS = quick ? 30 : 100;

// Every core: the trainer's kernel threads and PyTorch's threads, beside their one-thread rows.
const CORES = cpus().length;

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

/**
 * The bench children are bundled from the sources, but the trainer loads its kernel module and
 * kernel-thread script from dist/: build them too, so a run never measures (or fails on) a stale
 * or missing build.
 */
function buildTrainer() {
  log('build (node scripts/build.mjs) ...');
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`the build failed (exit ${r.status}): the trainer cannot be measured`);
}

async function buildChild(name = 'engineBench') {
  const outfile = join(work, `${name}.js`);
  await esbuild.build({
    entryPoints: [join(root, `bench/${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    external: ['@tensorflow/tfjs-node'],
    logLevel: 'warning',
  });
  return outfile;
}

// OpenBLAS is told a conservative kernel on some processors (see BENCHMARKS.md), and left to
// itself it may not know the CPU: the kernel choice starts from a clean environment, and PyTorch
// and the sgemm yardstick then run on the fastest correct kernel it found (bench/openblas_kernel.py).
const blasEnv = () => {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
};
let anchorChoice;
/** Chooses the kernel once per run: left to each PyTorch process, rounds of one run could differ. */
function chooseAnchor() {
  anchorChoice = runChild(
    'OpenBLAS kernel for PyTorch and sgemm (each candidate checked against float64)',
    PYTHON,
    [join(root, 'bench/openblas_kernel.py')],
    blasEnv(),
    'OPENBLAS_CHOICE',
  );
  if (!anchorChoice.error) log(`OpenBLAS kernel: ${anchorChoice.why}`);
}
/** The environment of every PyTorch and sgemm run: the kernel chosen once, at the start of the run. */
const anchorEnv = () => {
  const env = blasEnv();
  if (anchorChoice && !anchorChoice.error) {
    if (anchorChoice.coretype) env.OPENBLAS_CORETYPE = anchorChoice.coretype;
    env.VAE_LENS_OPENBLAS_CHOICE = JSON.stringify(anchorChoice);
  }
  return env;
};

function runChild(label, command, argv, env, tag) {
  log(`${label} ...`);
  const t = performance.now();
  const r = spawnSync(command, argv, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(`${tag} `));
  if (r.status !== 0 || !line) {
    // The error's message, not its stack.
    const why =
      (r.stderr ?? '')
        .split('\n')
        .find((l) => l.trim() && !/^\s+at /.test(l))
        ?.trim() || `exit ${r.status}`;
    log(`${label}: failed (${why})`);
    return { error: why };
  }
  log(`${label}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return JSON.parse(line.slice(tag.length + 1));
}

const tfjsRun = (child, engine, workload, steps, extra = []) =>
  runChild(
    `${engine} ${workload}`,
    process.execPath,
    [child, '--engine', engine, '--workload', workload, '--steps', String(steps), ...extra],
    process.env,
    'BENCH_RESULT',
  );

const torchRun = (workload, steps, extra = []) =>
  runChild(
    `pytorch ${workload}${extra.length ? ` ${extra.join(' ')}` : ''}`,
    PYTHON,
    [join(root, 'bench/torch_vae.py'), '--workload', workload, '--steps', String(steps), ...extra],
    anchorEnv(),
    'BENCH_RESULT',
  );

/** Keep the round with the fastest median step. */
function best(results) {
  const ok = results.filter((r) => r && !r.error);
  if (ok.length === 0) return results[0];
  return ok.reduce((a, b) => (b.step.medianMs < a.step.medianMs ? b : a));
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name) => cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1] ?? '?';
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return 'not installed';
    }
  };
  let os = 'Linux';
  if (existsSync('/etc/os-release')) os = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? os;
  return {
    cpu: `${cpus()[0]?.model ?? field('model name')} (family ${field('cpu family')}, model ${field('model')})`,
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    os: `${os}, kernel ${release()}`,
    node: process.version,
    tfjs: pkg('@tensorflow/tfjs-core'),
    openblasEnv: { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null, OPENBLAS_L2_SIZE: process.env.OPENBLAS_L2_SIZE ?? null },
  };
}

/** Rewrite BENCHMARKS.md's results section from the measurements in `results`. */
function writeSection(results) {
  writeRegion(RESULTS_START, RESULTS_END, renderResults(results));
  if (results.conv) writeRegion(CONV_START, CONV_END, renderConv(results));
}

/** Replace what stands between `start` and `end` in BENCHMARKS.md. */
function writeRegion(start, end, section) {
  process.stdout.write(section + '\n');
  if (flag('--no-write')) return;
  const file = join(root, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`BENCHMARKS.md has no ${start} ... ${end} section to fill`);
  writeFileSync(file, text.slice(0, a + start.length) + '\n' + section + '\n' + text.slice(b));
  log(`BENCHMARKS.md section ${start.slice(5, 25)}... rewritten`);
}

/**
 * `--only conv`: the conv VAE against PyTorch, with the MLP pair for its ratio, interleaved in
 * rounds; only the conv section of BENCHMARKS.md is rewritten.
 */
async function convOnly(child) {
  const started = new Date();
  const loadBefore = loadavg();
  const runs = { torchConv: [], wasmConv: [], torchFmnist: [], wasmFmnist: [] };
  chooseAnchor();
  for (let r = 1; r <= rounds; r++) {
    log(`round ${r} of ${rounds}`);
    runs.torchConv.push(torchRun('conv', CONV_STEPS));
    runs.wasmConv.push(tfjsRun(child, 'wasm', 'conv', CONV_STEPS));
    runs.torchFmnist.push(torchRun('fmnist', 120));
    runs.wasmFmnist.push(tfjsRun(child, 'wasm', 'fmnist', 120));
  }
  const results = {
    command: `npm run bench -- ${args.join(' ')}`,
    started: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    rounds,
    loadAverage: { before: loadBefore, after: loadavg() },
    machine: machine(),
    openblasChoice: anchorChoice,
    conv: { pytorch: best(runs.torchConv), wasm: best(runs.wasmConv) },
    fmnist: { pytorch: best(runs.torchFmnist), wasm: best(runs.wasmFmnist) },
    allRounds: runs,
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/conv-latest.json'), JSON.stringify(results, null, 2) + '\n');
  writeRegion(CONV_START, CONV_END, renderConv(results));
}

/**
 * Run the trainer for a few steps, recording its initial weights, batches and noise
 * (bench/crossCheck.ts), then repeat exactly those steps in PyTorch and print both losses.
 */
async function crossCheck() {
  const child = await buildChild('crossCheck');
  const dir = join(work, 'cross-check');
  const steps = option('--steps', '100');
  const seed = option('--seed', '1');
  const tfjs = spawnSync(process.execPath, [child, '--engine', option('--engine', 'wasm'), '--steps', steps, '--seed', seed, '--out', dir], {
    cwd: root,
    stdio: 'inherit',
  });
  if (tfjs.status !== 0) throw new Error('the trainer side of the cross-check failed');
  // Rounding, not speed, is compared here: OpenBLAS's own kernel will do.
  const torch = spawnSync(PYTHON, [join(root, 'bench/torch_vae.py'), '--replay', dir, '--blas-kernel', 'detected'], {
    cwd: root,
    env: blasEnv(),
    encoding: 'utf8',
  });
  if (torch.status !== 0) throw new Error(`the PyTorch side of the cross-check failed: ${torch.stderr}`);
  process.stdout.write(
    torch.stdout
      .split('\n')
      .filter((l) => !l.startsWith('REPLAY_RESULT'))
      .join('\n'),
  );
}

/** Per product, the fastest time any round measured for each kernel. */
function bestGemm(results) {
  const ok = results.filter((r) => !r.error);
  if (!ok.length) return results[0];
  return {
    kernels: ok[0].kernels,
    threads: ok[0].threads,
    products: ok[0].products.map((p, i) => ({
      ...p,
      oursMs: Math.min(...ok.map((r) => r.products[i].oursMs)),
      oursThreadedMs: Math.min(...ok.map((r) => r.products[i].oursThreadedMs ?? Infinity)),
      stockFlagsMs: Math.min(...ok.map((r) => r.products[i].stockFlagsMs)),
      stockArrangedMs: Math.min(...ok.map((r) => r.products[i].stockArrangedMs)),
    })),
  };
}

async function main() {
  // --render: only re-render the last run's measurements (bench/results/latest.json).
  if (flag('--render') && option('--only') === 'conv')
    return writeRegion(CONV_START, CONV_END, renderConv(JSON.parse(readFileSync(join(root, 'bench/results/conv-latest.json'), 'utf8'))));
  if (flag('--render')) return writeSection(JSON.parse(readFileSync(join(root, 'bench/results/latest.json'), 'utf8')));
  buildTrainer();
  if (flag('--cross-check')) return crossCheck();
  const started = new Date();
  const loadBefore = loadavg();
  const child = await buildChild();
  if (option('--only') === 'conv') return convOnly(child);
  const exported = runChild(
    'manifold data export',
    process.execPath,
    [child, '--workload', 'manifold', '--export', join(work, 'manifold.f32')],
    process.env,
    'BENCH_EXPORT',
  );
  if (exported.error) throw new Error(`could not export the manifold data: ${exported.error}`);
  const manifoldArgs = ['--data', join(work, 'manifold.f32'), '--n', String(exported.n), '--dim', String(exported.dim)];

  const gemmChild = await buildChild('gemmBench');
  chooseAnchor();
  const cores = cpus().length;
  // PyTorch on every core, both ways: its own threads over single-threaded BLAS calls (the
  // faster here, ENVIRONMENT.md), and one PyTorch thread with multi-threaded BLAS. The faster is
  // the all-cores anchor; both at once oversubscribe.
  const allCores = [
    ['--threads', String(cores)],
    ['--threads', '1', '--blas-threads', String(cores)],
  ];
  const runs = {
    sgemm: [],
    gemm: [],
    torchFmnist: [],
    torchFmnistAllCores: [],
    wasmFmnist: [],
    torchManifold: [],
    wasmManifold: [],
    torchConv: [],
    wasmConv: [],
    wasmFmnistAll: [],
    torchConvAllCores: [],
    wasmConvAll: [],
  };
  for (let r = 1; r <= rounds; r++) {
    log(`round ${r} of ${rounds}`);
    runs.sgemm.push(runChild('sgemm peak', PYTHON, [join(root, 'bench/sgemm_peak.py')], anchorEnv(), 'SGEMM_RESULT'));
    runs.gemm.push(
      runChild('matrix products: trainer GEMM vs stock wasm kernel', process.execPath, [gemmChild, '--threads', String(CORES)], process.env, 'GEMM_RESULT'),
    );
    runs.torchFmnist.push(torchRun('fmnist', FMNIST_STEPS));
    if (cores > 1) for (const threads of allCores) runs.torchFmnistAllCores.push(torchRun('fmnist', FMNIST_STEPS, threads));
    runs.wasmFmnist.push(tfjsRun(child, 'wasm', 'fmnist', FMNIST_STEPS, ['--threads', '1']));
    if (cores > 1) runs.wasmFmnistAll.push(tfjsRun(child, 'wasm', 'fmnist', FMNIST_STEPS, ['--threads', String(cores)]));
    runs.torchManifold.push(torchRun('manifold', MANIFOLD_STEPS, manifoldArgs));
    runs.wasmManifold.push(tfjsRun(child, 'wasm', 'manifold', MANIFOLD_STEPS));
    runs.torchConv.push(torchRun('conv', CONV_STEPS));
    runs.wasmConv.push(tfjsRun(child, 'wasm', 'conv', CONV_STEPS, ['--threads', '1']));
    if (cores > 1) {
      for (const threads of allCores) runs.torchConvAllCores.push(torchRun('conv', CONV_STEPS, threads));
      runs.wasmConvAll.push(tfjsRun(child, 'wasm', 'conv', CONV_STEPS, ['--threads', String(cores)]));
    }
  }
  // The diagnostics pass with 4 samples per point, the default before it became 2.
  const wasmSamples4 = tfjsRun(child, 'wasm', 'fmnist', FMNIST_STEPS, ['--diagnostics-samples', '4']);
  // For the record: PyTorch with glibc's malloc left at its defaults (see torch_vae.py --malloc).
  const torchDefaultMalloc = torchRun('fmnist', FMNIST_STEPS, ['--malloc', 'default']);
  // The pure-JS engine would need minutes for one default diagnostics pass; its row is speed only.
  // For the record: the same yardstick with this machine's OpenBLAS environment left as set.
  const sgemmAsSet = runChild(
    'sgemm with the OpenBLAS environment as set',
    PYTHON,
    [join(root, 'bench/sgemm_peak.py'), '--blas-kernel', 'detected'],
    process.env,
    'SGEMM_RESULT',
  );
  // For the record: PyTorch on the kernel OpenBLAS detects by itself, what a user gets by default.
  const torchDetectedKernel =
    anchorChoice.error || !anchorChoice.coretype
      ? undefined
      : runChild(
          'pytorch fmnist on the detected OpenBLAS kernel',
          PYTHON,
          [join(root, 'bench/torch_vae.py'), '--workload', 'fmnist', '--steps', String(FMNIST_STEPS), '--blas-kernel', 'detected'],
          blasEnv(),
          'BENCH_RESULT',
        );
  const cpuFmnist = tfjsRun(child, 'cpu', 'fmnist', CPU_ENGINE_STEPS, ['--warmup', '3', '--diagnostics-subset', '64']);
  const cpuManifold = tfjsRun(child, 'cpu', 'manifold', MANIFOLD_STEPS);
  const tensorflowFmnist = tfjsRun(child, 'tensorflow', 'fmnist', FMNIST_STEPS);

  const sgemm = runs.sgemm.filter((s) => !s.error).reduce((a, b) => (a && a.gflops >= b.gflops ? a : b), undefined) ?? runs.sgemm[0];
  const results = {
    command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
    started: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    rounds,
    loadAverage: { before: loadBefore, after: loadavg() },
    machine: machine(),
    openblasChoice: anchorChoice,
    sgemm,
    sgemmAsSet,
    gemm: bestGemm(runs.gemm),
    diagnosticsSamples4: wasmSamples4.error ? wasmSamples4 : wasmSamples4.diagnostics,
    fmnist: {
      pytorch: best(runs.torchFmnist),
      pytorchAllCores: runs.torchFmnistAllCores.length ? best(runs.torchFmnistAllCores) : undefined,
      pytorchDetectedKernel: torchDetectedKernel,
      pytorchDefaultMalloc: torchDefaultMalloc,
      wasm: best(runs.wasmFmnist),
      cpu: cpuFmnist,
      tensorflow: tensorflowFmnist,
    },
    manifold: { pytorch: best(runs.torchManifold), wasm: best(runs.wasmManifold), cpu: cpuManifold },
    conv: { pytorch: best(runs.torchConv), wasm: best(runs.wasmConv) },
    allCores:
      cores > 1
        ? {
            cores,
            pytorch: best(runs.torchFmnistAllCores),
            pytorchIntraOp: best(runs.torchFmnistAllCores.filter((r) => !r.error && r.blasThreads === 1)),
            pytorchBlas: best(runs.torchFmnistAllCores.filter((r) => !r.error && r.blasThreads > 1)),
            wasm: best(runs.wasmFmnistAll),
            conv: { pytorch: best(runs.torchConvAllCores), wasm: best(runs.wasmConvAll) },
          }
        : undefined,
    allRounds: runs,
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify(results, null, 2) + '\n');
  writeSection(results);
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
