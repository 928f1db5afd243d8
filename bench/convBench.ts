/**
 * The convolutions of the conv workload's step (bench/workloads.ts CONV_MODEL), each kernel timed
 * alone in CPU time (median of repeated calls, after warm-up), beside a plain product of the
 * trainer's GEMM with the same m x k x n: what a kernel costs beyond its multiply-adds is the
 * difference. One thread.
 *   npx esbuild bench/convBench.ts --bundle --platform=node --main-fields=module,main \
 *     --external:@tensorflow/tfjs-node --outfile=out/bench-run/convBench.js
 *   node out/bench-run/convBench.js [--calls 30] [--only 0,3]   (indices into CASES)
 */
import type { NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { chooseEngine } from '../src/train/backend';

interface Case {
  label: string;
  kernel: 'Conv2D' | 'Conv2DBackpropFilter' | 'Conv2DBackpropInput';
  /** x (or dy for the input gradient) and the filter's shape. */
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
}

const CASES: Case[] = [
  { label: 'conv 14x14x32 -> 7x7x64', kernel: 'Conv2D', x: [128, 14, 14, 32], filter: [4, 4, 32, 64], stride: 2 },
  { label: 'filter grad of it', kernel: 'Conv2DBackpropFilter', x: [128, 14, 14, 32], filter: [4, 4, 32, 64], stride: 2 },
  { label: 'input grad of it', kernel: 'Conv2DBackpropInput', x: [128, 14, 14, 32], filter: [4, 4, 32, 64], stride: 2 },
  { label: 'conv 28x28x1 -> 14x14x32', kernel: 'Conv2D', x: [128, 28, 28, 1], filter: [4, 4, 1, 32], stride: 2 },
  { label: 'filter grad of it', kernel: 'Conv2DBackpropFilter', x: [128, 28, 28, 1], filter: [4, 4, 1, 32], stride: 2 },
  { label: 'input grad of it', kernel: 'Conv2DBackpropInput', x: [128, 28, 28, 1], filter: [4, 4, 1, 32], stride: 2 },
];

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function median(run: () => void, calls: number): number {
  for (let i = 0; i < 3; i++) run();
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = cpuMs();
    run();
    times.push(cpuMs() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--calls');
  const calls = at >= 0 ? Number(process.argv[at + 1]) : 30;
  const engine = await chooseEngine('wasm');
  await engine.kernels?.setThreads(1);
  const { tf } = engine;
  const backend = tf.backend();
  const runKernel = (name: string, inputs: Record<string, Tensor>, attrs: Record<string, unknown>) => {
    const info = tf.getKernel(name, 'wasm')!.kernelFunc({ inputs, backend, attrs: attrs as unknown as NamedAttrMap }) as TensorInfo;
    backend.disposeData(info.dataId);
  };
  const only = process.argv.indexOf('--only');
  const picked = only >= 0 ? process.argv[only + 1]!.split(',').map(Number) : CASES.map((_, i) => i);
  for (const c of picked.map((i) => CASES[i]!)) {
    const [n, h, w, cin] = c.x;
    const [kh, kw, , cout] = c.filter;
    const oh = Math.ceil(h / c.stride);
    const ow = Math.ceil(w / c.stride);
    const x = tf.randomNormal([n, h, w, cin]);
    const filter = tf.randomNormal(c.filter);
    const dy = tf.randomNormal([n, oh, ow, cout]);
    const conv = { strides: c.stride, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    const m = n * oh * ow;
    const k = kh * kw * cin;
    let ms: number;
    let gemm: [number, number, number];
    if (c.kernel === 'Conv2D') {
      ms = median(() => runKernel(c.kernel, { x, filter }, conv), calls);
      gemm = [m, k, cout];
    } else if (c.kernel === 'Conv2DBackpropFilter') {
      ms = median(() => runKernel(c.kernel, { x, dy }, { ...conv, filterShape: c.filter }), calls);
      gemm = [k, m, cout];
    } else {
      ms = median(() => runKernel(c.kernel, { dy, filter }, { ...conv, inputShape: c.x }), calls);
      gemm = [m, cout, k];
    }
    const a = tf.randomNormal([gemm[0], gemm[1]]);
    const b = tf.randomNormal([gemm[1], gemm[2]]);
    const product = median(() => runKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }), calls);
    const flop = 2 * gemm[0] * gemm[1] * gemm[2];
    process.stdout.write(
      `${c.kernel.padEnd(21)} ${c.label.padEnd(26)} ${ms.toFixed(2).padStart(7)} ms ${(flop / ms / 1e6).toFixed(1).padStart(5)} GFLOP/s | ` +
        `GEMM ${gemm.join('x').padEnd(13)} ${product.toFixed(2).padStart(7)} ms ${(flop / product / 1e6).toFixed(1).padStart(5)} GFLOP/s\n`,
    );
    tf.dispose([x, filter, dy, a, b]);
  }
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
