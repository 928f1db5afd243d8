/**
 * The layout of the control block that the trainer's thread pool (threadPool.ts) and its kernel
 * threads (kernelThread.ts) share: one SharedArrayBuffer of int32 words, read and written with
 * Atomics. No message crosses per job: the main thread writes the job's blocks into the slots,
 * publishes them in the JOB word, bumps the generation and notifies. Every thread, the main one
 * included, then claims blocks from JOB until none is left, and counts each one done. A thread
 * that wakes late (the machine is busy) finds its block taken by another and goes back to
 * sleep: no one ever waits for a thread that has not started.
 */
import type { KernelExports } from './wasmTypes';

/** Words of the header. */
export const GENERATION = 0;
/** Blocks of the current job finished (run, or skipped after a failure). */
export const DONE = 1;
/** 1 + the index of the first thread that failed (0: none), and its message's length in bytes. */
export const FAILED = 2;
export const MESSAGE_BYTES = 3;
/** Set by the pool to make every thread leave its loop. */
export const QUIT = 4;
/**
 * The current job, packed so that one compare-and-swap claims a block: its generation (low 12
 * bits), its block count and the next unclaimed block (10 bits each). A claimed block's slot stays
 * valid until every block of the job is done, so any thread that wins the swap may run it.
 */
export const JOB = 5;
const HEADER_WORDS = 8;

/** A job slot: the operation and its arguments, as int32 words (floats by their bits). */
export const SLOT_WORDS = 16;
export const OP_NONE = 0;
export const OP_GEMM = 1;
/** 2 was one tensor's Adam update, before the updates of a step became one job (OP_ADAM_TABLE). */
export const OP_WSE_ROWS = 3;
export const OP_WSE_GRAD = 4;
export const OP_ACTIVATION_GRAD = 5;
export const OP_ADAM_TABLE = 6;
export const OP_CONV = 7;

const MESSAGE_CAPACITY = 1024;

export interface ControlViews {
  words: Int32Array;
  floats: Float32Array;
  message: Uint8Array;
}

export function controlBytes(threads: number): number {
  return (HEADER_WORDS + SLOT_WORDS * threads) * 4 + MESSAGE_CAPACITY;
}

export function controlViews(buffer: SharedArrayBuffer, threads: number): ControlViews {
  const wordCount = HEADER_WORDS + SLOT_WORDS * threads;
  return {
    words: new Int32Array(buffer, 0, wordCount),
    floats: new Float32Array(buffer, 0, wordCount),
    message: new Uint8Array(buffer, wordCount * 4, MESSAGE_CAPACITY),
  };
}

export function slotOffset(thread: number): number {
  return HEADER_WORDS + SLOT_WORDS * thread;
}

export function packJob(generation: number, blocks: number): number {
  if (blocks > 0x3ff) throw new Error(`a job of ${blocks} blocks: at most 1023`);
  return ((generation & 0xfff) << 20) | (blocks << 10);
}

/** The next unclaimed block of generation `generation`'s job, or -1 when there is none (or the job has moved on). */
export function claimBlock(v: ControlViews, generation: number): number {
  for (;;) {
    const job = Atomics.load(v.words, JOB);
    const next = job & 0x3ff;
    if (job >>> 20 !== (generation & 0xfff) || next >= ((job >>> 10) & 0x3ff)) return -1;
    if (Atomics.compareExchange(v.words, JOB, job, job + 1) === job) return next;
  }
}

/** Run the job in `thread`'s slot with kernel module `k`. Shared by the main thread and the kernel threads. */
export function runSlot(k: KernelExports, v: ControlViews, thread: number): void {
  const s = slotOffset(thread);
  const w = v.words;
  const f = v.floats;
  switch (w[s]) {
    case OP_GEMM:
      // With word 15 (not 0), op(B) is already packed there (packedWeights.ts).
      k.sgemmInto(
        w[s + 1]!,
        w[s + 2]!,
        w[s + 3]!,
        w[s + 4]!,
        w[s + 5]!,
        w[s + 6] === 1,
        w[s + 7]!,
        w[s + 8]!,
        w[s + 9] === 1,
        w[s + 10]!,
        w[s + 11]!,
        w[s + 12]!,
        false,
        w[s + 15]!,
      );
      // A dense layer's bias (and ReLU) on the block just computed: address 0 is none.
      if (w[s + 13] !== 0) k.biasActivation(w[s + 1]!, w[s + 2]!, w[s + 10]!, w[s + 10]!, w[s + 11]!, w[s + 13]!, w[s + 14] === 1);
      return;
    case OP_WSE_ROWS:
      k.weightedSquaredErrorRows(w[s + 1]!, w[s + 2]!, w[s + 3]!, w[s + 4]!, w[s + 5]!, w[s + 6]!, w[s + 7] === 1, w[s + 8]!);
      return;
    case OP_WSE_GRAD:
      k.weightedSquaredErrorGradColumns(
        w[s + 1]!,
        w[s + 2]!,
        w[s + 3]!,
        w[s + 4]!,
        w[s + 5]!,
        w[s + 6]!,
        w[s + 7]!,
        w[s + 8] === 1,
        w[s + 9]!,
        w[s + 10]!,
        w[s + 11]!,
      );
      return;
    case OP_ADAM_TABLE:
      k.adamUpdateTable(w[s + 1]!, w[s + 2]!, w[s + 3]!, w[s + 4]!, f[s + 5]!, f[s + 6]!, f[s + 7]!, f[s + 8]!, f[s + 9]!, f[s + 10]!, f[s + 11]!, f[s + 12]!);
      return;
    case OP_CONV:
      k.conv(w[s + 1]!, w[s + 2]!, w[s + 3]!, w[s + 4]!, w[s + 5]!, w[s + 6]!, w[s + 7]!, w[s + 8]!);
      return;
    case OP_ACTIVATION_GRAD:
      k.activationGradColumns(w[s + 1]!, w[s + 2]!, w[s + 3]!, w[s + 4]!, w[s + 5]!, w[s + 6]!, w[s + 7] === 1, w[s + 8]!, w[s + 9]!);
      return;
    default:
      return;
  }
}

/** Record the first failure's message (later ones keep it). */
export function recordFailure(v: ControlViews, thread: number, message: string): void {
  if (Atomics.compareExchange(v.words, FAILED, 0, thread + 1) !== 0) return;
  const bytes = new TextEncoder().encode(message).subarray(0, v.message.length);
  v.message.set(bytes);
  Atomics.store(v.words, MESSAGE_BYTES, bytes.length);
}

export function failureMessage(v: ControlViews): string {
  const length = Atomics.load(v.words, MESSAGE_BYTES);
  // TextDecoder refuses views of shared memory: copy first.
  return new TextDecoder().decode(v.message.slice(0, length));
}
