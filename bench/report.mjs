// The results section of BENCHMARKS.md, rendered from bench/run.mjs's measurements.
import { denseStepFlops, MLP_LAYERS, STEP_FLOPS_RULE } from './stepFlops.mjs';
import { renderAllCores } from './threadsReport.mjs';

export const RESULTS_START = '<!-- bench:results:start (written by `npm run bench`; do not edit by hand) -->';
export const RESULTS_END = '<!-- bench:results:end -->';

const f = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const mb = (bytes) => `${f(bytes / 2 ** 20, 0)} MiB`;
const pct = (x) => `${f(100 * x, 1)} %`;
const verdict = (ok) => (ok ? '**met**' : '**not met**');

/** Matrix-product FLOPs of one training step (bench/stepFlops.mjs). */
const stepFlops = (workload, batch) => denseStepFlops(workload === 'fmnist' ? MLP_LAYERS.fmnist : MLP_LAYERS.swissRoll, batch);

function speedTable(w, sgemm) {
  const torch = w.pytorch;
  const rows = [
    '| engine | ms/step (wall, median) | samples/s | x PyTorch samples/s | ms/step (CPU time) | x PyTorch (CPU time) | GFLOP/s | share of sgemm peak | page faults/step | peak RSS | mean loss, last 50 steps |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const label = (name, r) =>
    ({
      pytorch: 'PyTorch (1 thread)',
      pytorchAllCores: `PyTorch (all cores: ${r.threads ?? '?'} PyTorch thread(s), ${r.blasThreads ?? '?'} BLAS thread(s))`,
      pytorchDetectedKernel: "PyTorch (1 thread), OpenBLAS's detected kernel",
      pytorchDefaultMalloc: 'PyTorch (1 thread), glibc malloc defaults',
    })[name] ?? `tfjs ${name}`;
  for (const [name, r] of Object.entries(w)) {
    if (!r) continue;
    if (r.error) {
      rows.push(`| ${label(name, r)} | not available: ${r.error.replace(/\|/g, '/')} | | | | | | | | | |`);
      continue;
    }
    const sps = (1000 * r.batch) / r.step.medianMs;
    const torchSps = torch && !torch.error ? (1000 * torch.batch) / torch.step.medianMs : NaN;
    const gflops = stepFlops(r.workload, r.batch) / (r.step.medianMs / 1000) / 1e9;
    rows.push(
      `| ${label(name, r)} | ${f(r.step.medianMs, 2)} | ${f(sps, 0)} | ${f(sps / torchSps, 3)} | ${f(r.stepCpu.medianMs, 2)} | ${f(torch && !torch.error ? torch.stepCpu.medianMs / r.stepCpu.medianMs : NaN, 3)} | ${f(gflops, 1)} | ${sgemm && !sgemm.error ? pct(gflops / sgemm.gflops) : 'n/a'} | ${f(r.minorFaultsPerStep, 1)} | ${mb(r.peakRssBytes)} | ${f(r.tailLoss?.mean, 1)} |`,
    );
  }
  return rows.join('\n');
}

export function renderResults(res) {
  const m = res.machine;
  const fm = res.fmnist;
  const wasm = fm.wasm;
  const torch = fm.pytorch;
  const out = [];
  out.push(`Measured ${res.started} by \`${res.command}\` (${f(res.seconds, 0)} s, ${res.rounds} interleaved round(s), best round per engine).`);
  out.push('');
  out.push('### Machine');
  out.push('');
  out.push(`- CPU: ${m.cpu}, ${m.cores} cores, ${f(m.memoryGiB, 0)} GiB memory; ${m.os}`);
  out.push(`- Node ${m.node}, tfjs ${m.tfjs}; ${torch && !torch.error ? torch.engineDetail : 'PyTorch: not run'}`);
  out.push(
    `- Load average (1/5/15 min) before: ${res.loadAverage.before.map((x) => f(x, 2)).join(' / ')}, after: ${res.loadAverage.after.map((x) => f(x, 2)).join(' / ')}` +
      (Math.max(res.loadAverage.before[0], res.loadAverage.after[0]) > m.cores ? ` (above ${m.cores}: other processes shared the cores, compare the CPU-time columns too)` : ` (at most ${m.cores}: the benchmark had the cores to itself, or nearly)`),
  );
  const s = res.sgemm;
  out.push(
    s && !s.error
      ? `- Single-core sgemm peak: **${f(s.gflops, 1)} GFLOP/s** (OpenBLAS ${s.blas.map((b) => `${b.version} ${b.architecture}`).join(', ')}, numpy, 1 thread; by size ${Object.entries(s.bySize).map(([n, g]) => `${n}: ${f(g, 0)}`).join(', ')}; max relative error vs float64 ${s.maxRelativeError.toExponential(1)})`
      : `- sgemm peak: not measured (${s?.error ?? 'no result'})`,
  );
  const asSet = res.sgemmAsSet;
  out.push(
    `- OpenBLAS environment as set on this machine: OPENBLAS_CORETYPE=${m.openblasEnv.OPENBLAS_CORETYPE ?? '(unset)'}, OPENBLAS_L2_SIZE=${m.openblasEnv.OPENBLAS_L2_SIZE ?? '(unset)'}; replaced by the kernel choice below for the PyTorch and sgemm runs` +
      (asSet && !asSet.error ? ` (with them as set, OpenBLAS runs its ${asSet.blas.map((b) => b.architecture).join(', ')} kernel: ${f(asSet.gflops, 1)} GFLOP/s)` : '') +
      (torch && !torch.error && torch.openblasEnv
        ? `; the PyTorch process saw OPENBLAS_CORETYPE=${torch.openblasEnv.OPENBLAS_CORETYPE ?? '(unset)'}, OPENBLAS_L2_SIZE=${torch.openblasEnv.OPENBLAS_L2_SIZE ?? '(unset)'}`
        : ''),
  );
  const k = res.openblasChoice;
  if (k) {
    const tried = (k.tried ?? [])
      .map((t) => `${t.coretype ?? 'detected'}${t.architecture && t.coretype !== t.architecture ? ` (${t.architecture})` : ''}: ${t.correct ? `${f(t.gflops, 0)} GFLOP/s` : t.error}`)
      .join(', ');
    out.push(
      k.error
        ? `- OpenBLAS kernel choice failed (${k.error}); PyTorch and sgemm ran on the detected kernel`
        : `- OpenBLAS kernel for PyTorch and sgemm: **${k.coretype ? `OPENBLAS_CORETYPE=${k.coretype}` : `detected (${k.architecture})`}**, because ${k.why}. Candidates (the step's products on one thread, CPU time, each checked against float64): ${tried}`,
    );
  }
  if (s && !s.error && Number.isFinite(s.pageFaultMicros)) {
    out.push(
      `- A minor page fault (first touch of a freshly mapped 4 KiB page) costs **${f(s.pageFaultMicros, 1)} µs** of CPU time here (bare metal: well under 1 µs); see "PyTorch and the page faults" above`,
    );
  }
  out.push('');

  out.push('### MLP VAE 784-512-20 on Fashion-MNIST, batch 128, Adam');
  out.push('');
  out.push(speedTable(fm, s));
  out.push('');
  out.push(`GFLOP/s counts the matrix products of a step: ${f(stepFlops('fmnist', 128) / 1e9, 3)} GFLOP (${STEP_FLOPS_RULE}).`);
  out.push('');

  out.push('### Matrix products of a step (wasm engine)');
  out.push('');
  const g = res.gemm;
  if (g && !g.error) {
    out.push(`GFLOP/s, best of repeated calls in one process, on the same tensors: the trainer's GEMM (${g.kernels} build) against the engine's stock kernel (XNNPACK), given a fresh copy of the right operand each call as in training, where the weights change every step.`);
    out.push('');
    out.push('| product | m x k x n | trainer GEMM | stock, transpose flags | stock, explicit transposes | trainer vs best stock |');
    out.push('| --- | --- | ---: | ---: | ---: | ---: |');
    for (const p of g.products) {
      const rate = (ms) => (p.gflop / ms) * 1000;
      const orientation = `${p.transposeA ? 'Aᵀ' : 'A'}·${p.transposeB ? 'Bᵀ' : 'B'}`;
      out.push(`| ${p.label} | ${p.m} x ${p.k} x ${p.n} (${orientation}) | ${f(rate(p.oursMs), 1)} | ${f(rate(p.stockFlagsMs), 1)} | ${f(rate(p.stockArrangedMs), 1)} | ${f(Math.min(p.stockFlagsMs, p.stockArrangedMs) / p.oursMs, 2)} x |`);
    }
  } else out.push(`not measured (${g?.error ?? 'no result'})`);
  out.push('');

  const ratio = wasm && !wasm.error && torch && !torch.error ? torch.step.medianMs / wasm.step.medianMs : NaN;
  const d = wasm && !wasm.error ? wasm.diagnostics : undefined;
  const share = d ? d.passSeconds / d.epochSeconds : NaN;
  const shareCpu = d ? d.passCpuSeconds / d.epochCpuSeconds : NaN;
  const budget = wasm && !wasm.error ? 2 * wasm.dataFloat32Bytes + 4 * wasm.modelParams : NaN;

  out.push('### Diagnostics pass (wasm engine, default settings)');
  out.push('');
  if (d) {
    out.push('| points | MC samples | pass (wall) | epoch of training (wall) | share | pass (CPU) | epoch (CPU) | share (CPU) |');
    out.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const row = (x, note) =>
      `| ${x.points} | ${x.mcSamples}${note} | ${f(x.passSeconds, 2)} s | ${f(x.epochSeconds, 1)} s | ${pct(x.passSeconds / x.epochSeconds)} | ${f(x.passCpuSeconds, 2)} s | ${f(x.epochCpuSeconds, 1)} s | ${pct(x.passCpuSeconds / x.epochCpuSeconds)} |`;
    out.push(row(d, ' (default)'));
    const d4 = res.diagnosticsSamples4;
    if (d4 && !d4.error) out.push(row(d4, ' (the default before, separate run)'));
  } else out.push('not measured');
  out.push('');

  out.push('### Data and memory (wasm engine, Fashion-MNIST)');
  out.push('');
  if (wasm && !wasm.error) {
    out.push(`- Loading the 60000 x 784 training images from their .gz file (loadData: gunzip, parse, scale to float32): **${f(wasm.loadSeconds, 2)} s**; PyTorch script's numpy loader: ${torch && !torch.error ? `${f(torch.loadSeconds, 2)} s` : 'n/a'}`);
    out.push(`- Resident memory after loading: ${mb(wasm.rssAfterLoadBytes)}, peak up to then (the loader's transient buffers included): ${mb(wasm.peakRssAfterLoadBytes)}; peak over the whole run (load, one epoch, two diagnostics passes): **${mb(wasm.peakRssBytes)}**, of which the wasm engine's heap grew to ${mb(wasm.wasmHeapBytes)}`);
    out.push(`- Budget: 2 x data as float32 (${mb(wasm.dataFloat32Bytes)}) + model (${wasm.modelParams} parameters, ${mb(4 * wasm.modelParams)}) = ${mb(budget)}`);
  }
  out.push('');

  const allCores = renderAllCores(res);
  if (allCores) out.push(allCores, '');

  out.push('### Manifold VAE 2-64-64-2 on the swiss roll (2000 points), batch 128, Adam');
  out.push('');
  out.push(speedTable(res.manifold, s));
  out.push('');

  out.push('### Targets');
  out.push('');
  out.push('| target | measured | |');
  out.push('| --- | --- | --- |');
  out.push(`| wasm samples/s >= 0.3 x PyTorch's (MLP VAE, wall clock) | ${f(ratio, 3)} x | ${verdict(ratio >= 0.3)} |`);
  out.push(`| diagnostics pass <= 5 % of an epoch's training (defaults) | ${pct(share)} (CPU time: ${pct(shareCpu)}) | ${verdict(share <= 0.05)} |`);
  out.push(`| trainer peak memory < 2 x data + model | ${wasm && !wasm.error ? `${mb(wasm.peakRssBytes)} of ${mb(budget)}` : 'n/a'} | ${verdict(wasm && !wasm.error && wasm.peakRssBytes < budget)} |`);
  if (res.loadAverage.before[0] > m.cores || res.loadAverage.after[0] > m.cores) {
    out.push('');
    out.push(
      `**Caution:** the load average was above the ${m.cores} cores during this run. Contention can stretch PyTorch's AVX-512 OpenBLAS kernels more than the wasm engine's 128-bit SIMD (compare PyTorch's ms/step with what the sgemm peak allows), which would flatter tfjs in the ratios above; re-run on a quiet machine before relying on them.`,
    );
  }
  return out.join('\n');
}
