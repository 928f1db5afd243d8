/**
 * The types at the wasm boundary: the kernel module's exports, what the kernels need of tfjs's
 * wasm backend, and the GEMM the layers and convolutions call (wasmKernels.ts implements it).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';

/** C = op(A)·op(B) with row strides: m x k op(A), k x n op(B), m x n C; pointers are byte addresses. */
type SgemmStridedArgs = [
  m: number,
  n: number,
  k: number,
  a: number,
  lda: number,
  transA: boolean,
  b: number,
  ldb: number,
  transB: boolean,
  c: number,
  ldc: number,
  scratch: number,
];

/** The kernel module's exports (src/train/kernels/index.ts); pointers are byte addresses. */
export interface KernelExports {
  sgemm(m: number, n: number, k: number, a: number, transA: boolean, b: number, transB: boolean, c: number, scratch: number): void;
  sgemmStrided(...args: SgemmStridedArgs): void;
  /** sgemmStrided, or with addToC C += op(A)·op(B); with packedB (not 0), op(B) as packBWhole left it, and b unread. */
  sgemmInto(...args: [...SgemmStridedArgs, addToC: boolean, packedB: number]): void;
  sgemmScratchBytes(m: number, n: number): number;
  /** Bytes of a k x n op(B) packed whole (gemm.ts packBWhole), 0 when it is too wide to be. */
  packedBBytes(n: number, k: number): number;
  /** op(B), k x n with row stride ldb, packed whole into dst (packedBBytes(n, k) bytes). */
  packBWhole(n: number, k: number, b: number, ldb: number, transB: boolean, dst: number): void;
  addInto(dst: number, src: number, n: number): void;
  copyRows(rows: number, rowBytes: number, src: number, srcStride: number, dst: number, dstStride: number): void;
  /**
   * One thread's part of a convolution (src/train/kernels/conv.ts): kind 0 forward (a = x, b =
   * filter, part = output rows), 1 filter gradient (a = x, b = dy, part = window rows), 2 input
   * gradient (a = dy, b = filter, part = images); geom is the geometry's words in the memory,
   * and scratch the part's scratch as they lay it out (wasmConvKernels.ts).
   */
  conv(kind: number, geom: number, a: number, b: number, out: number, start: number, end: number, scratch: number): void;
  /** A dense layer's bias and ReLU on a block of its product, and its backward pass's mask and bias gradient (kernels/dense.ts). */
  biasActivation(m: number, n: number, src: number, dst: number, ld: number, bias: number, relu: boolean): void;
  activationGradColumns(m: number, n: number, col0: number, cols: number, y: number, dy: number, relu: boolean, dpre: number, colSums: number): void;
  /** The Gaussian log-likelihood's data term and its gradient (src/train/kernels/gaussian.ts). */
  weightedSquaredErrorRows(row0: number, rows: number, d: number, x: number, mu: number, iv: number, ivPerDim: boolean, out: number): void;
  /** The diagnostics pass's per-row data terms and column sums for S samples of each point (kernels/gaussian.ts). */
  sampleSquaredErrorRows(points: number, samples: number, d: number, x: number, mu: number, iv: number, ivPerDim: boolean, out: number, colSums: number): void;
  weightedSquaredErrorGradColumns(
    n: number,
    d: number,
    col0: number,
    cols: number,
    x: number,
    mu: number,
    iv: number,
    ivPerDim: boolean,
    dy: number,
    dmu: number,
    colSums: number,
  ): void;
  adamUpdateTable(
    table: number,
    count: number,
    start: number,
    end: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    oneMinusAccBeta1: number,
    oneMinusAccBeta2: number,
    epsilon: number,
    minusLearningRate: number,
  ): void;
}

/** What the kernels need of tfjs's wasm backend (tfjs-backend-wasm 4.x, public at run time). */
export interface WasmBackendInternals {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(bytes: number): number; _free(address: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  incRef(dataId: object): void;
}

/**
 * C (m x n) = op(A)·op(B) with op(A) m x depth, on byte addresses in the engine's memory; with an
 * epilogue, C = act(op(A)·op(B) + bias) (a dense layer), and `weights`, the data id of B where B
 * is a layer's weights (a scope of WasmKernels.withPackedWeights may hold them packed).
 */
export type Gemm = (
  m: number,
  n: number,
  depth: number,
  a: number,
  transA: boolean,
  b: number,
  transB: boolean,
  c: number,
  epilogue?: { bias: number; relu: boolean; weights?: object },
) => void;
