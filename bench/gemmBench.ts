/**
 * The matrix products of one training step and of the diagnostics pass, timed in one process
 * with the trainer's GEMM (src/train/kernels) and with the wasm engine's stock kernel
 * (XNNPACK), both on the same tensors in the engine's memory.
 *
 * The stock kernel is timed two ways: with the transpose flags (what tfjs's own matMul
 * gradients ask for; it then falls back to a naive loop), and the way the trainer used it
 * before its own kernels (explicit transposes, plain products). In training the weights change
 * every step, and XNNPACK repacks a changed right operand, so every call gets a fresh copy of B
 * (made before the clock starts); the trainer's GEMM packs on every call anyway.
 * With --threads N, the trainer's GEMM is also timed split over N threads (src/train/threadPool.ts).
 *   node out/bench-run/gemmBench.js [--threads N]   (built by npm run bench)
 */
import * as path from 'node:path';
import type { NamedAttrMap, Tensor, Tensor2D, TensorInfo } from '@tensorflow/tfjs-core';
import { installWasmKernels } from '../src/train/wasmKernels';
import { withSharedEngineMemory } from '../src/train/sharedMemory';
import type { Tf } from '../src/train/backend';
import type { GemmProduct, GemmResult } from './resultTypes';

const BATCH = 128;
const PRODUCTS: GemmProduct[] = [
  { label: 'encoder forward x·W (784→512)', m: BATCH, k: 784, n: 512, transposeA: false, transposeB: false },
  { label: 'decoder forward h·W (512→784)', m: BATCH, k: 512, n: 784, transposeA: false, transposeB: false },
  { label: 'decoder dL/dh = dy·Wᵀ', m: BATCH, k: 784, n: 512, transposeA: false, transposeB: true },
  { label: 'encoder dL/dW = xᵀ·dy', m: 784, k: BATCH, n: 512, transposeA: true, transposeB: false },
  { label: 'decoder dL/dW = hᵀ·dy', m: 512, k: BATCH, n: 784, transposeA: true, transposeB: false },
  { label: 'diagnostics decoder, 512 rows', m: 512, k: 512, n: 784, transposeA: false, transposeB: false },
];

const CALLS = 24;

function minimumMs(run: (i: number) => void, calls: number): number {
  let best = Infinity;
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    run(i);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--threads');
  const threads = at >= 0 ? Number(process.argv[at + 1]) : 1;
  const tf = (await import('@tensorflow/tfjs-core')) as Tf;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // The engine's binaries as the build copies them to dist/ (this file runs from out/bench-run/).
  wasm.setWasmPaths(`${path.join(__dirname, '..', '..', 'dist')}${path.sep}`);
  await withSharedEngineMemory(() => tf.setBackend('wasm'));
  await tf.ready();
  const stock = tf.getKernel(tf.BatchMatMul, 'wasm')!;
  const kernels = await installWasmKernels(tf);
  const backend = tf.backend();
  const stockMatMul = (a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor => {
    const info = stock.kernelFunc({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } as unknown as NamedAttrMap }) as TensorInfo;
    return tf.engine().makeTensorFromTensorInfo(info);
  };

  const rows: GemmResult['products'] = [];
  for (const p of PRODUCTS) {
    const a = tf.randomNormal(p.transposeA ? [p.k, p.m] : [p.m, p.k]) as Tensor2D;
    const b = tf.randomNormal(p.transposeB ? [p.n, p.k] : [p.k, p.n]) as Tensor2D;
    const flops = 2 * p.m * p.n * p.k;
    // Warm-up: lets V8 tier the kernels up from its baseline compiler.
    for (let i = 0; i < 30; i++) tf.dispose(tf.matMul(a, b, p.transposeA, p.transposeB));
    const ours = minimumMs(() => tf.dispose(tf.matMul(a, b, p.transposeA, p.transposeB)), CALLS);
    let oursThreadedMs: number | undefined;
    if (threads > 1) {
      await kernels.setThreads(threads);
      for (let i = 0; i < 30; i++) tf.dispose(tf.matMul(a, b, p.transposeA, p.transposeB));
      oursThreadedMs = minimumMs(() => tf.dispose(tf.matMul(a, b, p.transposeA, p.transposeB)), CALLS);
      await kernels.setThreads(1);
    }
    // Separate copies for each way of timing: XNNPACK keeps what it packed for a tensor.
    const copies = () => Array.from({ length: CALLS + 2 }, () => tf.mul(b, 1));
    const forFlags = copies();
    const forArranged = copies();
    // The stock kernels tier up too; warm them on copies the timed calls do not use.
    for (const i of [CALLS, CALLS + 1]) tf.dispose(stockMatMul(a, forFlags[i]!, p.transposeA, p.transposeB));
    const stockFlags = minimumMs((i) => tf.dispose(stockMatMul(a, forFlags[i]!, p.transposeA, p.transposeB)), 3);
    const arranged = (i: number) => {
      const at = p.transposeA ? tf.transpose(a) : a;
      const bt = p.transposeB ? tf.transpose(forArranged[i]!) : forArranged[i]!;
      tf.dispose(stockMatMul(at, bt, false, false));
      if (at !== a) at.dispose();
      if (bt !== forArranged[i]) bt.dispose();
    };
    arranged(CALLS);
    arranged(CALLS + 1);
    const stockArranged = minimumMs(arranged, CALLS);
    tf.dispose([a, b, ...forFlags, ...forArranged]);
    rows.push({ ...p, gflop: flops / 1e9, oursMs: ours, oursThreadedMs, stockFlagsMs: stockFlags, stockArrangedMs: stockArranged });
  }
  const result: GemmResult = { kernels: kernels.variant, threads, products: rows };
  process.stdout.write(`GEMM_RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
