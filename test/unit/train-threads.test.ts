/**
 * Training on several threads (src/train/threadPool.ts, sharedMemory.ts, kernelThread.ts):
 * - the wasm engine runs on a shared memory (its module rewritten to import one);
 * - a product is split into blocks that cover C exactly once, on whole tiles;
 * - products in all four orientations, ragged sizes included, and Adam updates give the same
 *   bits on 1, 2 and 3 threads;
 * - 100 training steps (losses) and the diagnostics passes between them are identical on 1 and 2 threads;
 * - a kernel thread that throws, exits or hangs ends a CLI run as failed (exit 1, a plain message,
 *   a readable run folder), promptly, instead of hanging;
 * - the thread count's precedence: request, then spec (capped at the cores), then the cores less those kept free;
 * - a spec's thread count is checked like any field.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Tf } from '../../src/train/backend';
import { chooseEngine } from '../../src/train/backend';
import { Rng } from '../../src/core/random';
import { parseSpec } from '../../src/core/spec';
import type { MetricsRecord, RunMeta, RunSummary } from '../../src/core/runFormat';
import { loadData } from '../../src/data/load';
import { createAdam } from '../../src/train/adam';
import { TrainingLoop } from '../../src/train/loop';
import { shareModuleMemory } from '../../src/train/sharedMemory';
import { planAdam, planGemm, type GemmArgs } from '../../src/train/threadPool';
import { threadCount } from '../../src/train/threads';
import { watchSteps } from '../../bench/stepHook';
import { finiteRecord } from './record-testkit';

const root = path.join(__dirname, '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-threads-'));

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.uniform() * 2 - 1;
  return v;
}

async function wasm(): Promise<{ tf: Tf; setThreads(n: number): Promise<void> }> {
  const { tf, kernels } = await chooseEngine('wasm');
  assert.ok(kernels, 'the wasm engine has the trainer kernels');
  return { tf, setThreads: (n) => kernels.setThreads(n) };
}

test('the wasm engine runs on a shared memory', async () => {
  const { tf } = await wasm();
  const memory = (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm.memory;
  const before = memory.buffer.byteLength;
  const shared = memory.buffer instanceof SharedArrayBuffer;
  assert.ok(shared);
  // It still grows: a tensor larger than the heap so far.
  const big = tf.zeros([before / 4 + 1024]);
  assert.ok((memory.buffer as ArrayBufferLike).byteLength > before);
  assert.equal(big.dataSync()[before / 4], 0);
  big.dispose();
});

test('a module that defines its memory is rewritten to import a shared one', () => {
  const memoryName = [...Buffer.from('memory')];
  // (module (memory (export "memory") 1 2)): no import section of its own.
  const own = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 4, 1, 1, 1, 2, 7, 10, 1, 6, ...memoryName, 2, 0]);
  const { binary, memory } = shareModuleMemory(own);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { memory } });
  const exported = instance.exports.memory as WebAssembly.Memory;
  assert.equal(exported, memory, 'the module now uses (and still exports) the shared memory');
  const buffer: ArrayBufferLike = exported.buffer;
  assert.ok(buffer instanceof SharedArrayBuffer);
  assert.equal(memory.buffer.byteLength, 65536);
  memory.grow(1);
  assert.throws(() => memory.grow(1), "the module's maximum (2 pages) is kept");
  assert.throws(() => shareModuleMemory(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), /defines no memory/);
  assert.throws(() => shareModuleMemory(Uint8Array.from([1, 2, 3])), /not a WebAssembly module/);
});

test('a product is split into blocks of whole tiles that cover C exactly once', () => {
  const cases: GemmArgs[] = [
    { m: 128, n: 512, k: 784, a: 0, transA: false, b: 1 << 22, transB: false, c: 1 << 24 },
    { m: 784, n: 512, k: 128, a: 0, transA: true, b: 1 << 22, transB: false, c: 1 << 24 },
    { m: 301, n: 67, k: 133, a: 0, transA: false, b: 1 << 22, transB: true, c: 1 << 24 },
    { m: 37, n: 1001, k: 250, a: 0, transA: true, b: 1 << 22, transB: true, c: 1 << 24 },
  ];
  for (const g of cases)
    for (const threads of [1, 2, 3, 8]) {
      const blocks = planGemm(g, threads);
      assert.ok(blocks.length >= 1 && blocks.length <= threads);
      if (threads > 1) assert.ok(blocks.length > 1, `${g.m}x${g.n}x${g.k} is large enough to split`);
      const covered = new Uint8Array(g.m * g.n);
      for (const b of blocks) {
        const offset = (b.c - g.c) / 4;
        const [i0, j0] = [Math.floor(offset / g.n), offset % g.n];
        assert.equal(b.ldc, g.n);
        assert.ok(i0 % 4 === 0 && j0 % 8 === 0, 'blocks start on tile boundaries');
        // The block's operands are the matching rows of op(A) and columns of op(B).
        assert.equal(b.a, g.a + 4 * (g.transA ? i0 : i0 * g.k));
        assert.equal(b.b, g.b + 4 * (g.transB ? j0 * g.k : j0));
        for (let i = i0; i < i0 + b.m; i++) for (let j = j0; j < j0 + b.n; j++) covered[i * g.n + j]!++;
      }
      assert.ok(
        covered.every((x) => x === 1),
        `${g.m}x${g.n} on ${threads} threads: every element once`,
      );
    }
  assert.equal(planGemm({ m: 4, n: 8, k: 16, a: 0, transA: false, b: 0, transB: false, c: 0 }, 4).length, 1, 'a small product stays on one thread');
  const ranges = planAdam(100_003, 3);
  assert.equal(ranges.length, 3);
  assert.deepEqual([ranges[0]![0], ranges.at(-1)![1]], [0, 100_003]);
  for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i]![0], ranges[i - 1]![1]);
  assert.ok(ranges.every(([s]) => s % 4 === 0));
});

const SHAPES: [number, number, number][] = [
  [128, 512, 784], // the MLP's encoder product
  [784, 512, 128], // a weight gradient: m > n splits by rows
  [67, 133, 301], // ragged tiles on both edges, depth over one 256 block
  [301, 67, 259],
  [5, 2003, 77],
];

test('products in every orientation give the same bits on 1, 2 and 3 threads', async () => {
  const { tf, setThreads } = await wasm();
  try {
    for (const [m, n, k] of SHAPES)
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const a = tf.tensor2d(randomValues(m * k, m + 3 * n + 7 * k), ta ? [k, m] : [m, k]);
          const b = tf.tensor2d(randomValues(k * n, 5 * m + n + k), tb ? [n, k] : [k, n]);
          const results: Float32Array[] = [];
          for (const threads of [1, 2, 3]) {
            await setThreads(threads);
            results.push(tf.tidy(() => tf.matMul(a, b, ta, tb).dataSync() as Float32Array));
          }
          const label = `${m}x${n}x${k} ta=${ta} tb=${tb}`;
          assert.deepEqual(results[1], results[0], `${label}: 2 threads`);
          assert.deepEqual(results[2], results[0], `${label}: 3 threads`);
          // And the product is right (one spot check per case; train-wasmKernels tests it in full).
          const av = a.dataSync();
          const bv = b.dataSync();
          tf.dispose([a, b]);
          let s = 0;
          const [i, j] = [m - 1, n - 1];
          for (let p = 0; p < k; p++) s += (ta ? av[p * m + i]! : av[i * k + p]!) * (tb ? bv[j * k + p]! : bv[p * n + j]!);
          assert.ok(Math.abs(results[0]![i * n + j]! - s) <= 4e-7 * k + 1e-7, `${label}: C[${i}][${j}]`);
        }
  } finally {
    await setThreads(1);
  }
});

test('Adam updates give the same bits on 1 and 2 threads', async () => {
  const { tf, setThreads } = await wasm();
  const { kernels } = await chooseEngine('wasm');
  const n = 100_003;
  const final: Float32Array[] = [];
  try {
    for (const threads of [1, 2]) {
      await setThreads(threads);
      const v = tf.variable(tf.tensor1d(randomValues(n, 1)), true, `adam-threads-${threads}`);
      const adam = createAdam(tf, 1e-3, kernels);
      for (let step = 0; step < 3; step++) {
        const g = tf.tensor1d(randomValues(n, 10 + step));
        adam.applyGradients([{ name: v.name, tensor: g }]);
        g.dispose();
      }
      final.push(v.dataSync() as Float32Array);
      adam.dispose();
      v.dispose();
    }
  } finally {
    await setThreads(1);
  }
  assert.deepEqual(final[1], final[0]);
});

test('100 training steps and their diagnostics passes are identical on 1 and 2 threads', async () => {
  const engine = await chooseEngine('wasm');
  const spec = parseSpec(
    `{ "data": { "synthetic": "manifold", "intrinsicDim": 4, "dim": 64, "n": 1280 },
       "model": { "latentDim": 8, "encoder": { "hidden": [512] }, "decoder": { "hidden": [512] } },
       "training": { "epochs": 10, "batchSize": 128, "seed": 3 },
       "diagnostics": { "every": 5, "mcSamples": 2, "subset": 512 } }`,
    path.join(tmp, 'threads.vae.json'),
  ).spec;
  const { train } = await loadData(spec.data, path.join(tmp, 'threads.vae.json'));
  const runs: { losses: number[]; elbos: number[] }[] = [];
  try {
    for (const threads of [1, 2]) {
      await engine.kernels!.setThreads(threads);
      const losses: number[] = [];
      const elbos: number[] = [];
      const loop = new TrainingLoop({
        spec,
        engine,
        train,
        epochs: spec.training.epochs,
        shouldStop: () => false,
        events: { progress: () => undefined, diagnostics: (r: MetricsRecord) => elbos.push(finiteRecord(r).elbo), log: () => undefined },
      });
      watchSteps(loop, (s) => losses.push(s.loss));
      try {
        await loop.run();
      } finally {
        loop.dispose();
      }
      runs.push({ losses, elbos });
    }
  } finally {
    await engine.kernels!.setThreads(1);
  }
  assert.equal(runs[0]!.losses.length, 100);
  assert.ok(runs[0]!.losses[99]! < runs[0]!.losses[0]!, 'the run trains');
  assert.deepEqual(runs[1]!.losses, runs[0]!.losses);
  assert.equal(runs[0]!.elbos.length, 3);
  assert.deepEqual(runs[1]!.elbos, runs[0]!.elbos);
});

const FAULT_SPEC = path.join(tmp, 'fault.vae.json');
fs.writeFileSync(
  FAULT_SPEC,
  `{ "name": "fault", "data": { "synthetic": "manifold", "intrinsicDim": 4, "dim": 64, "n": 1280 },
     "model": { "latentDim": 8, "encoder": { "hidden": [512] }, "decoder": { "hidden": [512] } },
     "training": { "epochs": 20 }, "diagnostics": { "subset": 256 } }`,
);

const FAULTS: Record<string, { does: string; message: RegExp }> = {
  throw: { does: 'throws', message: /training failed: kernel thread 1: injected fault/ },
  exit: { does: 'exits', message: /training failed: kernel thread 1 exited/ },
  hang: { does: 'never finishes its part', message: /training failed: a kernel thread did not finish its part of a product or update in 2 s/ },
};

for (const [fault, { does, message }] of Object.entries(FAULTS)) {
  test(`a kernel thread that ${does} ends the run as failed, with its run folder readable`, () => {
    const out = path.join(tmp, fault);
    const started = performance.now();
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'vae-lens.js'), 'train', FAULT_SPEC, '--out', out, '--threads', '2'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, VAE_LENS_FAULT_KERNEL_THREAD: `${fault}:40`, VAE_LENS_KERNEL_THREAD_TIMEOUT_MS: '2000' },
    });
    assert.notEqual(r.signal, 'SIGTERM', 'the run hung');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
    const [runDir] = fs.readdirSync(out).map((d) => path.join(out, d));
    const summary = JSON.parse(fs.readFileSync(path.join(runDir!, 'summary.json'), 'utf8')) as RunSummary;
    const meta = JSON.parse(fs.readFileSync(path.join(runDir!, 'run.json'), 'utf8')) as RunMeta;
    assert.equal(summary.status, 'failed');
    assert.match(summary.message ?? '', /kernel thread/);
    assert.equal(meta.threads, 2);
    // The pass before training was written, and its checkpoint: the run can be inspected and resumed.
    assert.ok(fs.readFileSync(path.join(runDir!, 'metrics.jsonl'), 'utf8').trim().length > 0);
    assert.ok(fs.existsSync(path.join(runDir!, 'checkpoints', 'latest.json')));
    assert.ok(performance.now() - started < 60_000);
  });
}

test('training.threads must be a whole number from 1', () => {
  assert.equal(
    parseSpec('{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2 }, "training": { "threads": 3 } }', 't.vae.json').spec.training.threads,
    3,
  );
  assert.equal(parseSpec('{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2 } }', 't.vae.json').spec.training.threads, undefined);
  for (const bad of ['0', '1.5', '"all"'])
    assert.throws(
      () => parseSpec(`{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2 }, "training": { "threads": ${bad} } }`, 't.vae.json'),
      /training\.threads/,
    );
});

test('thread count: the request, else the spec, else the cores less those kept free', () => {
  assert.equal(threadCount(3, 2, 1, 8), 3);
  assert.equal(threadCount(undefined, 2, 1, 8), 2);
  assert.equal(threadCount(undefined, 16, 1, 8), 8, 'a spec asks for at most the cores there are');
  assert.equal(threadCount(16, undefined, 1, 8), 16, 'an explicit request is honoured');
  assert.equal(threadCount(undefined, undefined, 1, 8), 7);
  assert.equal(threadCount(undefined, undefined, 0, 8), 8);
  assert.equal(threadCount(undefined, undefined, 1, 1), 1, 'never fewer than one');
});
