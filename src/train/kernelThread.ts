/**
 * A kernel thread (dist/kernel-thread.js, started by threadPool.ts with worker_threads): the
 * trainer's kernel module instantiated on the wasm engine's shared memory, running the jobs the
 * main thread writes into its slot of the control block (threadProtocol.ts), until told to quit.
 *
 * Fault injection for the tests: VAE_LENS_FAULT_KERNEL_THREAD=throw:N, exit:N or hang:N makes
 * thread 1 throw in, exit the thread at, or never finish the Nth block it runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KernelExports } from './wasmTypes';
import { claimBlock, controlViews, DONE, FAILED, GENERATION, QUIT, recordFailure, runSlot } from './threadProtocol';

export interface KernelThreadData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  /** The pool's thread count, the main thread included. */
  threads: number;
  /** This thread's number, 1..threads-1 (the main thread is 0). */
  index: number;
}

type Fault = 'throw' | 'exit' | 'hang';

/** How long an idle kernel thread polls for the next job before it sleeps. */
const SPIN_MS = 1;

function parseFault(spec: string | undefined): { kind: Fault; at: number } | undefined {
  const m = /^(throw|exit|hang):(\d+)$/.exec(spec ?? '');
  return m ? { kind: m[1] as Fault, at: Number(m[2]) } : undefined;
}

function main(data: KernelThreadData): void {
  const abort = (): never => {
    throw new Error('VAE Lens wasm kernel aborted');
  };
  const instance = new WebAssembly.Instance(data.module, { env: { memory: data.memory, abort } });
  const k = instance.exports as unknown as KernelExports;
  const v = controlViews(data.control, data.threads);
  const fault = data.index === 1 ? parseFault(process.env.VAE_LENS_FAULT_KERNEL_THREAD) : undefined;

  let working = false;
  // A thread that leaves in the middle of a block still counts it done, so the pool never waits for it.
  process.on('exit', () => {
    if (Atomics.load(v.words, QUIT) !== 0) return;
    recordFailure(v, data.index, `kernel thread ${data.index} exited`);
    if (working) {
      Atomics.add(v.words, DONE, 1);
      Atomics.notify(v.words, DONE);
    }
  });
  // The generation before the first job, read before the pool can dispatch one.
  let seen = Atomics.load(v.words, GENERATION);
  parentPort?.postMessage('ready');

  let blocks = 0;
  for (;;) {
    // Poll a little before sleeping: within a training step the next product comes within a
    // millisecond or so, and a thread woken from Atomics.wait on a virtual machine can take longer
    // than half a product to start (the main thread then runs its block, or waits for it).
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(v.words, GENERATION) === seen && performance.now() < until);
    Atomics.wait(v.words, GENERATION, seen);
    seen = Atomics.load(v.words, GENERATION);
    if (Atomics.load(v.words, QUIT) !== 0) return;
    for (let block = claimBlock(v, seen); block >= 0; block = claimBlock(v, seen)) {
      working = true;
      blocks++;
      try {
        if (fault && blocks === fault.at) {
          if (fault.kind === 'exit') process.exit(3);
          // A thread stuck in a loop: it cannot report anything; the pool's timeout must end the run.
          if (fault.kind === 'hang') for (;;);
          throw new Error(`injected fault (VAE_LENS_FAULT_KERNEL_THREAD) at block ${blocks}`);
        }
        if (Atomics.load(v.words, FAILED) === 0) runSlot(k, v, block);
      } catch (e) {
        recordFailure(v, data.index, `kernel thread ${data.index}: ${e instanceof Error ? e.message : String(e)}`);
      }
      working = false;
      Atomics.add(v.words, DONE, 1);
      Atomics.notify(v.words, DONE);
    }
  }
}

main(workerData as KernelThreadData);
