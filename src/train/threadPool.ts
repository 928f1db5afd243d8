/**
 * The trainer's thread pool: kernel threads (kernelThread.ts) that run the trainer's GEMM and
 * Adam kernels on the wasm engine's shared memory (sharedMemory.ts), each on its own block of
 * the output, with the main thread taking the first block itself.
 *
 * A job is dispatched without a message: the main thread writes every thread's arguments into
 * the shared control block, bumps its generation word and notifies; the threads, parked in
 * Atomics.wait, run their block and count down a pending word, which the main thread waits on.
 * So a product costs the threads' wake-up (tens of microseconds) and nothing per byte.
 *
 * A thread that throws, or exits, is reported as a ThreadFailure from the job it was running;
 * a thread that stops answering (it cannot report anything) is one after JOB_TIMEOUT_MS (the tests
 * shorten it with VAE_LENS_KERNEL_THREAD_TIMEOUT_MS). Either
 * way the run ends with that message instead of waiting forever.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KernelThreadData } from './kernelThread';
import type { KernelExports } from './wasmTypes';
import {
  claimBlock,
  controlBytes,
  controlViews,
  failureMessage,
  FAILED,
  GENERATION,
  OP_ACTIVATION_GRAD,
  OP_ADAM_TABLE,
  OP_CONV,
  OP_GEMM,
  OP_WSE_GRAD,
  OP_WSE_ROWS,
  DONE,
  JOB,
  packJob,
  recordFailure,
  QUIT,
  runSlot,
  slotOffset,
  type ControlViews,
} from './threadProtocol';

/** The kernels' tile (gemm.ts): blocks of C start on tile boundaries so no tile is split. */
const MR = 4;
const NR = 8;
/** Below this many multiply-adds (~90 µs of one core) a product is not worth waking threads for. */
export const MIN_GEMM_MACS = 1 << 19;
/** Below this many parameters, the same for Adam. */
const MIN_ADAM_ELEMENTS = 1 << 15;
/**
 * And below this many elements for the element-wise kernels: a 128x784 batch (0.05 ms on one core)
 * ran no faster split in two, the second thread's start costing what it saved.
 */
const MIN_ELEMENTWISE = 1 << 18;
/** The longest a job may take before the pool gives up on a silent thread (a product takes milliseconds). */
const JOB_TIMEOUT_MS = 60_000;

function jobTimeoutMs(): number {
  const set = Number(process.env.VAE_LENS_KERNEL_THREAD_TIMEOUT_MS);
  return Number.isFinite(set) && set > 0 ? set : JOB_TIMEOUT_MS;
}
/** How long the main thread polls before it sleeps in Atomics.wait (a product's blocks end together). */
const SPIN_ITERATIONS = 20_000;

export class ThreadFailure extends Error {
  override readonly name = 'ThreadFailure';
}

export interface GemmArgs {
  m: number;
  n: number;
  k: number;
  a: number;
  transA: boolean;
  b: number;
  transB: boolean;
  c: number;
  /** A dense layer's bias, added to every row of C (0: none), and whether ReLU follows. */
  bias?: number;
  relu?: boolean;
}

/** One thread's part of a convolution (kernels/conv.ts): its kind, operands, part [start, end) and scratch. */
export interface ConvPart {
  kind: number;
  geom: number;
  a: number;
  b: number;
  out: number;
  start: number;
  end: number;
  scratch: number;
}

/** One thread's block of C = op(A)·op(B): its own addresses and the row strides of the whole matrices. */
export interface GemmBlock {
  m: number;
  n: number;
  k: number;
  a: number;
  lda: number;
  transA: boolean;
  b: number;
  ldb: number;
  transB: boolean;
  c: number;
  ldc: number;
  /** The bias of this block's columns (0: none), and ReLU. */
  bias: number;
  relu: boolean;
  /** op(B) of this block already packed whole (kernels/gemm.ts packBWhole; 0: pack it here). */
  packedB: number;
}

/**
 * Split C into at most `threads` blocks of whole tiles, along its longer side: each thread packs
 * its part of that side's operand and all of the other (the smaller one).
 */
export function planGemm(g: GemmArgs, threads: number): GemmBlock[] {
  const { m, n, k } = g;
  const lda = g.transA ? m : k;
  const ldb = g.transB ? k : n;
  const bias = g.bias ?? 0;
  const whole: GemmBlock = { m, n, k, a: g.a, lda, transA: g.transA, b: g.b, ldb, transB: g.transB, c: g.c, ldc: n, bias, relu: g.relu ?? false, packedB: 0 };
  if (threads <= 1 || m * n * k < MIN_GEMM_MACS) return [whole];
  const blocks: GemmBlock[] = [];
  if (n >= m) {
    const tiles = Math.ceil(n / NR);
    const per = Math.ceil(tiles / Math.min(threads, tiles)) * NR;
    for (let j0 = 0; j0 < n; j0 += per) {
      const cols = Math.min(per, n - j0);
      const b = g.b + 4 * (g.transB ? j0 * k : j0);
      blocks.push({ ...whole, n: cols, b, c: g.c + 4 * j0, bias: bias && bias + 4 * j0 });
    }
  } else {
    const tiles = Math.ceil(m / MR);
    const per = Math.ceil(tiles / Math.min(threads, tiles)) * MR;
    for (let i0 = 0; i0 < m; i0 += per) {
      const rows = Math.min(per, m - i0);
      const a = g.a + 4 * (g.transA ? i0 : i0 * k);
      blocks.push({ ...whole, m: rows, a, c: g.c + 4 * i0 * n });
    }
  }
  return blocks;
}

/** Element ranges [start, end) of an n-element Adam update, whole vectors of 4 each. */
export function planAdam(n: number, threads: number): [number, number][] {
  return planRanges(n, threads, 4, MIN_ADAM_ELEMENTS);
}

/** [start, end) ranges of n items in at most `threads` parts of whole groups of `unit`, or one part below `minimum`. */
export function planRanges(n: number, threads: number, unit: number, minimum: number): [number, number][] {
  if (threads <= 1 || n < minimum) return [[0, n]];
  const per = Math.ceil(n / threads / unit) * unit;
  const ranges: [number, number][] = [];
  for (let start = 0; start < n; start += per) ranges.push([start, Math.min(n, start + per)]);
  return ranges;
}

/** The Gaussian log-likelihood's data term (kernels/gaussian.ts): x and μ are N×D, iv one value or D. */
export interface SquaredErrorArgs {
  n: number;
  d: number;
  x: number;
  mu: number;
  iv: number;
  ivPerDim: boolean;
}

function kernelThreadScript(): string {
  // Next to the bundle (dist/trainer.js, dist/cli.js), or in dist/ when run from compiled tests.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'kernel-thread.js'), path.join(dir, 'dist', 'kernel-thread.js')]) if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error('kernel-thread.js not found: run the build (npm run build)');
  }
}

export class KernelThreadPool {
  private readonly v: ControlViews;
  private disposed = false;
  private failure: ThreadFailure | undefined;

  private constructor(
    /** Threads doing the work, the main thread included. */
    readonly threads: number,
    private readonly main: KernelExports,
    control: SharedArrayBuffer,
    private readonly workers: Worker[],
  ) {
    this.v = controlViews(control, threads);
  }

  /**
   * A pool of `threads` (main thread included, so threads - 1 kernel threads), each with its own
   * instance of `module` on `memory`, which must be shared.
   */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, main: KernelExports): Promise<KernelThreadPool> {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`thread count must be a whole number >= 1, not ${threads}`);
    if (threads > 1 && !(memory.buffer instanceof SharedArrayBuffer)) throw new Error('the engine memory is not shared: kernel threads cannot run on it');
    const control = new SharedArrayBuffer(controlBytes(threads));
    const script = threads > 1 ? kernelThreadScript() : '';
    const workers: Worker[] = [];
    try {
      for (let index = 1; index < threads; index++) {
        const data: KernelThreadData = { module, memory, control, threads, index };
        const worker = new Worker(script, { workerData: data, stdout: false, stderr: false });
        workers.push(worker);
        await new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`kernel thread ${index} exited with code ${code} while starting`)));
        });
        worker.removeAllListeners();
        // An idle pool must not keep the process alive; failures are reported through the control block.
        worker.on('error', () => undefined);
        worker.unref();
      }
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw new ThreadFailure(`could not start the kernel threads: ${e instanceof Error ? e.message : String(e)}`);
    }
    return new KernelThreadPool(threads, main, control, workers);
  }

  /** A thread failed or the pool was shut down: it runs nothing more. */
  get failed(): boolean {
    return this.disposed;
  }

  gemm(blocks: readonly GemmBlock[], scratch: readonly number[]): void {
    this.run(blocks.length, (w, s, i) => {
      const b = blocks[i]!;
      w[s] = OP_GEMM;
      w.set([b.m, b.n, b.k, b.a, b.lda, b.transA ? 1 : 0, b.b, b.ldb, b.transB ? 1 : 0, b.c, b.ldc, scratch[i]!, b.bias, b.relu ? 1 : 0, b.packedB], s + 1);
    });
  }

  /** A convolution, a part per thread (wasmConvKernels.ts plans them). */
  conv(parts: readonly ConvPart[]): void {
    this.run(parts.length, (w, s, i) => {
      const p = parts[i]!;
      w[s] = OP_CONV;
      w.set([p.kind, p.geom, p.a, p.b, p.out, p.start, p.end, p.scratch], s + 1);
    });
  }

  /** Adam on `total` elements of the tensors described in `table` (kernels/adam.ts), split end to end. */
  adamTable(table: number, count: number, total: number, constants: readonly number[]): void {
    const ranges = planAdam(total, this.threads);
    this.run(ranges.length, (w, s, i) => {
      const [start, end] = ranges[i]!;
      w[s] = OP_ADAM_TABLE;
      w.set([table, count, start, end], s + 1);
      this.v.floats.set(constants, s + 5);
    });
  }

  /** e[n] = Σ_d (x - μ)²·iv, split by rows. */
  weightedSquaredError(a: SquaredErrorArgs, out: number): void {
    const ranges = planRanges(a.n, this.threads, 1, Math.ceil(MIN_ELEMENTWISE / a.d));
    this.run(ranges.length, (w, s, i) => {
      const [start, end] = ranges[i]!;
      w[s] = OP_WSE_ROWS;
      w.set([start, end - start, a.d, a.x, a.mu, a.iv, a.ivPerDim ? 1 : 0, out], s + 1);
    });
  }

  /** Its gradient, split by columns (whole vectors of 4). */
  weightedSquaredErrorGrad(a: SquaredErrorArgs, dy: number, dmu: number, colSums: number): void {
    const ranges = planRanges(a.d, this.threads, 4, Math.ceil(MIN_ELEMENTWISE / a.n));
    this.run(ranges.length, (w, s, i) => {
      const [start, end] = ranges[i]!;
      w[s] = OP_WSE_GRAD;
      w.set([a.n, a.d, start, end - start, a.x, a.mu, a.iv, a.ivPerDim ? 1 : 0, dy, dmu, colSums], s + 1);
    });
  }

  /** A dense layer's ReLU mask and bias gradient (kernels/dense.ts), split by columns. */
  activationGrad(m: number, n: number, y: number, dy: number, relu: boolean, dpre: number, colSums: number): void {
    const ranges = planRanges(n, this.threads, 4, Math.ceil(MIN_ELEMENTWISE / m));
    this.run(ranges.length, (w, s, i) => {
      const [start, end] = ranges[i]!;
      w[s] = OP_ACTIVATION_GRAD;
      w.set([m, n, start, end - start, y, dy, relu ? 1 : 0, dpre, colSums], s + 1);
    });
  }

  /**
   * Fill `jobs` slots with the job's blocks and run them: this thread claims blocks alongside
   * the kernel threads, so a block whose thread has not woken yet is run here instead of waited
   * for. Returns when every block is done.
   */
  private run(jobs: number, fill: (words: Int32Array, slot: number, index: number) => void): void {
    if (this.failure) throw this.failure;
    if (this.disposed) throw new ThreadFailure('the kernel thread pool was shut down');
    const w = this.v.words;
    for (let i = 0; i < jobs; i++) fill(w, slotOffset(i), i);
    if (jobs <= 1) {
      runSlot(this.main, this.v, 0);
      return;
    }
    const generation = Atomics.load(w, GENERATION) + 1;
    Atomics.store(w, DONE, 0);
    Atomics.store(w, JOB, packJob(generation, jobs));
    Atomics.store(w, GENERATION, generation);
    Atomics.notify(w, GENERATION);
    let error: unknown;
    for (let block = claimBlock(this.v, generation); block >= 0; block = claimBlock(this.v, generation)) {
      try {
        if (error === undefined && Atomics.load(w, FAILED) === 0) runSlot(this.main, this.v, block);
      } catch (e) {
        // The threads skip their blocks once a failure is recorded; wait for those they are in.
        error = e;
        recordFailure(this.v, 0, `the main thread's block: ${e instanceof Error ? e.message : String(e)}`);
      }
      Atomics.add(w, DONE, 1);
    }
    this.waitForBlocks(jobs);
    if (error !== undefined) throw error;
    if (Atomics.load(w, FAILED) !== 0) this.fail(failureMessage(this.v));
  }

  private waitForBlocks(jobs: number): void {
    const w = this.v.words;
    for (let i = 0; i < SPIN_ITERATIONS; i++) if (Atomics.load(w, DONE) === jobs) return;
    const timeout = jobTimeoutMs();
    const deadline = performance.now() + timeout;
    for (;;) {
      const done = Atomics.load(w, DONE);
      if (done === jobs) return;
      const left = deadline - performance.now();
      if (left <= 0) this.fail(`a kernel thread did not finish its part of a product or update in ${timeout / 1000} s`);
      Atomics.wait(w, DONE, done, Math.min(left, 1000));
    }
  }

  private fail(message: string): never {
    this.failure = new ThreadFailure(message);
    this.dispose();
    throw this.failure;
  }

  /** Let the threads leave their loops and end them. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.v.words, QUIT, 1);
    Atomics.add(this.v.words, GENERATION, 1);
    Atomics.notify(this.v.words, GENERATION);
    for (const w of this.workers) void w.terminate();
  }
}
