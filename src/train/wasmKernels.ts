/**
 * The trainer's own kernels on the wasm engine (sources in src/train/kernels): a packed GEMM
 * that takes transposed operands without copying them, and a fused in-place Adam update.
 *
 * The module imports the engine's WebAssembly memory, so it works on tensors where they lie:
 * a tensor is a byte offset in that memory (the backend's dataIdMap), outputs are allocated
 * by the backend (makeOutput) and scratch space by its malloc. The GEMM replaces the engine's
 * BatchMatMul for 2-D products, so the model, its gradients and the diagnostics pass all use
 * it; everything else stays tfjs's.
 *
 * The engine's memory is shared (sharedMemory.ts), so the GEMM and Adam can also run split over
 * kernel threads (threadPool.ts), each with its own instance of the module on that memory:
 * `setThreads` starts them. A product gives the same bits whatever the thread count.
 *
 * Relaxed SIMD (a fused multiply-add) is on by default from V8 11.4 (Node 22, VS Code's
 * Electron); Node 20 has it behind a V8 flag, which is set here before the module is compiled.
 * Where it cannot be had, the plain-SIMD build of the same source is used.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import type { KernelConfig, NamedAttrMap, Tensor, TensorInfo, Variable } from '@tensorflow/tfjs-core';
import type { Gemm, KernelExports, WasmBackendInternals } from './wasmTypes';
import type { Tf } from './tf';
import { SAMPLE_SQUARED_ERROR_KERNEL, SQUARED_ERROR_GRAD_KERNEL, SQUARED_ERROR_KERNEL } from './gaussianLoss';
import { ACTIVATION_GRAD_KERNEL, BIAS_ACTIVATION_KERNEL, DENSE_KERNEL } from './layers';
import { PackedWeights } from './packedWeights';
import { KernelThreadPool, planGemm, type ConvPart, type SquaredErrorArgs } from './threadPool';
import { installConvKernels } from './wasmConvKernels';

export interface AdamUpdate {
  value: Variable;
  gradient: Tensor;
  firstMoment: Variable;
  secondMoment: Variable;
}

export interface AdamConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  /** 1 - β1ᵗ and 1 - β2ᵗ as the engine holds them (float32). */
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
}

/**
 * The kernels on byte addresses of the engine's memory, split over the kernel threads as the
 * tensor kernels are: for a caller that keeps its own buffers (denseStep.ts).
 */
export interface MemoryKernels {
  /** The engine's memory as floats (a fresh view: the memory may have grown). */
  floats(): Float32Array;
  address(t: { dataId: object }): number;
  gemm: Gemm;
  /** The ReLU mask (into dpre, which may be dy itself) and the bias gradient of an m x n layer output (kernels/dense.ts). */
  activationGrad(m: number, n: number, y: number, dy: number, relu: boolean, dpre: number, colSums: number): void;
  /** e[n] = Σ_d (x - μ)²·iv and its gradient (kernels/gaussian.ts). */
  squaredError(a: SquaredErrorArgs, out: number): void;
  squaredErrorGrad(a: SquaredErrorArgs, dy: number, dmu: number, colSums: number): void;
  /** dst += src over n floats. */
  addInto(dst: number, src: number, n: number): void;
}

export interface WasmKernels {
  /** "relaxed SIMD" or "SIMD": which build of the kernels runs. */
  readonly variant: string;
  readonly onMemory: MemoryKernels;
  /** Adam's update of each `value` with its `gradient`, in place on the variables' memory, as one job over all of them. */
  adamUpdate(updates: readonly AdamUpdate[], c: AdamConstants): void;
  /**
   * Run `fn` with the dense layers' `weights` packed for the GEMM once, not at every product: for
   * a caller that multiplies the same weights by many blocks of rows and changes none of them
   * meanwhile (the diagnostics pass). Same bits as without (packedWeights.ts). Scopes nest.
   */
  withPackedWeights<T>(weights: readonly Tensor[], fn: () => T): T;
  /** Threads the products and updates run on, the calling thread included (1 until setThreads). */
  readonly threads: number;
  /** Run on `threads` threads from now on (the kernel threads are started or replaced). */
  setThreads(threads: number): Promise<void>;
}

// (func (param v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 0) (local.get 0))):
// valid only where relaxed SIMD is.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 0, 32, 0, 253, 133, 2, 11,
]);

function relaxedSimdAvailable(): boolean {
  if (WebAssembly.validate(RELAXED_SIMD_PROBE)) return true;
  if (!/^v20\./.test(process.version)) return false;
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}

export type KernelBuild = 'relaxed' | 'simd';

function kernelFile(variant: KernelBuild): string {
  const name = `vae-lens-kernels-${variant}.wasm`;
  // Next to the bundle (dist/trainer.js, dist/cli.js), or in dist/ when run from compiled tests.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, name), path.join(dir, 'dist', name)]) if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`${name} not found: run the build (npm run build)`);
  }
}

/** One build of the kernel module, compiled (kernel threads instantiate the same module). */
export async function compileKernels(build: KernelBuild): Promise<WebAssembly.Module> {
  if (build === 'relaxed' && !relaxedSimdAvailable()) throw new Error('this runtime has no relaxed SIMD');
  return WebAssembly.compile(fs.readFileSync(kernelFile(build)));
}

/** The kernel module on `memory`, which must be a shared memory (the module imports it as one). */
export async function instantiateKernels(source: KernelBuild | WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const module = source instanceof WebAssembly.Module ? source : await compileKernels(source);
  const abort = (): never => {
    throw new Error('VAE Lens wasm kernel aborted');
  };
  const instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
  return instance.exports as unknown as KernelExports;
}

/**
 * Identity without a copy. The engine clones every tensor it saves for a gradient, and the stock
 * kernel copies each one (about 50 tensors and 4 MB per step of the 784-512-20 VAE). Sharing the
 * memory is safe because nothing writes into a tensor's memory in place except the trainer's Adam,
 * which makes a variable's memory its own first (ownedAddress below).
 */
function shareIdentity(tf: Tf, backend: WasmBackendInternals): void {
  const original = tf.getKernel(tf.Identity, 'wasm');
  if (!original) throw new Error('the wasm engine has no Identity kernel');
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({
    kernelName: tf.Identity,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string') return original.kernelFunc(args);
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}

/** Per backend instance: installing twice would take the trainer's own GEMM for the stock one. */
const installed = new WeakMap<object, WasmKernels>();

/**
 * Compile the kernels against the wasm backend's memory and put the GEMM in place of its
 * BatchMatMul. Call once the wasm backend is initialised; later calls return the same kernels.
 */
export async function installWasmKernels(tf: Tf): Promise<WasmKernels> {
  const backend = tf.backend() as unknown as WasmBackendInternals;
  const done = installed.get(backend);
  if (done) return done;
  const relaxed = relaxedSimdAvailable();
  const memory = backend.wasm.asm.memory;
  if (!(memory.buffer instanceof SharedArrayBuffer))
    throw new Error('the wasm engine is not on a shared memory: start it with withSharedEngineMemory (src/train/sharedMemory.ts)');
  const module = await compileKernels(relaxed ? 'relaxed' : 'simd');
  const k = await instantiateKernels(module, memory);
  let pool: KernelThreadPool | undefined;
  /** The innermost withPackedWeights scope, while one runs. */
  let packing: PackedWeights | undefined;
  const address = (t: { dataId: object }): number => {
    const entry = backend.dataIdMap.get(t.dataId);
    if (!entry) throw new Error('tensor has no data on the wasm engine');
    return entry.memoryOffset;
  };

  /**
   * C = op(A)·op(B) on addresses in the engine's memory: every product of the trainer (its layers'
   * and the convolutions' im2col products) goes through here, split over the kernel threads.
   */
  const gemm: Gemm = (m, n, depth, a, transA, b, transB, c, epilogue) => {
    const blocks = planGemm({ m, n, k: depth, a, transA, b, transB, c, bias: epilogue?.bias, relu: epilogue?.relu }, pool?.threads ?? 1);
    const weights = epilogue?.weights;
    if (packing && weights && packing.holds(weights)) for (const block of blocks) block.packedB = packing.of(weights, block);
    // One allocation for every block's scratch, each block's part 16-byte aligned. The kernel packs
    // its operands in blocks, so this is a few MiB per thread whatever the product's size.
    const sizes = blocks.map((block) => Math.ceil(k.sgemmScratchBytes(block.m, block.n) / 16) * 16);
    const bytes = sizes.reduce((x, y) => x + y, 0) + 16;
    const scratch = backend.wasm._malloc(bytes);
    // malloc answers 0 when the heap cannot grow: the kernel would write over the engine's own memory.
    if (!scratch) throw new Error(`the wasm engine is out of memory: ${bytes} bytes for a ${m} x ${n} x ${depth} product could not be had`);
    try {
      const base = Math.ceil(scratch / 16) * 16;
      if (blocks.length === 1) {
        const g = blocks[0]!;
        k.sgemmInto(g.m, g.n, g.k, g.a, g.lda, g.transA, g.b, g.ldb, g.transB, g.c, g.ldc, base, false, g.packedB);
        if (g.bias !== 0) k.biasActivation(g.m, g.n, g.c, g.c, g.ldc, g.bias, g.relu);
      } else {
        const starts = sizes.map((_, i) => base + sizes.slice(0, i).reduce((x, y) => x + y, 0));
        pool!.gemm(blocks, starts);
      }
    } finally {
      backend.wasm._free(scratch);
    }
  };

  const original = tf.getKernel(tf.BatchMatMul, 'wasm');
  if (!original) throw new Error('the wasm engine has no BatchMatMul kernel');
  const batchMatMul: KernelConfig = {
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = args.attrs as NamedAttrMap & { transposeA: boolean; transposeB: boolean };
      if (a.shape.length !== 2 || b.shape.length !== 2 || a.dtype !== 'float32' || b.dtype !== 'float32') return original.kernelFunc(args);
      const [m, k1] = transposeA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
      const [k2, n] = transposeB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
      if (k1 !== k2) throw new Error(`matMul: inner dimensions ${k1} and ${k2} of shapes [${a.shape}] and [${b.shape}] differ`);
      const out = backend.makeOutput([m, n], 'float32');
      gemm(m, n, k1, address(a), transposeA, address(b), transposeB, address(out));
      return out;
    },
  };
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel(batchMatMul);
  shareIdentity(tf, backend);

  const onMemory: MemoryKernels = {
    floats: () => new Float32Array(memory.buffer),
    address,
    gemm,
    activationGrad(m, n, y, dy, relu, dpre, colSums) {
      if (pool) pool.activationGrad(m, n, y, dy, relu, dpre, colSums);
      else k.activationGradColumns(m, n, 0, n, y, dy, relu, dpre, colSums);
    },
    squaredError(a, out) {
      if (pool) pool.weightedSquaredError(a, out);
      else k.weightedSquaredErrorRows(0, a.n, a.d, a.x, a.mu, a.iv, a.ivPerDim, out);
    },
    squaredErrorGrad(a, dy, dmu, colSums) {
      if (pool) pool.weightedSquaredErrorGrad(a, dy, dmu, colSums);
      else k.weightedSquaredErrorGradColumns(a.n, a.d, 0, a.d, a.x, a.mu, a.iv, a.ivPerDim, dy, dmu, colSums);
    },
    addInto: (dst, src, n) => k.addInto(dst, src, n),
  };

  // Dense layers with their bias and activation fused (layers.ts).
  tf.registerKernel({
    kernelName: DENSE_KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, w, b } = args.inputs as { x: TensorInfo; w: TensorInfo; b: TensorInfo };
      const { relu } = args.attrs as NamedAttrMap & { relu: boolean };
      const [m, depth] = x.shape as [number, number];
      const n = w.shape[1]!;
      if (w.shape[0] !== depth || b.shape[0] !== n) throw new Error(`dense: shapes [${x.shape}], [${w.shape}] and [${b.shape}] do not fit`);
      const out = backend.makeOutput([m, n], 'float32');
      gemm(m, n, depth, address(x), false, address(w), false, address(out), { bias: address(b), relu, weights: w.dataId });
      return out;
    },
  });
  tf.registerKernel({
    kernelName: ACTIVATION_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { y, dy } = args.inputs as { y: TensorInfo; dy: TensorInfo };
      const { relu } = args.attrs as NamedAttrMap & { relu: boolean };
      const [m, n] = dy.shape as [number, number];
      const dpre = relu ? backend.makeOutput([m, n], 'float32') : undefined;
      const colSums = backend.makeOutput([n], 'float32');
      onMemory.activationGrad(m, n, address(y), address(dy), relu, dpre ? address(dpre) : 0, address(colSums));
      return dpre ? [dpre, colSums] : [colSums];
    },
  });

  // A convolution's bias and activation over its channels (layers.ts), into a new tensor.
  tf.registerKernel({
    kernelName: BIAS_ACTIVATION_KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, b } = args.inputs as { x: TensorInfo; b: TensorInfo };
      const { relu } = args.attrs as NamedAttrMap & { relu: boolean };
      const channels = b.shape[0]!;
      const rows = x.shape.reduce((a, d) => a * d, 1) / channels;
      if (x.shape[x.shape.length - 1] !== channels) throw new Error(`bias: shapes [${x.shape}] and [${b.shape}] do not fit`);
      const out = backend.makeOutput(x.shape, 'float32');
      k.biasActivation(rows, channels, address(x), address(out), channels, address(b), relu);
      return out;
    },
  });

  // The fused Gaussian log-likelihood term (gaussianLoss.ts).
  const squaredErrorArgs = (x: TensorInfo, mu: TensorInfo, iv: TensorInfo): SquaredErrorArgs => {
    const [n, d] = x.shape as [number, number];
    const ivSize = iv.shape.reduce((a, b) => a * b, 1);
    if (mu.shape[0] !== n || mu.shape[1] !== d || (ivSize !== 1 && ivSize !== d))
      throw new Error(`squared error: shapes [${x.shape}], [${mu.shape}] and [${iv.shape}] do not fit`);
    return { n, d, x: address(x), mu: address(mu), iv: address(iv), ivPerDim: ivSize !== 1 };
  };
  tf.registerKernel({
    kernelName: SQUARED_ERROR_KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, mu, iv } = args.inputs as { x: TensorInfo; mu: TensorInfo; iv: TensorInfo };
      const a = squaredErrorArgs(x, mu, iv);
      const out = backend.makeOutput([a.n], 'float32');
      onMemory.squaredError(a, address(out));
      return out;
    },
  });
  tf.registerKernel({
    kernelName: SQUARED_ERROR_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, mu, iv, dy } = args.inputs as { x: TensorInfo; mu: TensorInfo; iv: TensorInfo; dy: TensorInfo };
      const a = squaredErrorArgs(x, mu, iv);
      const dmu = backend.makeOutput([a.n, a.d], 'float32');
      const colSums = backend.makeOutput([a.d], 'float32');
      onMemory.squaredErrorGrad(a, address(dy), address(dmu), address(colSums));
      return [dmu, colSums];
    },
  });
  // The diagnostics pass's data terms (gaussianLoss.ts): one pass over its decoder means, on this thread.
  tf.registerKernel({
    kernelName: SAMPLE_SQUARED_ERROR_KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, mu, iv } = args.inputs as { x: TensorInfo; mu: TensorInfo; iv: TensorInfo };
      const { samples } = args.attrs as NamedAttrMap & { samples: number };
      const [points, d] = x.shape as [number, number];
      const ivSize = iv.shape.reduce((a, b) => a * b, 1);
      if (mu.shape[0] !== points * samples || mu.shape[1] !== d || (ivSize !== 1 && ivSize !== d))
        throw new Error(`sample squared error: shapes [${x.shape}], [${mu.shape}] and [${iv.shape}] do not fit ${samples} samples a point`);
      const e = backend.makeOutput([points * samples], 'float32');
      const colSums = backend.makeOutput([d], 'float32');
      k.sampleSquaredErrorRows(points, samples, d, address(x), address(mu), address(iv), ivSize !== 1, address(e), address(colSums));
      return [e, colSums];
    },
  });
  installSlicingKernels(tf, backend, k, address);
  installConvKernels(tf, backend, k, address, {
    get threads() {
      return pool?.threads ?? 1;
    },
    run(parts: readonly ConvPart[]) {
      if (pool && parts.length > 1) pool.conv(parts);
      else for (const p of parts) k.conv(p.kind, p.geom, p.a, p.b, p.out, p.start, p.end, p.scratch);
    },
  });

  /** The variable's memory, made its own first if another tensor shares it (an update in place must not leak). */
  const ownedAddress = (v: Variable): number => {
    if ((backend.dataIdMap.get(v.dataId)?.refCount ?? 1) > 1) {
      const copy = tf.mul(v, 1);
      v.assign(copy);
      copy.dispose();
    }
    return address(v);
  };

  const kernels: WasmKernels = {
    variant: relaxed ? 'relaxed SIMD' : 'SIMD',
    onMemory,
    adamUpdate(updates, c) {
      const copies: Tensor[] = [];
      const table = backend.wasm._malloc(updates.length * 20);
      if (!table) throw new Error(`the wasm engine is out of memory: ${updates.length * 20} bytes for Adam's table of tensors could not be had`);
      try {
        const words = new Int32Array(memory.buffer, table, updates.length * 5);
        let total = 0;
        updates.forEach(({ value, gradient, firstMoment, secondMoment }, i) => {
          if (gradient.dtype !== 'float32' || gradient.size !== value.size) throw new Error(`Adam: gradient of ${value.name} has the wrong size`);
          const g = gradient.dataId === value.dataId ? tf.mul(gradient, 1) : gradient;
          if (g !== gradient) copies.push(g);
          words.set([value.size, ownedAddress(value), address(g), ownedAddress(firstMoment), ownedAddress(secondMoment)], i * 5);
          total += value.size;
        });
        const constants = [c.beta1, 1 - c.beta1, c.beta2, 1 - c.beta2, c.oneMinusAccBeta1, c.oneMinusAccBeta2, c.epsilon, -c.learningRate] as const;
        if (pool) pool.adamTable(table, updates.length, total, constants);
        else k.adamUpdateTable(table, updates.length, 0, total, ...constants);
      } finally {
        backend.wasm._free(table);
        tf.dispose(copies);
      }
    },
    withPackedWeights(weights, fn) {
      const scope = new PackedWeights(
        k,
        backend,
        weights.map((w) => w.dataId),
        packing,
      );
      packing = scope;
      try {
        return fn();
      } finally {
        packing = scope.outer;
        scope.dispose();
      }
    },
    get threads() {
      return pool?.threads ?? 1;
    },
    async setThreads(threads) {
      if (threads === (pool?.threads ?? 1) && !pool?.failed) return;
      pool?.dispose();
      pool = undefined;
      if (threads > 1) pool = await KernelThreadPool.start(threads, module, memory, k);
    },
  };
  installed.set(backend, kernels);
  return kernels;
}

/**
 * Concat and SplitV of float32 tensors along any axis, and Slice of a float32 matrix, as one copy
 * of strided rows per tensor in the kernel module. The engine's own Concat and Slice copy row by
 * row from JavaScript (a subarray and a set per row: 0.3 ms for the two [3136, 20] latent heads'
 * weights that model.ts joins every step, 0.15 ms for each half of the diagnostics pass's [256, 40]
 * encoder output), and its SplitV (their gradient) goes through its general slice; anything else
 * (other dtypes, other ranks) goes to them.
 */
function installSlicingKernels(tf: Tf, backend: WasmBackendInternals, k: KernelExports, address: (t: { dataId: object }) => number): void {
  const concat = tf.getKernel(tf.Concat, 'wasm');
  const splitV = tf.getKernel(tf.SplitV, 'wasm');
  const slice = tf.getKernel(tf.Slice, 'wasm');
  if (!concat || !splitV || !slice) throw new Error('the wasm engine has no Concat, SplitV or Slice kernel');
  const size = (shape: number[]) => shape.reduce((a, d) => a * d, 1);
  tf.unregisterKernel(tf.Concat, 'wasm');
  tf.registerKernel({
    kernelName: tf.Concat,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const inputs = args.inputs as unknown as TensorInfo[];
      const nonEmpty = inputs.filter((t) => size(t.shape) > 0);
      if (nonEmpty.length < 2 || nonEmpty.some((t) => t.dtype !== 'float32')) return concat.kernelFunc(args);
      const axis = tf.util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, inputs[0]!.shape)[0]!;
      tf.backend_util.assertParamsConsistent(
        inputs.map((t) => t.shape),
        axis,
      );
      const out = backend.makeOutput(
        tf.backend_util.computeOutShape(
          inputs.map((t) => t.shape),
          axis,
        ),
        'float32',
      );
      const rows = size(nonEmpty[0]!.shape.slice(0, axis));
      const widths = nonEmpty.map((t) => size(t.shape.slice(axis)) * 4);
      const total = widths.reduce((a, b) => a + b, 0);
      let offset = 0;
      nonEmpty.forEach((t, i) => {
        k.copyRows(rows, widths[i]!, address(t), widths[i]!, address(out) + offset, total);
        offset += widths[i]!;
      });
      return out;
    },
  });
  tf.unregisterKernel(tf.SplitV, 'wasm');
  tf.registerKernel({
    kernelName: tf.SplitV,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32') return splitV.kernelFunc(args);
      const attrs = args.attrs as { numOrSizeSplits: number | number[]; axis: number | number[] };
      const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
      const sizes = tf.backend_util.prepareSplitSize(x as unknown as Tensor, attrs.numOrSizeSplits, axis);
      const rows = size(x.shape.slice(0, axis));
      const inner = size(x.shape.slice(axis + 1)) * 4;
      const total = x.shape[axis]! * inner;
      let offset = 0;
      return sizes.map((s) => {
        const shape = x.shape.slice();
        shape[axis] = s;
        const out = backend.makeOutput(shape, 'float32');
        if (s > 0 && rows > 0 && inner > 0) k.copyRows(rows, s * inner, address(x) + offset, total, address(out), s * inner);
        offset += s * inner;
        return out;
      });
    },
  });
  tf.unregisterKernel(tf.Slice, 'wasm');
  tf.registerKernel({
    kernelName: tf.Slice,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32' || x.shape.length !== 2) return slice.kernelFunc(args);
      const { begin, size: sizes } = args.attrs as { begin: number | number[]; size: number | number[] };
      const [[row0, col0], [rows, cols]] = tf.slice_util.parseSliceParams(x as unknown as Tensor, begin, sizes);
      const out = backend.makeOutput([rows!, cols!], 'float32');
      const width = x.shape[1]! * 4;
      if (rows! > 0 && cols! > 0) k.copyRows(rows!, cols! * 4, address(x) + row0! * width + col0! * 4, width, address(out), cols! * 4);
      return out;
    },
  });
}
