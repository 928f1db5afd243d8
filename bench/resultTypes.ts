/** What one benchmark child reports (the PyTorch script prints the same shape). */

export interface StepStats {
  count: number;
  medianMs: number;
  meanMs: number;
  p10Ms: number;
  p90Ms: number;
}

export interface EngineResult {
  kind: 'tfjs' | 'pytorch';
  engine: string;
  engineDetail: string;
  /** Threads the step ran on (the trainer's kernel threads; PyTorch's intra-op threads). */
  threads?: number;
  workload: string;
  n: number;
  dim: number;
  batch: number;
  steps: number;
  /** Wall-clock time per step (what a user waits for). */
  step: StepStats;
  /** CPU time per step: less disturbed when other processes share the machine. */
  stepCpu: StepStats;
  loadSeconds: number;
  rssAfterLoadBytes: number;
  /** tfjs only: the peak up to the end of loading (the loader's own transient buffers). */
  peakRssAfterLoadBytes?: number;
  /** wasm engine only: the size its linear memory grew to. */
  wasmHeapBytes?: number;
  peakRssBytes: number;
  dataFloat32Bytes: number;
  modelParams: number;
  /** tfjs only: the diagnostics pass at the end of the first epoch against that epoch's training time. */
  diagnostics?: {
    mcSamples: number;
    points: number;
    every: number;
    passSeconds: number;
    passCpuSeconds: number;
    epochSeconds: number;
    epochCpuSeconds: number;
  };
  /** The training loss (minus the ELBO) of the last step's batch. */
  finalLoss?: number;
  /**
   * The mean loss over the last steps: a check that both sides train alike (one batch's loss
   * swings by tens of nats, and the first epoch's loss still falls steeply).
   */
  tailLoss?: { steps: number; mean: number };
  /** Minor page faults per timed step (a freshly mapped page costs ~18 us on this VM). */
  minorFaultsPerStep?: number;
  /** PyTorch only: which malloc settings it ran with ("keep" freed memory, or glibc's "default"). */
  malloc?: string;
}

/** Steps the loss is averaged over at the end of a run. */
export const TAIL_STEPS = 50;

export function tailLoss(losses: number[]): { steps: number; mean: number } {
  const tail = losses.slice(-TAIL_STEPS);
  return { steps: tail.length, mean: tail.reduce((a, b) => a + b, 0) / tail.length };
}

export function perStep(counts: number[]): number {
  return counts.length ? counts.reduce((a, b) => a + b, 0) / counts.length : NaN;
}

export function summarize(ms: number[]): StepStats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN);
  return {
    count: s.length,
    medianMs: at(0.5),
    meanMs: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN,
    p10Ms: at(0.1),
    p90Ms: at(0.9),
  };
}

/** One matrix product bench/gemmBench.ts times: op(A) is m x k, op(B) is k x n. */
export interface GemmProduct {
  label: string;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** bench/gemmBench.ts: one product, best-of times in ms. */
export interface GemmResult {
  /** Which build of the trainer's kernels ran ("relaxed SIMD" or "SIMD"). */
  kernels: string;
  /** Threads the trainer's GEMM was also timed on (oursThreadedMs); 1: not timed threaded. */
  threads?: number;
  products: (GemmProduct & {
    gflop: number;
    /** The trainer's GEMM, transposes read while packing. */
    oursMs: number;
    /** The trainer's GEMM split over `threads` threads. */
    oursThreadedMs?: number;
    /** The engine's stock kernel asked for the same orientation. */
    stockFlagsMs: number;
    /** The stock kernel after explicit transposes (the trainer's arrangement before its own kernels). */
    stockArrangedMs: number;
  })[];
}
