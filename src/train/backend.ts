/**
 * Choosing the tfjs engine at run time: tfjs-node ("tensorflow", native) where it loads,
 * else the wasm backend shipped with the bundle, else pure-JS cpu.
 *
 * tfjs-node brings its own copy of tfjs-core, and a backend registers itself only in the
 * copy it was loaded with, so the rest of the trainer never imports tfjs-core directly:
 * it receives the `Tf` namespace of whichever engine was chosen.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { UserError, type ValueSource } from '../core/errors';
import type { BackendChoice } from '../core/spec';
import { withSharedEngineMemory } from './sharedMemory';
import type { Tf } from './tf';
import { installWasmKernels, type WasmKernels } from './wasmKernels';

// Callers that choose an engine get its API type from the same place.
export type { Tf };

export interface Engine {
  tf: Tf;
  /** The backend name tfjs reports: tensorflow, wasm or cpu. */
  name: string;
  /** Why this engine (what was tried before it), for the user. */
  detail: string;
  /** On the wasm engine: the trainer's own GEMM and Adam kernels (src/train/wasmKernels.ts). */
  kernels?: WasmKernels;
}

/**
 * tfjs-node where the user has it: beside the trainer (an npm install of vae-lens), or in one of
 * `searchPaths` (the editor passes the workspace folders and the vaeLens.tfjsNodePath setting).
 */
function loadTfjsNode(searchPaths: readonly string[]): { tf: Tf; from: string } {
  // A variable keeps bundlers from trying to include the native module.
  const id = '@tensorflow/tfjs-node';
  let resolved: string;
  try {
    resolved = require.resolve(id);
  } catch {
    resolved = require.resolve(id, { paths: [...searchPaths] });
  }
  return { tf: require(resolved) as Tf, from: packageFolder(resolved) };
}

/** The package folder of a resolved entry point (…/node_modules/@tensorflow/tfjs-node), for the record. */
function packageFolder(entry: string): string {
  const marker = `${path.sep}node_modules${path.sep}@tensorflow${path.sep}tfjs-node${path.sep}`;
  const at = entry.lastIndexOf(marker);
  return at >= 0 ? entry.slice(0, at + marker.length - 1) : path.dirname(entry);
}

function wasmBinariesDir(): string {
  // In the bundle (dist/trainer.js, dist/cli.js) the binaries sit next to the script;
  // from compiled sources (tests) they are in the npm package.
  const here = __dirname;
  if (fs.existsSync(path.join(here, 'tfjs-backend-wasm-simd.wasm'))) return here + path.sep;
  const packaged = '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm';
  return path.dirname(require.resolve(packaged)) + path.sep;
}

let current: Engine | undefined;

const SPEC_BACKEND: ValueSource = { name: 'training.backend', location: { field: 'training.backend' } };

/** `from` is what chose the engine (the spec's training.backend, a flag, a setting), for messages. */
export async function chooseEngine(
  choice: BackendChoice = 'auto',
  tfjsNodeSearchPaths: readonly string[] = [],
  from: ValueSource = SPEC_BACKEND,
): Promise<Engine> {
  if (current && (choice === 'auto' || choice === current.name)) return current;
  const tried: string[] = [];

  if (choice === 'auto' || choice === 'tensorflow') {
    try {
      const { tf, from } = loadTfjsNode(tfjsNodeSearchPaths);
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend failed to initialise');
      await tf.ready();
      return (current = { tf, name: 'tensorflow', detail: `tfjs-node (native TensorFlow) from ${from}` });
    } catch (e) {
      if (choice === 'tensorflow')
        throw new UserError(
          `the "tensorflow" engine (@tensorflow/tfjs-node) is not available here: ${firstLine(e)}. Install it with npm, or choose "wasm" or "auto" with ${from.name}.`,
          from.location,
        );
      tried.push('tfjs-node not installed');
    }
  }

  // Both remaining engines share the bundled tfjs-core.
  const tf = (await import('@tensorflow/tfjs-core')) as Tf;
  // tfjs-core alone has no gradients registered (the full @tensorflow/tfjs package does this).
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  if (choice === 'auto' || choice === 'wasm') {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(wasmBinariesDir());
      // On a shared memory, so that the trainer's kernel threads can work on its tensors.
      const { result: ready } = await withSharedEngineMemory(() => tf.setBackend('wasm'));
      if (!ready) throw new Error('wasm backend failed to initialise');
      await tf.ready();
      const kernels = await installWasmKernels(tf);
      return (current = { tf, name: 'wasm', kernels, detail: [...tried, `WebAssembly engine, ${kernels.variant} kernels`].join('; ') });
    } catch (e) {
      if (choice === 'wasm') throw new UserError(`the "wasm" engine could not start: ${firstLine(e)}; choose another with ${from.name}`, from.location);
      tried.push(`wasm failed (${firstLine(e)})`);
    }
  }
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  await tf.ready();
  return (current = { tf, name: 'cpu', detail: [...tried, 'pure JavaScript engine (slow)'].join('; ') });
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
