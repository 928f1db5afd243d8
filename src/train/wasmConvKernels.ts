/**
 * Convolutions on the wasm engine as im2col + the trainer's GEMM. tfjs-backend-wasm 4.22 has no
 * Conv2DBackpropFilter (the weight gradient of conv2d), so a convolutional model could not train
 * on it at all; here it is registered, and Conv2D and Conv2DBackpropInput (conv2d's input
 * gradient, and conv2dTranspose's forward pass) are replaced by the same scheme so that every
 * convolution runs on the one GEMM (multi-threaded with it, where it is):
 *   forward       y  = im2col(x) · W                 [M, K]·[K, Cout],  M = n·oh·ow, K = kh·kw·cin
 *   filter grad   dW = im2col(x)ᵀ · dy               [K, M]·[M, Cout]
 *   input grad    dx = col2im(dy · Wᵀ)               [M, Cout]·[Cout, K]
 * W is the filter [kh, kw, cin, cout] read as a K x Cout matrix, which it already is in memory.
 * Each runs in the kernel module (kernels/conv.ts) as one call per thread, each thread on its own
 * part (rows of y, window rows of dW, images of dx) with its own block of columns: im2col and
 * col2im run on every thread, and the blocks cost no trip back to JavaScript. Where a window row
 * is long enough, the forward pass builds no columns at all: the GEMM's tile reads x itself.
 * Only NHWC, float32, dilation 1: anything else goes to the engine's own kernel (or is refused,
 * for the filter gradient, which the engine lacks).
 */
import type { KernelConfig, TensorInfo, backend_util } from '@tensorflow/tfjs-core';
import type { Tf } from './tf';
import { MIN_GEMM_MACS, type ConvPart } from './threadPool';
import type { KernelExports, WasmBackendInternals } from './wasmTypes';

type Conv2DInfo = backend_util.Conv2DInfo;

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Runs a convolution's parts: on the kernel threads where there are several (wasmKernels.ts). */
export interface ConvRunner {
  readonly threads: number;
  run(parts: readonly ConvPart[]): void;
}

/** The GEMM's tile (kernels/gemm.ts): blocks of whole tiles. */
const MR = 4;
const NR = 8;
/** And the depth of its packed slices. */
const KC = 256;
/** Floats of one block of the column matrix: 256 KiB. */
const BLOCK_FLOATS = 1 << 16;
/** The kinds of part (kernels/conv.ts). */
const FORWARD = 0;
const FILTER_GRAD = 1;
const INPUT_GRAD = 2;
/** The shortest window row (floats) the forward pass reads in place (kernels/conv.ts). */
const IN_PLACE_RUN = 16;
/** Words of the geometry the kernel reads (kernels/conv.ts). */
const GEOMETRY_WORDS = 21;

const dilated = (d: ConvAttrs['dilations']) => d !== undefined && (Array.isArray(d) ? d[0] !== 1 || d[1] !== 1 : d !== 1);
const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** [start, end) of `parts` near-equal parts of [0, n), each a multiple of `unit` long but the last. */
function split(n: number, parts: number, unit: number): [number, number][] {
  const per = Math.ceil(n / parts / unit) * unit;
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += per) out.push([start, Math.min(n, start + per)]);
  return out;
}

export function installConvKernels(
  tf: Tf,
  backend: WasmBackendInternals,
  k: KernelExports,
  address: (t: { dataId: object }) => number,
  runner: ConvRunner,
): void {
  const info = (xShape: number[], filterShape: number[], a: ConvAttrs): Conv2DInfo =>
    tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      'channelsLast',
    );
  const usable = (a: ConvAttrs, ...ts: TensorInfo[]) => a.dataFormat !== 'NCHW' && !dilated(a.dilations) && ts.every((t) => t.dtype === 'float32');

  const rowsOf = (c: Conv2DInfo) => c.batchSize * c.outHeight * c.outWidth;
  const depthOf = (c: Conv2DInfo) => c.filterHeight * c.filterWidth * c.inChannels;
  /**
   * Output pixels per block: a block of the column matrix (rows x depth floats) stays in the
   * core's cache between its im2col and its product. Made whole, for the 128x14x14x32 layer
   * that matrix is 12.8 MB, and the product that read it back ran at ~27 instead of ~45 GFLOP/s.
   * The same for every part, so that a filter gradient's blocks (summed in order) do not depend
   * on the thread count.
   */
  const blockRows = (c: Conv2DInfo) => Math.min(rowsOf(c), Math.max(MR, Math.floor(BLOCK_FLOATS / depthOf(c) / MR) * MR));

  /**
   * The convolution `kind` on a, b into out, in parts [start, end) of what `ranges` splits: the
   * geometry and every part's scratch in one allocation, laid out here (kernels/conv.ts reads the
   * layout from the geometry).
   */
  const convolve = (kind: number, c: Conv2DInfo, a: number, b: number, out: number, ranges: [number, number][]) => {
    const block = blockRows(c);
    const depth = depthOf(c);
    const cout = c.outChannels;
    const run = c.filterWidth * c.inChannels;
    // The filter, packed once per part for all of its blocks (the filter gradient has no fixed operand).
    const filter = kind === FORWARD ? k.packedBBytes(cout, depth) : kind === INPUT_GRAD ? k.packedBBytes(depth, cout) : 0;
    // No column matrix where the forward pass reads each window in place (the filter packed
    // whole, window rows of at least IN_PLACE_RUN floats). Else columns written straight into the
    // GEMM's packed layout: for the forward pass when the filter is packed whole, for the filter
    // gradient when a window row is whole vectors of 4.
    const inPlace = kind === FORWARD && filter > 0 && run >= IN_PLACE_RUN;
    const packed = (kind === FORWARD && filter > 0) || (kind === FILTER_GRAD && run % 4 === 0);
    const regions = packed
      ? {
          // Packed A: none in place; a block's rows (whole panels) by at most KC columns, or all columns by at most KC rows.
          cols: inPlace ? 0 : kind === FORWARD ? Math.ceil(block / MR) * MR * Math.min(depth, KC) * 4 : depth * Math.min(block, KC) * 4,
          packing: 0,
          filter,
          dy: kind === FILTER_GRAD ? Math.ceil(cout / NR) * NR * KC * 4 : 0,
          edge: MR * NR * 4,
          // Four windows (copies of those across the border), a window row of zeros, and where each row of a block reads x.
          tmp: (4 * c.filterHeight + 1) * run * 4 + 16 * (kind === FORWARD ? block : Math.min(block, KC)),
        }
      : {
          cols: block * depth * 4,
          packing: kind === FILTER_GRAD ? k.sgemmScratchBytes(depth, cout) : k.sgemmScratchBytes(block, kind === FORWARD ? cout : depth),
          filter,
          dy: 0,
          edge: 0,
          tmp: 0,
        };
    const offsets: number[] = [];
    let perPart = 0;
    for (const size of [regions.cols, regions.packing, regions.filter, regions.dy, regions.edge, regions.tmp]) {
      offsets.push(perPart);
      perPart += align16(size);
    }
    const bytes = 16 + GEOMETRY_WORDS * 4 + ranges.length * perPart + 16;
    const at = backend.wasm._malloc(bytes);
    // 0 when the heap cannot grow: the kernels would write over the engine's own memory.
    if (!at) throw new Error(`the wasm engine is out of memory: ${bytes} bytes of a convolution's scratch could not be had`);
    try {
      const geom = align16(at);
      const first = align16(geom + GEOMETRY_WORDS * 4);
      new Int32Array(backend.wasm.asm.memory.buffer, geom, GEOMETRY_WORDS).set([
        c.inHeight,
        c.inWidth,
        c.inChannels,
        c.filterHeight,
        c.filterWidth,
        c.strideHeight,
        c.strideWidth,
        c.padInfo.top,
        c.padInfo.left,
        c.outHeight,
        c.outWidth,
        cout,
        c.batchSize,
        block,
        inPlace ? 2 : packed ? 1 : 0,
        offsets[0]!,
        offsets[1]!,
        // -1: none (0 is a real offset when the regions before it are empty).
        filter > 0 ? offsets[2]! : -1,
        offsets[3]!,
        offsets[4]!,
        offsets[5]!,
      ]);
      runner.run(ranges.map(([start, end], i) => ({ kind, geom, a, b, out, start, end, scratch: first + i * perPart })));
    } finally {
      backend.wasm._free(at);
    }
  };
  /** Parts for the thread count: one where the product is too small to be worth splitting. */
  const partsFor = (c: Conv2DInfo, n: number, unit: number) =>
    split(n, runner.threads > 1 && rowsOf(c) * depthOf(c) * c.outChannels >= MIN_GEMM_MACS ? Math.min(runner.threads, Math.ceil(n / unit)) : 1, unit);

  const replace = (name: string, kernelFunc: KernelConfig['kernelFunc'], keepOriginal: boolean): void => {
    const original = tf.getKernel(name, 'wasm');
    if (original) tf.unregisterKernel(name, 'wasm');
    const fallback = keepOriginal ? original?.kernelFunc : undefined;
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: (args) => {
        const out = kernelFunc(args);
        if (out !== null) return out;
        if (!fallback) throw new Error(`${name} on the wasm engine: only NHWC float32 convolutions without dilation are supported`);
        return fallback(args);
      },
    });
  };

  replace(
    tf.Conv2D,
    (args) => {
      const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
      const a = args.attrs as unknown as ConvAttrs;
      if (!usable(a, x, filter)) return null as unknown as TensorInfo;
      const c = info(x.shape, filter.shape, a);
      const out = backend.makeOutput(c.outShape, 'float32');
      // Rows of y in whole tiles of the GEMM.
      convolve(FORWARD, c, address(x), address(filter), address(out), partsFor(c, rowsOf(c), MR));
      return out;
    },
    true,
  );

  replace(
    tf.Conv2DBackpropFilter,
    (args) => {
      const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
      const a = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
      if (!usable(a, x, dy)) return null as unknown as TensorInfo;
      const c = info(x.shape, a.filterShape, a);
      const out = backend.makeOutput(a.filterShape, 'float32');
      // dW = Σ over blocks of output pixels of colsᵀ·dy, each block's product added in; a part is
      // a range of the window's rows (those rows of dW, and only those columns of cols).
      convolve(FILTER_GRAD, c, address(x), address(dy), address(out), partsFor(c, c.filterHeight, 1));
      return out;
    },
    false,
  );

  replace(
    tf.Conv2DBackpropInput,
    (args) => {
      const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
      const a = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
      if (!usable(a, dy, filter)) return null as unknown as TensorInfo;
      const c = info(a.inputShape, filter.shape, a);
      const out = backend.makeOutput(a.inputShape, 'float32');
      // Whole images: col2im adds into pixels of the image a row comes from, and no other.
      convolve(INPUT_GRAD, c, address(dy), address(filter), address(out), partsFor(c, c.batchSize, 1));
      return out;
    },
    true,
  );
}
