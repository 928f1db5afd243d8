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
 * Only NHWC, float32, dilation 1: anything else goes to the engine's own kernel (or is refused,
 * for the filter gradient, which the engine lacks).
 */
import type { KernelConfig, TensorInfo, backend_util } from '@tensorflow/tfjs-core';
import type { Tf } from './tf';
import type { Gemm, KernelExports, WasmBackendInternals } from './wasmTypes';

type Conv2DInfo = backend_util.Conv2DInfo;

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The GEMM's row tile: blocks of whole tiles. */
const MR = 4;
/** Floats of one block of the column matrix: 256 KiB. */
const BLOCK_FLOATS = 1 << 16;

const dilated = (d: ConvAttrs['dilations']) => d !== undefined && (Array.isArray(d) ? d[0] !== 1 || d[1] !== 1 : d !== 1);

export function installConvKernels(tf: Tf, backend: WasmBackendInternals, k: KernelExports, gemm: Gemm, address: (t: { dataId: object }) => number): void {
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

  /** `bytes` of scratch memory, handed to `body` and freed after it. */
  const withScratch = (bytes: number, body: (at: number) => void) => {
    const at = backend.wasm._malloc(bytes);
    // 0 when the heap cannot grow: the kernels would write over the engine's own memory.
    if (!at) throw new Error(`the wasm engine is out of memory: ${bytes} bytes of a convolution's scratch could not be had`);
    try {
      body(at);
    } finally {
      backend.wasm._free(at);
    }
  };
  const im2col = (x: number, c: Conv2DInfo, row0: number, rows: number, cols: number) =>
    k.im2col(
      x,
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
      row0,
      rows,
      cols,
    );
  const col2im = (cols: number, c: Conv2DInfo, row0: number, rows: number, dx: number) =>
    k.col2im(
      cols,
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
      row0,
      rows,
      dx,
    );
  const rowsOf = (c: Conv2DInfo) => c.batchSize * c.outHeight * c.outWidth;
  const depthOf = (c: Conv2DInfo) => c.filterHeight * c.filterWidth * c.inChannels;
  /**
   * Output pixels per block: a block of the column matrix (rows x depth floats) stays in the
   * core's cache between its im2col and its product. Made whole, for the 128x14x14x32 layer
   * that matrix is 12.8 MB, and the product that read it back ran at ~27 instead of ~45 GFLOP/s.
   */
  const blockRows = (c: Conv2DInfo) => Math.min(rowsOf(c), Math.max(MR, Math.floor(BLOCK_FLOATS / depthOf(c) / MR) * MR));
  /** Row blocks [row0, rows) of the column matrix. */
  const forBlocks = (c: Conv2DInfo, body: (row0: number, rows: number, cols: number) => void) => {
    const total = rowsOf(c);
    const block = blockRows(c);
    withScratch(block * depthOf(c) * 4, (cols) => {
      for (let row0 = 0; row0 < total; row0 += block) body(row0, Math.min(block, total - row0), cols);
    });
  };

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
      const [xAt, wAt, outAt] = [address(x), address(filter), address(out)];
      forBlocks(c, (row0, rows, cols) => {
        im2col(xAt, c, row0, rows, cols);
        gemm(rows, c.outChannels, depthOf(c), cols, false, wAt, false, outAt + row0 * c.outChannels * 4);
      });
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
      // dW = Σ over blocks of output pixels of colsᵀ·dy, each block's product added in.
      const [xAt, dyAt, outAt] = [address(x), address(dy), address(out)];
      const size = depthOf(c) * c.outChannels;
      withScratch(size * 4, (partial) => {
        forBlocks(c, (row0, rows, cols) => {
          im2col(xAt, c, row0, rows, cols);
          gemm(depthOf(c), c.outChannels, rows, cols, true, dyAt + row0 * c.outChannels * 4, false, row0 === 0 ? outAt : partial);
          if (row0 > 0) k.addInto(outAt, partial, size);
        });
      });
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
      const [dyAt, wAt, outAt] = [address(dy), address(filter), address(out)];
      new Float32Array(
        backend.wasm.asm.memory.buffer,
        outAt,
        a.inputShape.reduce((p, q) => p * q, 1),
      ).fill(0);
      forBlocks(c, (row0, rows, cols) => {
        gemm(rows, depthOf(c), c.outChannels, dyAt + row0 * c.outChannels * 4, false, wAt, true, cols);
        col2im(cols, c, row0, rows, outAt);
      });
      return out;
    },
    true,
  );
}
