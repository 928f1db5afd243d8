/**
 * The wasm engine's convolutions (src/train/wasmConvKernels.ts: im2col + the trainer's GEMM)
 * against tfjs's own cpu engine: conv2d and conv2dTranspose, their values and the gradients
 * with respect to input and filter, for strides 1 and 2, "same" and "valid" padding, windows
 * that do and do not leave the image, and channel counts that are and are not multiples of 4.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { Rng } from '../../src/core/random';
import { chooseEngine } from '../../src/train/backend';

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
}

interface Case {
  op: 'conv2d' | 'conv2dTranspose';
  input: [number, number, number, number];
  kernel: number;
  filters: number;
  stride: number;
  pad: 'same' | 'valid';
}

const CASES: Case[] = [
  { op: 'conv2d', input: [2, 7, 6, 1], kernel: 3, filters: 5, stride: 1, pad: 'same' },
  { op: 'conv2d', input: [3, 28, 28, 1], kernel: 4, filters: 8, stride: 2, pad: 'same' },
  { op: 'conv2d', input: [2, 14, 14, 6], kernel: 4, filters: 4, stride: 2, pad: 'same' },
  { op: 'conv2d', input: [2, 9, 11, 3], kernel: 5, filters: 7, stride: 2, pad: 'valid' },
  { op: 'conv2d', input: [1, 5, 5, 8], kernel: 1, filters: 3, stride: 1, pad: 'valid' },
  { op: 'conv2dTranspose', input: [2, 7, 7, 6], kernel: 4, filters: 4, stride: 2, pad: 'same' },
  { op: 'conv2dTranspose', input: [3, 14, 14, 4], kernel: 4, filters: 1, stride: 2, pad: 'same' },
  { op: 'conv2dTranspose', input: [2, 4, 5, 3], kernel: 3, filters: 5, stride: 2, pad: 'valid' },
  { op: 'conv2dTranspose', input: [2, 6, 6, 5], kernel: 3, filters: 2, stride: 1, pad: 'same' },
];

/** Output and the gradients of sum(output · weights) with respect to input and filter. */
function run(tf: Tf, c: Case, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const [n, h, w, cin] = c.input;
    const x = tf.tensor4d(randomValues(n * h * w * cin, seed), c.input);
    const filterShape: [number, number, number, number] = c.op === 'conv2d' ? [c.kernel, c.kernel, cin, c.filters] : [c.kernel, c.kernel, c.filters, cin];
    const f = tf.tensor4d(
      randomValues(
        filterShape.reduce((a, b) => a * b),
        seed + 1,
      ),
      filterShape,
    );
    const outSize = (s: number) => (c.pad === 'same' ? s * c.stride : (s - 1) * c.stride + c.kernel);
    const apply = (xi: Tensor, fi: Tensor): Tensor =>
      c.op === 'conv2d'
        ? tf.conv2d(xi as Tensor4D, fi as Tensor4D, c.stride, c.pad)
        : tf.conv2dTranspose(xi as Tensor4D, fi as Tensor4D, [n, outSize(h), outSize(w), c.filters], c.stride, c.pad);
    const y = apply(x, f);
    const weights = tf.tensor(randomValues(y.size, seed + 2), y.shape);
    const [dx, df] = tf.grads((xi: Tensor, fi: Tensor) => tf.sum(tf.mul(apply(xi, fi), weights)))([x, f]);
    return [y, dx!, df!].map((t) => t.dataSync() as Float32Array);
  });
}

type Tf = Awaited<ReturnType<typeof chooseEngine>>['tf'];

/**
 * Each case on the wasm engine and on tfjs's cpu engine, from the same seeded values: the output
 * and both gradients agree to float32 rounding (nonZero: and none of them is all zeros).
 */
async function assertMatchesCpuEngine(tf: Tf, cases: readonly Case[], seedBase: number, { nonZero = false } = {}): Promise<void> {
  for (const [i, c] of cases.entries()) {
    const got = run(tf, c, seedBase + 10 * i);
    await tf.setBackend('cpu');
    let want: Float32Array[];
    try {
      want = run(tf, c, seedBase + 10 * i);
    } finally {
      await tf.setBackend('wasm');
    }
    ['output', 'input gradient', 'filter gradient'].forEach((what, j) => {
      const g = got[j]!;
      const r = want[j]!;
      assert.equal(g.length, r.length, `${c.op} ${JSON.stringify(c)}: ${what} size`);
      // A loop, not Math.max(...r): a 130-image batch's output is more arguments than the stack holds.
      let scale = 0;
      for (const v of r) scale = Math.max(scale, Math.abs(v));
      let worst = 0;
      for (let q = 0; q < r.length; q++) worst = Math.max(worst, Math.abs(g[q]! - r[q]!));
      if (nonZero) assert.ok(scale > 0, `${what} is all zeros: the test would prove nothing`);
      assert.ok(worst <= 1e-5 * Math.max(scale, 1e-6) * Math.sqrt(r.length), `${c.op} ${JSON.stringify(c)}: ${what} differs by ${worst} (scale ${scale})`);
    });
  }
}

test('wasm convolutions match the cpu engine: values and both gradients', async () => {
  const { tf, name } = await chooseEngine('wasm');
  assert.equal(name, 'wasm');
  await import('@tensorflow/tfjs-backend-cpu');
  await assertMatchesCpuEngine(tf, CASES, 0, { nonZero: true });
});

/** Large enough that every im2col product is split over the threads (threadPool.ts splits from 2^19 multiply-adds). */
const THREAD_CASES: Case[] = [
  { op: 'conv2d', input: [4, 28, 28, 8], kernel: 4, filters: 32, stride: 2, pad: 'same' },
  { op: 'conv2dTranspose', input: [4, 14, 14, 32], kernel: 4, filters: 8, stride: 2, pad: 'same' },
];

test('convolutions and their gradients give the same bits on 1 and 2 kernel threads', async () => {
  const { tf, kernels } = await chooseEngine('wasm');
  assert.ok(kernels, 'the wasm engine has the trainer kernels');
  try {
    for (const [i, c] of THREAD_CASES.entries()) {
      await kernels.setThreads(1);
      const one = run(tf, c, 100 + 10 * i);
      await kernels.setThreads(2);
      const two = run(tf, c, 100 + 10 * i);
      ['output', 'input gradient', 'filter gradient'].forEach((what, j) => assert.deepEqual(two[j], one[j], `${c.op} ${JSON.stringify(c)}: ${what}`));
    }
  } finally {
    await kernels.setThreads(1);
  }
});

/** Random shapes, both ops: every path of kernels/conv.ts (columns packed straight or through sgemm). */
function generatedCases(count: number, seed: number, big: boolean): Case[] {
  const rng = new Rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  return Array.from({ length: count }, () => {
    const kernel = int(1, 5);
    const pad: Case['pad'] = rng.uniform() < 0.5 ? 'same' : 'valid';
    const side = () => (big ? int(10, 18) : int(Math.max(3, kernel), 12));
    return {
      op: rng.uniform() < 0.5 ? 'conv2d' : 'conv2dTranspose',
      input: [big ? int(2, 5) : int(1, 3), side(), side(), big ? int(8, 24) : int(1, 9)],
      kernel,
      filters: big ? int(9, 40) : int(1, 12),
      stride: int(1, 2),
      pad,
    };
  });
}

test('generated shapes, and filters wider than the GEMM packs whole: wasm convolutions match the cpu engine', async () => {
  const { tf } = await chooseEngine('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
  const wide: Case[] = [
    // 4100 output channels: the forward filter is too wide to pack whole (sgemm's path).
    { op: 'conv2d', input: [1, 3, 4, 2], kernel: 1, filters: 4100, stride: 1, pad: 'same' },
    // A 3x3x460 window (depth 4140): the input gradient's filter is too wide to pack whole.
    { op: 'conv2d', input: [1, 4, 4, 460], kernel: 3, filters: 3, stride: 1, pad: 'same' },
  ];
  await assertMatchesCpuEngine(tf, [...generatedCases(16, 3, false), ...wide], 500);
});

test('generated shapes split unevenly over 2 threads give the bits of 1 thread', async () => {
  const { tf, kernels } = await chooseEngine('wasm');
  assert.ok(kernels);
  try {
    for (const [i, c] of generatedCases(8, 4, true).entries()) {
      await kernels.setThreads(1);
      const one = run(tf, c, 900 + 10 * i);
      await kernels.setThreads(2);
      const two = run(tf, c, 900 + 10 * i);
      ['output', 'input gradient', 'filter gradient'].forEach((what, j) => assert.deepEqual(two[j], one[j], `${JSON.stringify(c)}: ${what}`));
    }
  } finally {
    await kernels.setThreads(1);
  }
});

/**
 * The packed column paths read a window straight from x when all four windows of a panel lie in
 * the image, and window row by window row otherwise (kernels/im2col.ts): shapes where panels of
 * both kinds and ragged last panels meet, with even kernels, strides above the kernel, "same" and
 * "valid", and channel counts that make a window row whole vectors (the filter gradient's packed
 * path) or not.
 */
test('generated shapes with windows inside and across the border in one panel: wasm convolutions match the cpu engine', async () => {
  const { tf } = await chooseEngine('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
  const rng = new Rng(77);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const cases: Case[] = [
    { op: 'conv2d', input: [2, 28, 28, 1], kernel: 4, filters: 5, stride: 2, pad: 'same' },
    { op: 'conv2d', input: [3, 9, 10, 4], kernel: 2, filters: 6, stride: 3, pad: 'same' },
    { op: 'conv2d', input: [2, 11, 7, 2], kernel: 2, filters: 3, stride: 3, pad: 'valid' },
    { op: 'conv2dTranspose', input: [2, 5, 6, 8], kernel: 4, filters: 1, stride: 2, pad: 'same' },
    ...Array.from({ length: 14 }, (): Case => {
      const kernel = int(1, 5);
      return {
        op: rng.uniform() < 0.5 ? 'conv2d' : 'conv2dTranspose',
        input: [int(1, 3), int(Math.max(3, kernel), 15), int(Math.max(3, kernel), 15), [1, 2, 3, 4, 8][int(0, 4)]!],
        kernel,
        filters: int(1, 9),
        stride: int(1, 3),
        pad: rng.uniform() < 0.5 ? 'same' : 'valid',
      };
    }),
  ];
  await assertMatchesCpuEngine(tf, cases, 1300);
});

/**
 * Geometries users write that the shapes above do not reach: a kernel larger than the image
 * ("same" pads it all round), one-pixel images and rows, strides above the kernel up to 4 (windows
 * that skip pixels), and transposed convolutions whose kernel is shorter than their stride (the
 * output has pixels no window reaches).
 */
test('kernels larger than the image, one-pixel images and strides above the kernel: wasm convolutions match the cpu engine', async () => {
  const { tf, kernels } = await chooseEngine('wasm');
  assert.ok(kernels);
  await import('@tensorflow/tfjs-backend-cpu');
  const rng = new Rng(5);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const written: Case[] = [
    { op: 'conv2d', input: [2, 5, 7, 3], kernel: 9, filters: 2, stride: 1, pad: 'same' },
    { op: 'conv2d', input: [2, 1, 1, 3], kernel: 3, filters: 2, stride: 2, pad: 'same' },
    { op: 'conv2d', input: [2, 1, 7, 3], kernel: 4, filters: 2, stride: 3, pad: 'same' },
    { op: 'conv2dTranspose', input: [2, 1, 1, 3], kernel: 4, filters: 2, stride: 2, pad: 'same' },
    { op: 'conv2dTranspose', input: [2, 3, 2, 3], kernel: 1, filters: 2, stride: 3, pad: 'same' },
    { op: 'conv2dTranspose', input: [2, 3, 2, 3], kernel: 2, filters: 2, stride: 3, pad: 'valid' },
    { op: 'conv2dTranspose', input: [2, 3, 4, 3], kernel: 9, filters: 2, stride: 1, pad: 'same' },
  ];
  const cases = [
    ...written,
    ...Array.from({ length: 40 }, (): Case => ({
      op: rng.uniform() < 0.5 ? 'conv2d' : 'conv2dTranspose',
      input: [int(1, 3), int(1, 9), int(1, 9), int(1, 6)],
      kernel: int(1, 8),
      filters: int(1, 6),
      stride: int(1, 4),
      pad: rng.uniform() < 0.5 ? 'same' : 'valid',
    })),
  ].filter((c) => c.pad === 'same' || c.op === 'conv2dTranspose' || (c.input[1] >= c.kernel && c.input[2] >= c.kernel));
  await assertMatchesCpuEngine(tf, cases, 2000);
  try {
    for (const [i, c] of cases.entries()) {
      const big: Case = { ...c, input: [32, c.input[1], c.input[2], c.input[3] * 4], filters: c.filters * 8 };
      await kernels.setThreads(1);
      const one = run(tf, big, 3000 + 10 * i);
      await kernels.setThreads(2);
      const two = run(tf, big, 3000 + 10 * i);
      ['output', 'input gradient', 'filter gradient'].forEach((what, j) => assert.deepEqual(two[j], one[j], `${JSON.stringify(big)}: ${what}`));
    }
  } finally {
    await kernels.setThreads(1);
  }
});

/**
 * The whole range a user's layers span: batches 1-130, channels 1-64 in and out, kernels 1-5,
 * strides 1-3, odd and even sizes, "same" and "valid"; drawn so that the forward pass takes each of
 * its paths (windows read in place where a window row is at least 16 floats, packed columns below)
 * with ragged last panels of rows and of output channels. Products are kept small enough for the
 * cpu engine's reference.
 */
test('generated shapes over batches 1-130 and channels 1-64: wasm convolutions match the cpu engine', async () => {
  const { tf } = await chooseEngine('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
  const rng = new Rng(64);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const cases: Case[] = [];
  while (cases.length < 24) {
    const kernel = int(1, 5);
    const stride = int(1, 3);
    const pad: Case['pad'] = rng.uniform() < 0.5 ? 'same' : 'valid';
    const c: Case = {
      op: rng.uniform() < 0.5 ? 'conv2d' : 'conv2dTranspose',
      input: [int(1, 130), int(kernel, 13), int(kernel, 13), int(1, 64)],
      kernel,
      filters: int(1, 64),
      stride,
      pad,
    };
    const [n, h, w, cin] = c.input;
    const pixels = c.op === 'conv2d' ? n * Math.ceil(h / stride) * Math.ceil(w / stride) : n * h * w;
    if (pixels * kernel * kernel * cin * c.filters <= 4e6) cases.push(c);
  }
  await assertMatchesCpuEngine(tf, cases, 4000, { nonZero: true });
});
