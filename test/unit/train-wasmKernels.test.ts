/**
 * The wasm engine's own kernels (src/train/wasmKernels.ts, src/train/kernels):
 * - the GEMM that replaces BatchMatMul gives float64-accurate products for every orientation,
 *   for sizes that are and are not multiples of its tile (4x8) and its depth block (256);
 * - so do both builds of the module on a memory of their own: relaxed SIMD (fused multiply-add,
 *   what runs where the runtime has it) and plain SIMD (the fallback where it does not);
 * - batched products still go to tfjs's kernel;
 * - the fused Adam update gives the same bits as tfjs's operations, and never writes through
 *   memory another tensor shares;
 * - Concat and SplitV, replaced by strided row copies, give the cpu engine's values for generated
 *   shapes, every axis, empty parts and odd widths (and their gradients, each other's).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { createAdam } from '../../src/train/adam';
import { chooseEngine } from '../../src/train/backend';
import { installWasmKernels, instantiateKernels, type KernelBuild } from '../../src/train/wasmKernels';
import { Rng } from '../../src/core/random';
import { randomValues, reference } from './gemm-testkit';

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [4, 8, 16],
  [7, 13, 5],
  [128, 24, 40],
  [33, 70, 300], // depth over one 256 block, ragged tiles on both edges
  [5, 9, 600],
];

test('wasm GEMM: every orientation matches a float64 product to float32 accuracy', async () => {
  const { tf, name, kernels } = await chooseEngine('wasm');
  assert.equal(name, 'wasm');
  assert.ok(kernels, 'the wasm engine installs its kernels');
  for (const [m, n, k] of SHAPES)
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const av = randomValues(m * k, m + 7 * n + 13 * k);
        const bv = randomValues(k * n, 3 * m + n + k);
        const got = tf.tidy(() => tf.matMul(tf.tensor2d(av, ta ? [k, m] : [m, k]), tf.tensor2d(bv, tb ? [n, k] : [k, n]), ta, tb).dataSync());
        const want = reference(av, bv, m, n, k, ta, tb);
        assert.equal(got.length, m * n);
        for (let i = 0; i < want.length; i++) {
          // Each term is below 1 in size: the float32 sum of k of them is within k·2⁻²³ or so.
          assert.ok(Math.abs(got[i]! - want[i]!) <= 4e-7 * k + 1e-7, `${m}x${n}x${k} ta=${ta} tb=${tb} at ${i}: ${got[i]} vs ${want[i]}`);
        }
      }
});

for (const build of ['relaxed', 'simd'] as KernelBuild[]) {
  test(`kernel module, ${build} build: GEMM in every orientation, on its own memory`, async () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true }); // 4 MiB, shared as the engine's is
    const k = await instantiateKernels(build, memory);
    for (const [m, n, depth] of SHAPES)
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const av = randomValues(m * depth, 11 * m + n + depth);
          const bv = randomValues(depth * n, m + 5 * n + depth);
          // Layout: A, B, C, scratch, one after the other (byte addresses, 16-aligned).
          const align = (x: number) => Math.ceil(x / 16) * 16;
          const a = 0;
          const b = align(a + 4 * av.length);
          const c = align(b + 4 * bv.length);
          const scratch = align(c + 4 * m * n);
          assert.ok(scratch + k.sgemmScratchBytes(m, n) <= memory.buffer.byteLength);
          const f32 = new Float32Array(memory.buffer);
          f32.set(av, a / 4);
          f32.set(bv, b / 4);
          k.sgemm(m, n, depth, a, ta, b, tb, c, scratch);
          const got = new Float32Array(memory.buffer, c, m * n);
          const want = reference(av, bv, m, n, depth, ta, tb);
          for (let i = 0; i < want.length; i++)
            assert.ok(Math.abs(got[i]! - want[i]!) <= 4e-7 * depth + 1e-7, `${build} ${m}x${n}x${depth} ta=${ta} tb=${tb} at ${i}`);
        }
  });
}

test('wasm GEMM: an empty inner dimension gives zeros, batched products still work', async () => {
  const { tf, kernels } = await chooseEngine('wasm');
  // Installing again must not take the trainer's own kernel for the stock one it falls back to.
  assert.equal(await installWasmKernels(tf), kernels);
  const zeros = tf.tidy(() => tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 5])).dataSync());
  assert.deepEqual(Array.from(zeros), new Array(15).fill(0));
  const a = randomValues(2 * 3 * 4, 1);
  const b = randomValues(2 * 4 * 5, 2);
  const got = tf.tidy(() => tf.matMul(tf.tensor3d(a, [2, 3, 4]), tf.tensor3d(b, [2, 4, 5])).dataSync());
  for (let batch = 0; batch < 2; batch++) {
    const want = reference(a.subarray(batch * 12, batch * 12 + 12), b.subarray(batch * 20, batch * 20 + 20), 3, 5, 4, false, false);
    for (let i = 0; i < 15; i++) assert.ok(Math.abs(got[batch * 15 + i]! - want[i]!) < 1e-5);
  }
});

test('fused Adam gives the same bits as tfjs operations, and leaves shared memory alone', async () => {
  const { tf, kernels } = await chooseEngine('wasm');
  const sizes = [784 * 3, 13, 1];
  const start = sizes.map((n, i) => randomValues(n, 100 + i));
  const make = (tag: string): Variable[] => start.map((v, i) => tf.variable(tf.tensor1d(v), true, `adam-${tag}-${i}`));
  const plain = make('plain');
  const fused = make('fused');
  // A tensor that shares the fused variable's memory must keep its values.
  const alias = tf.clone(fused[0]!);
  const plainAdam = createAdam(tf, 1e-3);
  const fusedAdam = createAdam(tf, 1e-3, kernels);
  for (let step = 0; step < 5; step++) {
    const grads = sizes.map((n, i) => randomValues(n, 1000 * step + i));
    const gradients = (vars: Variable[]): { name: string; tensor: Tensor }[] => vars.map((v, i) => ({ name: v.name, tensor: tf.tensor1d(grads[i]!) }));
    const gp = gradients(plain);
    const gf = gradients(fused);
    plainAdam.applyGradients(gp);
    fusedAdam.applyGradients(gf);
    tf.dispose([...gp.map((g) => g.tensor), ...gf.map((g) => g.tensor)]);
  }
  for (let i = 0; i < sizes.length; i++) assert.deepEqual(fused[i]!.dataSync(), plain[i]!.dataSync(), `variable ${i}`);
  const moments = (o: typeof plainAdam) => o.getWeights().then((ws) => ws.map((w) => Array.from(w.tensor.dataSync())));
  assert.deepEqual(await moments(fusedAdam), await moments(plainAdam));
  assert.deepEqual(alias.dataSync(), start[0]);
  tf.dispose([...plain, ...fused, alias]);
});

/** Each case run on the wasm engine, then on the cpu engine: the same shapes and values, to the bit. */
async function assertSameOnCpu<C, R>(tf: Awaited<ReturnType<typeof chooseEngine>>['tf'], cases: readonly C[], run: (c: C) => R): Promise<void> {
  for (const c of cases) {
    const got = run(c);
    await tf.setBackend('cpu');
    let want: R;
    try {
      want = run(c);
    } finally {
      await tf.setBackend('wasm');
    }
    assert.deepEqual(got, want, JSON.stringify(c));
  }
}

test('Concat and SplitV on the wasm engine match the cpu engine: generated shapes, every axis, empty parts', async () => {
  const { tf } = await chooseEngine('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
  const rng = new Rng(41);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const cases = Array.from({ length: 40 }, (_, i) => {
    const rank = int(1, 4);
    const shape = Array.from({ length: rank }, () => int(1, 7));
    const axis = int(0, rank - 1);
    // Parts along the axis, one of them sometimes empty; widths 1..9 (not multiples of 4 mostly).
    const parts = Array.from({ length: int(2, 4) }, () => (rng.uniform() < 0.15 ? 0 : int(1, 9)));
    return { shape, axis, parts, seed: 7000 + 10 * i, negativeAxis: rng.uniform() < 0.3 };
  });
  // The latent heads of the conv VAE, as model.ts joins them.
  cases.push({ shape: [3136, 1], axis: 1, parts: [20, 20], seed: 9000, negativeAxis: false });
  const run = (c: (typeof cases)[number]) =>
    tf.tidy(() => {
      const tensors = c.parts.map((p, j) => {
        const shape = c.shape.slice();
        shape[c.axis] = p;
        const n = shape.reduce((a, d) => a * d, 1);
        return tf.tensor(randomValues(n, c.seed + j), shape);
      });
      const axis = c.negativeAxis ? c.axis - c.shape.length : c.axis;
      const joined = tf.concat(tensors, axis);
      const weights = tf.tensor(randomValues(joined.size, c.seed + 99), joined.shape);
      // Concat's gradient is a SplitV of the incoming gradient.
      const grads = tf.grads((...ts: Tensor[]) => tf.sum(tf.mul(tf.concat(ts, axis), weights)))(tensors);
      const split = tf.split(joined, c.parts, axis);
      return [joined, ...grads, ...split].map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
    });
  await assertSameOnCpu(tf, cases, run);
});

test('Slice on the wasm engine matches the cpu engine: matrices cut every way, sizes of -1, other ranks', async () => {
  const { tf } = await chooseEngine('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
  const rng = new Rng(43);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const cases = Array.from({ length: 40 }, (_, i) => {
    const shape = Array.from({ length: i < 34 ? 2 : int(1, 3) }, () => int(1, 9));
    const begin = shape.map((d) => int(0, d - 1));
    // To the end (-1), empty, or anything that fits.
    const size = shape.map((d, j) => (rng.uniform() < 0.2 ? -1 : int(0, d - begin[j]!)));
    return { shape, begin, size, seed: 8000 + 10 * i };
  });
  // The two halves of the diagnostics pass's encoder output.
  cases.push({ shape: [256, 40], begin: [0, 20], size: [256, 20], seed: 9100 }, { shape: [256, 40], begin: [0, 0], size: [256, 20], seed: 9101 });
  const run = (c: (typeof cases)[number]) =>
    tf.tidy(() => {
      const x = tf.tensor(
        randomValues(
          c.shape.reduce((a, d) => a * d, 1),
          c.seed,
        ),
        c.shape,
      );
      const y = tf.slice(x, c.begin, c.size);
      return { shape: y.shape, values: Array.from(y.dataSync()) };
    });
  await assertSameOnCpu(tf, cases, run);
});
