/**
 * Products much wider or taller than the GEMM's packed blocks (src/train/kernels/gemm.ts), as very
 * wide data make them (a million columns), and what is left of a run the engine failed in:
 * - the GEMM's scratch memory is a few MiB whatever the size of the product (it was
 *   (m + n) · 256 · 4 bytes, a gigabyte for a million columns, and the engine ran out of memory);
 * - products wider than a block of columns, taller than a block of rows, or both, match a float64
 *   product, in both builds of the kernel module, on a memory that could not hold whole packed operands;
 * - any block of rows or columns of C computed on its own (as a thread computes its part) has the
 *   same bits as in the whole product;
 * - on the engine, a product a million columns wide (or tall) gives the same bits on 1 and 2 threads;
 * - a failure while freeing the model after the run does not take the place of the error that
 *   ended it, and after a completed run is a warning, not a failed run.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { startRequest, type FromTrainer } from '../../src/core/protocol';
import { chooseEngine } from '../../src/train/backend';
import { TrainingLoop } from '../../src/train/loop';
import { Vae } from '../../src/train/model';
import { runSession } from '../../src/train/session';
import { instantiateKernels, type KernelBuild } from '../../src/train/wasmKernels';
import { randomValues, reference } from './gemm-testkit';

/** Each term is below 1 in size: the float32 sum of k of them is within k·2⁻²³ or so. */
function assertClose(got: Float32Array, want: Float64Array, k: number, label: string): void {
  assert.equal(got.length, want.length, label);
  for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i]! - want[i]!) <= 4e-7 * k + 1e-7)) assert.fail(`${label} at ${i}: ${got[i]} vs ${want[i]}`);
}

const MiB = 2 ** 20;
/** What the GEMM's scratch may take at most, whatever the product (its blocks' size, with room to spare). */
const SCRATCH_BOUND = 8 * MiB;

test('GEMM scratch stays a few MiB however wide or tall the product', async () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const k = await instantiateKernels('simd', memory);
  const sizes: [number, number][] = [
    [16, 1_000_000], // a decoder's output layer on a million columns
    [1_000_000, 4], // the encoder's weight gradient on them
    [4, 3_000_001],
    [1_000_000, 1_000_000],
    [2 ** 31 - 1, 2 ** 31 - 1],
  ];
  for (const [m, n] of sizes) {
    const bytes = k.sgemmScratchBytes(m, n);
    assert.ok(bytes > 0 && bytes <= SCRATCH_BOUND, `${m} x ${n}: ${bytes} bytes of scratch`);
  }
  // Past a block, more columns (or rows) take no more scratch.
  assert.equal(k.sgemmScratchBytes(16, 1_000_000), k.sgemmScratchBytes(16, 100_000));
  assert.equal(k.sgemmScratchBytes(1_000_000, 4), k.sgemmScratchBytes(100_000, 4));
  // Small products still take what their own panels need, not a whole block.
  assert.ok(k.sgemmScratchBytes(4, 8) < k.sgemmScratchBytes(128, 512));
});

/** [m, n, k]: wider than a block of columns, taller than a block of rows, both, and a million columns. */
const WIDE_SHAPES: [number, number, number][] = [
  [7, 9001, 300], // ragged edges, depth over one 256 slice
  [2501, 9, 300],
  [1030, 4100, 3],
  [3, 1_000_003, 5],
];

for (const build of ['relaxed', 'simd'] as KernelBuild[]) {
  test(`kernel module, ${build} build: products wider and taller than its blocks match a float64 product`, async () => {
    // 64 MiB: the operands and their result, but not the gigabyte whole packed operands took.
    const memory = new WebAssembly.Memory({ initial: 1024, maximum: 1024, shared: true });
    const k = await instantiateKernels(build, memory);
    const align = (x: number) => Math.ceil(x / 16) * 16;
    for (const [m, n, depth] of WIDE_SHAPES)
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const label = `${build} ${m}x${n}x${depth} ta=${ta} tb=${tb}`;
          const av = randomValues(m * depth, 11 * m + n + depth);
          const bv = randomValues(depth * n, m + 5 * n + depth);
          const a = 0;
          const b = align(a + 4 * av.length);
          const c = align(b + 4 * bv.length);
          const scratch = align(c + 4 * m * n);
          assert.ok(scratch + k.sgemmScratchBytes(m, n) <= memory.buffer.byteLength, `${label}: fits the memory`);
          const f32 = new Float32Array(memory.buffer);
          f32.set(av, a / 4);
          f32.set(bv, b / 4);
          k.sgemm(m, n, depth, a, ta, b, tb, c, scratch);
          const whole = new Float32Array(memory.buffer, c, m * n).slice();
          assertClose(whole, reference(av, bv, m, n, depth, ta, tb), depth, label);

          // A block of C on its own, as a thread's part: rows [i0, i0 + rows) and columns [j0, j0 + cols),
          // starting off the kernel's block boundaries and spanning more than one block where C is that large.
          const i0 = Math.floor(m / 3);
          const j0 = Math.floor(n / 3);
          const rows = m - i0;
          const cols = n - j0;
          const lda = ta ? m : depth;
          const ldb = tb ? depth : n;
          const aAt = a + 4 * (ta ? i0 : i0 * depth);
          const bAt = b + 4 * (tb ? j0 * depth : j0);
          const part = align(scratch + k.sgemmScratchBytes(rows, cols));
          k.sgemmStrided(rows, cols, depth, aAt, lda, ta, bAt, ldb, tb, part, cols, scratch);
          const got = new Float32Array(memory.buffer, part, rows * cols);
          for (let r = 0; r < rows; r++) {
            const want = whole.subarray((i0 + r) * n + j0, (i0 + r) * n + n);
            const mine = got.subarray(r * cols, (r + 1) * cols);
            if (!Buffer.from(mine.buffer, mine.byteOffset, mine.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)))
              assert.fail(`${label}: row ${i0 + r} of the block from (${i0}, ${j0}) differs from the whole product's`);
          }
        }
  });
}

test('on the engine, products a million columns wide or tall give the same bits on 1 and 2 threads', async () => {
  const { tf, kernels } = await chooseEngine('wasm');
  assert.ok(kernels, 'the wasm engine has the trainer kernels');
  const wide = 1_000_003;
  // A decoder's output layer (16 x 4 · 4 x wide) and the encoder's weight gradient (xᵀ·dy: wide x 16 · 16 x 4).
  const cases = [
    { label: 'wide x·W', a: [16, 4], b: [4, wide], ta: false, tb: false, m: 16, n: wide, k: 4 },
    { label: 'wide xᵀ·dy', a: [16, wide], b: [16, 4], ta: true, tb: false, m: wide, n: 4, k: 16 },
    { label: 'wide dy·Wᵀ', a: [16, wide], b: [4, wide], ta: false, tb: true, m: 16, n: 4, k: wide },
  ];
  try {
    for (const p of cases) {
      const av = randomValues(p.a[0]! * p.a[1]!, p.m + p.k);
      const bv = randomValues(p.b[0]! * p.b[1]!, p.n + 3 * p.k);
      const a = tf.tensor2d(av, p.a as [number, number]);
      const b = tf.tensor2d(bv, p.b as [number, number]);
      const results: Float32Array[] = [];
      for (const threads of [1, 2]) {
        await kernels.setThreads(threads);
        // Not through tf.tidy: it walks a returned array element by element.
        const c = tf.matMul(a, b, p.ta, p.tb);
        results.push(c.dataSync() as Float32Array);
        c.dispose();
      }
      tf.dispose([a, b]);
      assert.ok(Buffer.from(results[1]!.buffer).equals(Buffer.from(results[0]!.buffer)), `${p.label}: 2 threads give other bits than 1`);
      assertClose(results[0]!, reference(av, bv, p.m, p.n, p.k, p.ta, p.tb), p.k, p.label);
    }
  } finally {
    await kernels.setThreads(1);
  }
});

const SPEC = JSON.stringify({
  name: 'dispose',
  data: { synthetic: 'manifold', intrinsicDim: 2, dim: 8, n: 64 },
  model: { latentDim: 2, encoder: { hidden: [8] }, decoder: { hidden: [8] } },
  training: { epochs: 1, batchSize: 32 },
  diagnostics: { subset: 32, mcSamples: 2 },
});

/** A run on the cpu engine whose model cannot be freed (as after the engine's memory was corrupted), and maybe failing first. */
async function runWithBrokenDispose(failure: Error | undefined): Promise<{ status: string; events: FromTrainer[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-dispose-'));
  const specPath = path.join(dir, 'dispose.vae.json');
  fs.writeFileSync(specPath, SPEC);
  const dispose = Object.getOwnPropertyDescriptor(Vae.prototype, 'dispose')!;
  const run = Object.getOwnPropertyDescriptor(TrainingLoop.prototype, 'run')!;
  Vae.prototype.dispose = () => {
    throw new WebAssembly.RuntimeError('memory access out of bounds');
  };
  if (failure)
    TrainingLoop.prototype.run = () => {
      throw failure;
    };
  try {
    const events: FromTrainer[] = [];
    const status = await runSession(startRequest({ specPath, runsDir: path.join(dir, 'runs'), backend: 'cpu' }), (e) => events.push(e), {
      stopRequested: false,
    });
    return { status, events };
  } finally {
    Object.defineProperty(Vae.prototype, 'dispose', dispose);
    Object.defineProperty(TrainingLoop.prototype, 'run', run);
  }
}

const errorsOf = (events: FromTrainer[]) => events.filter((e): e is Extract<FromTrainer, { type: 'error' }> => e.type === 'error');
const warningsOf = (events: FromTrainer[]) =>
  events.filter((e): e is Extract<FromTrainer, { type: 'log' }> => e.type === 'log' && e.level === 'warn').map((e) => e.message);

test('a failure while freeing the model does not hide the error that ended the run', async () => {
  const { status, events } = await runWithBrokenDispose(new Error('the original failure'));
  assert.equal(status, 'failed');
  const errors = errorsOf(events);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(errors[0]!.message, /the original failure/);
  assert.doesNotMatch(errors[0]!.message, /memory access out of bounds/);
  assert.ok(
    warningsOf(events).some((m) => /could not free the model on the cpu engine .*memory access out of bounds/.test(m)),
    JSON.stringify(warningsOf(events)),
  );
});

test('a failure while freeing the model after a completed run is a warning, not a failed run', async () => {
  const { status, events } = await runWithBrokenDispose(undefined);
  assert.equal(status, 'completed');
  assert.deepEqual(errorsOf(events), []);
  const done = events.find((e) => e.type === 'done') as Extract<FromTrainer, { type: 'done' }>;
  assert.equal(done.status, 'completed');
  const warnings = warningsOf(events);
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0]!, /^could not free the model on the cpu engine after the run \(RuntimeError: memory access out of bounds\)$/);
  assert.doesNotMatch(warnings[0]!, /\n\s+at /, 'no stack trace');
});
