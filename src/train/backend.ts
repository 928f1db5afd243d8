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
  /** Something the user should fix, such as a tfjs-node that is installed but did not load. */
  warning?: string;
}

// Required through variables, which keeps bundlers from trying to include the native module.
const TFJS_NODE = '@tensorflow/tfjs-node';

/**
 * What looking for tfjs-node found: its tfjs and package folder, nothing, or a package that is
 * there but does not load (its native library missing, or built for another Node or platform).
 */
export type NativeLoad = { kind: 'loaded'; tf: Tf; folder: string } | { kind: 'missing' } | { kind: 'broken'; folder: string; reason: string };

/**
 * tfjs-node where the user has it: beside the trainer (an npm install of vae-lens), or in one of
 * `searchPaths` (the editor passes the workspace folders and the vaeLens.tfjsNodePath setting).
 */
export function loadTfjsNode(searchPaths: readonly string[]): NativeLoad {
  let resolved: string;
  try {
    resolved = resolveFrom(TFJS_NODE, searchPaths);
  } catch (e) {
    // A package.json without its entry point is an install that broke, not one that is absent.
    try {
      return { kind: 'broken', folder: path.dirname(resolveFrom(`${TFJS_NODE}/package.json`, searchPaths)), reason: oneLine(e) };
    } catch {
      return { kind: 'missing' };
    }
  }
  try {
    return { kind: 'loaded', tf: require(resolved) as Tf, folder: packageFolder(resolved) };
  } catch (e) {
    return { kind: 'broken', folder: packageFolder(resolved), reason: oneLine(e) };
  }
}

function resolveFrom(id: string, searchPaths: readonly string[]): string {
  try {
    return require.resolve(id);
  } catch {
    return require.resolve(id, { paths: [...searchPaths] });
  }
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
  return (current = await selectEngine(choice, tfjsNodeSearchPaths, from));
}

/** chooseEngine without its memory; `loadNative` finds tfjs-node (tests stand in for it, as it cannot be installed everywhere). */
export async function selectEngine(
  choice: BackendChoice,
  tfjsNodeSearchPaths: readonly string[],
  from: ValueSource,
  loadNative: (searchPaths: readonly string[]) => NativeLoad = loadTfjsNode,
): Promise<Engine> {
  const tried: string[] = [];
  let warning: string | undefined;

  if (choice === 'auto' || choice === 'tensorflow') {
    const native = await startNative(loadNative(tfjsNodeSearchPaths));
    if (native.kind === 'loaded') return { tf: native.tf, name: 'tensorflow', detail: `tfjs-node (native TensorFlow) from ${native.folder}` };
    if (choice === 'tensorflow')
      throw new UserError(
        native.kind === 'missing'
          ? `the "tensorflow" engine (${TFJS_NODE}) is not installed here: install it with npm (npm install ${TFJS_NODE}), or choose "wasm" or "auto" with ${from.name}.`
          : `the "tensorflow" engine did not start: ${brokenNative(native)}, or choose "wasm" or "auto" with ${from.name}.`,
        from.location,
      );
    if (native.kind === 'missing') tried.push('tfjs-node not installed');
    else {
      tried.push(`tfjs-node in ${native.folder} did not load`);
      warning = `native TensorFlow is not used: ${brokenNative(native)}, or remove it or choose "wasm" with ${from.name} to stop trying it.`;
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
      return { tf, name: 'wasm', kernels, warning, detail: [...tried, `WebAssembly engine, ${kernels.variant} kernels`].join('; ') };
    } catch (e) {
      if (choice === 'wasm') throw new UserError(`the "wasm" engine could not start: ${firstLine(e)}; choose another with ${from.name}`, from.location);
      tried.push(`wasm failed (${firstLine(e)})`);
    }
  }
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  await tf.ready();
  return { tf, name: 'cpu', warning, detail: [...tried, 'pure JavaScript engine (slow)'].join('; ') };
}

/** A loaded tfjs-node whose backend does not start is as broken as one that does not load. */
async function startNative(native: NativeLoad): Promise<NativeLoad> {
  if (native.kind !== 'loaded') return native;
  try {
    if (!(await native.tf.setBackend('tensorflow'))) throw new Error('its tensorflow backend failed to initialise');
    await native.tf.ready();
    return native;
  } catch (e) {
    return { kind: 'broken', folder: native.folder, reason: oneLine(e) };
  }
}

/** What went wrong with an installed tfjs-node, and the usual repair. */
function brokenNative(native: Extract<NativeLoad, { kind: 'broken' }>): string {
  const inModules = native.folder.endsWith(path.join('node_modules', TFJS_NODE));
  const where = inModules ? ` in ${path.resolve(native.folder, '../../..')}` : ' where it was installed';
  return (
    `${TFJS_NODE} in ${native.folder} did not load (${native.reason.replace(/[.\s]+$/, '')}). Its native library is missing or was built ` +
    `for another Node.js or platform: rebuild it with "npm rebuild ${TFJS_NODE}"${where} (or reinstall it)`
  );
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** A native module's load error on one line: Node splits the one that matters most (a Node.js version mismatch) over several. */
function oneLine(e: unknown): string {
  // Less the list of requiring files Node appends to a module it cannot find.
  const text = (e instanceof Error ? e.message : String(e)).split('\nRequire stack:')[0]!.replace(/\s+/g, ' ').trim();
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}
