// The "every core" part of BENCHMARKS.md's results: the trainer's kernel threads and PyTorch's
// threads on the MLP VAE, beside the one-thread rows of the same run, and where a step's time goes.
import { denseStepFlops, MLP_LAYERS } from './stepFlops.mjs';

const f = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const pct = (x) => `${f(100 * x, 1)} %`;
const verdict = (ok) => (ok ? '**met**' : '**not met**');
const ok = (r) => r && !r.error;

/** Matrix-product FLOPs of one MLP VAE step (784-512-20, both heads, batch 128). */
const MLP_STEP_FLOPS = denseStepFlops(MLP_LAYERS.fmnist, 128);
/** The gemm bench's products that make up a training step (the sixth is the diagnostics pass's). */
const STEP_PRODUCTS = 5;

const samplesPerSec = (r) => (1000 * r.batch) / r.step.medianMs;

/**
 * PyTorch at its best on every core: the faster of its every-core runs and its one-thread run, since
 * a user with those cores would keep one thread where more threads are slower (the conv VAE's small
 * products, a busy machine); comparing with a slower every-core run would flatter the trainer.
 */
export function everyCoreAnchor(oneThread, allCores) {
  if (!ok(allCores)) return ok(oneThread) ? oneThread : allCores;
  return ok(oneThread) && oneThread.step.medianMs < allCores.step.medianMs ? oneThread : allCores;
}

const torchLabel = (r) =>
  r?.blasThreads > 1 ? 'PyTorch, OpenBLAS threads' : r?.threads > 1 ? 'PyTorch, intra-op threads' : 'PyTorch, 1 thread (faster than its every-core runs)';

export function renderAllCores(res) {
  const all = res.allCores;
  if (!all) return '';
  const n = all.cores;
  // PyTorch on every core: this file's own runs, or the all-cores anchor the main table already has.
  const torchAll = everyCoreAnchor(res.fmnist.pytorch, all.pytorch ?? res.fmnist.pytorchAllCores);
  const peak = ok(res.sgemm) ? res.sgemm.gflops : NaN;
  const rows = [
    { label: 'PyTorch', threads: 1, r: res.fmnist.pytorch, peer: res.fmnist.pytorch, one: res.fmnist.pytorch },
    { label: torchLabel(torchAll), threads: n, r: torchAll, peer: torchAll, one: res.fmnist.pytorch },
    { label: 'VAE Lens (wasm)', threads: 1, r: res.fmnist.wasm, peer: res.fmnist.pytorch, one: res.fmnist.wasm },
    { label: 'VAE Lens (wasm), kernel threads', threads: n, r: all.wasm, peer: torchAll, one: res.fmnist.wasm },
  ];
  const out = [];
  out.push(`### Every core: MLP VAE 784-512-20 on Fashion-MNIST, batch 128, ${n} cores`);
  out.push('');
  out.push(
    `Same run, same rounds as above (load average ${res.loadAverage.before.map((x) => f(x, 2)).join(' / ')} before, ${res.loadAverage.after.map((x) => f(x, 2)).join(' / ')} after). ` +
      `"x PyTorch" compares with PyTorch on the same number of threads; the sgemm share is against ${n} x the single-core peak for the ${n}-thread rows.`,
  );
  out.push('');
  out.push(
    '| engine | threads | ms/step (wall, median) | samples/s | x PyTorch, same threads | x its own 1-thread speed | ms/step (CPU time, all threads) | GFLOP/s | share of sgemm peak |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { label, threads, r, peer, one } of rows) {
    if (!ok(r)) {
      out.push(`| ${label} | ${threads} | not available: ${(r?.error ?? 'not run').replace(/\|/g, '/')} | | | | | | |`);
      continue;
    }
    const gflops = MLP_STEP_FLOPS / (r.step.medianMs / 1000) / 1e9;
    out.push(
      `| ${label} | ${threads} | ${f(r.step.medianMs, 2)} | ${f(samplesPerSec(r), 0)} | ${ok(peer) ? f(samplesPerSec(r) / samplesPerSec(peer), 3) : 'n/a'} | ${ok(one) ? f(one.step.medianMs / r.step.medianMs, 2) : 'n/a'} | ${f(r.stepCpu.medianMs, 2)} | ${f(gflops, 1)} | ${pct(gflops / (threads * peak))} |`,
    );
  }
  if (all.conv) {
    out.push('');
    out.push(`The convolutional VAE (28x28, conv 32-64 k4 s2, 20 latents, transposed convs back; batch 128), same run:`);
    out.push('');
    out.push(
      '| engine | threads | ms/step (wall, median) | samples/s | x PyTorch, same threads | x its own 1-thread speed | ms/step (CPU time, all threads) |',
    );
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    const conv = res.conv ?? {};
    const convAll = everyCoreAnchor(conv.pytorch, all.conv.pytorch);
    for (const [label, threads, r, peer, one] of [
      ['PyTorch', 1, conv.pytorch, conv.pytorch, conv.pytorch],
      [`${torchLabel(convAll)}, the fastest of its every-core runs and its 1-thread run`, n, convAll, convAll, conv.pytorch],
      ['VAE Lens (wasm)', 1, conv.wasm, conv.pytorch, conv.wasm],
      ['VAE Lens (wasm), kernel threads', n, all.conv.wasm, convAll, conv.wasm],
    ]) {
      if (!ok(r)) {
        out.push(`| ${label} | ${threads} | not available: ${(r?.error ?? 'not run').replace(/\|/g, '/')} | | | | |`);
        continue;
      }
      out.push(
        `| ${label} | ${threads} | ${f(r.step.medianMs, 2)} | ${f(samplesPerSec(r), 0)} | ${ok(peer) ? f(samplesPerSec(r) / samplesPerSec(peer), 3) : 'n/a'} | ${ok(one) ? f(one.step.medianMs / r.step.medianMs, 2) : 'n/a'} | ${f(r.stepCpu.medianMs, 2)} |`,
      );
    }
  }
  if (ok(all.pytorchIntraOp) && ok(all.pytorchBlas))
    out.push(
      `\nPyTorch on ${n} cores was run both ways and the faster counts: torch.set_num_threads(${n}) with OpenBLAS on one thread ${f(all.pytorchIntraOp.step.medianMs, 2)} ms/step; one PyTorch thread with OpenBLAS on ${n} ${f(all.pytorchBlas.step.medianMs, 2)} ms/step.`,
    );
  out.push('');

  const g = res.gemm;
  const products = ok(g) ? g.products.slice(0, STEP_PRODUCTS) : [];
  const threaded = products.every((p) => Number.isFinite(p.oursThreadedMs));
  if (products.length && threaded) {
    out.push(`#### Where a step's time goes (wasm engine)`);
    out.push('');
    out.push(
      `The five large products of a step, best of repeated calls (bench/gemmBench.ts, same run), against the median step; the rest is Adam, the smaller products (the latent heads, the decoder's first layer), the fused passes (ReLU masks and bias gradients, the Gaussian term), the latent side's loop, and gathering the batch (bench/stepProfile.ts times a step by kernel and phase).`,
    );
    out.push('');
    out.push(`| product | m x k x n | 1 thread GFLOP/s | ${n} threads GFLOP/s | speed-up |`);
    out.push('| --- | --- | ---: | ---: | ---: |');
    for (const p of products) {
      const rate = (ms) => (p.gflop / ms) * 1000;
      out.push(
        `| ${p.label} | ${p.m} x ${p.k} x ${p.n} | ${f(rate(p.oursMs), 1)} | ${f(rate(p.oursThreadedMs), 1)} | ${f(p.oursMs / p.oursThreadedMs, 2)} x |`,
      );
    }
    out.push('');
    out.push('| threads | step (median) | five large products | everything else |');
    out.push('| ---: | ---: | ---: | ---: |');
    const sum = (key) => products.reduce((s, p) => s + p[key], 0);
    for (const [threads, r, key] of [
      [1, res.fmnist.wasm, 'oursMs'],
      [n, all.wasm, 'oursThreadedMs'],
    ]) {
      if (!ok(r)) continue;
      const prod = sum(key);
      out.push(`| ${threads} | ${f(r.step.medianMs, 2)} ms | ${f(prod, 2)} ms (${pct(prod / r.step.medianMs)}) | ${f(r.step.medianMs - prod, 2)} ms |`);
    }
    out.push('');
  }

  const ratio = (a, b) => (ok(a) && ok(b) ? samplesPerSec(a) / samplesPerSec(b) : NaN);
  const one = ratio(res.fmnist.wasm, res.fmnist.pytorch);
  const many = ratio(all.wasm, torchAll);
  const scaling = ok(all.wasm) && ok(res.fmnist.wasm) ? res.fmnist.wasm.step.medianMs / all.wasm.step.medianMs : NaN;
  out.push('#### Targets (every core)');
  out.push('');
  out.push('| target | measured | |');
  out.push('| --- | --- | --- |');
  out.push(`| trainer samples/s >= 0.5 x PyTorch's, 1 thread each | ${f(one, 3)} x | ${verdict(one >= 0.5)} |`);
  out.push(`| trainer samples/s >= 0.5 x PyTorch's, ${n} threads each | ${f(many, 3)} x | ${verdict(many >= 0.5)} |`);
  out.push(`| trainer step 1 → ${n} threads >= 1.7 x | ${f(scaling, 2)} x | ${verdict(scaling >= 1.7)} |`);
  if (Math.max(res.loadAverage.before[0], res.loadAverage.after[0]) > n)
    out.push(
      `\n**Caution:** the load average was above the ${n} cores, so these rows shared the cores with other processes. That distorts the thread rows both ways: a process with more threads also gets a larger share of a contended machine (flattering the speed-ups), and a thread that is descheduled holds up the product it is part of (hurting them). The CPU-time column (all threads) is the less disturbed comparison; re-run on a quiet machine before relying on the ratios.`,
    );
  return out.join('\n');
}
