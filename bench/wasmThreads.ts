/**
 * Experiment: the wasm engine's multithreaded build (XNNPACK on a pthread pool) in Node.
 *
 * tfjs 4.22 turns it off in Node (its flag WASM_HAS_MULTITHREAD_SUPPORT answers false there),
 * and its loader hands Emscripten the worker script and the main script as Blob URLs, which
 * Node's worker_threads cannot load. This makes them files: Blobs built from strings keep
 * their text, URL.createObjectURL writes that text to a temporary file and returns its path,
 * and the worker script is told to import the main script from its file. Only the benchmark
 * uses it (engineBench --threads N); the trainer does not.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tf } from '../src/train/backend';

const MAIN_SCRIPT_PREFIX = 'var WasmBackendModuleThreadedSimd';

class TextBlob extends Blob {
  readonly text_: string;
  constructor(parts: BlobPart[] = [], options?: BlobPropertyBag) {
    super(parts, options);
    this.text_ = parts.map((p) => (typeof p === 'string' ? p : '')).join('');
  }
}

export async function enableWasmThreads(tf: Tf, threads: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-wasm-threads-'));
  const mainScript = path.join(dir, 'main.js');
  const originalCreate = URL.createObjectURL.bind(URL);
  let count = 0;
  (globalThis as { Blob: typeof Blob }).Blob = TextBlob;
  URL.createObjectURL = (obj: Blob | MediaSource): string => {
    if (!(obj instanceof TextBlob)) return originalCreate(obj as Blob);
    const file = path.join(dir, `blob${++count}.js`);
    let text = obj.text_;
    // The worker imports the main script from a Blob it cannot read in Node: point it at the file.
    text = text.replace(
      /var objectUrl=URL\.createObjectURL\(e\.data\.urlOrBlob\);importScripts\(objectUrl\);URL\.revokeObjectURL\(objectUrl\)/,
      `importScripts(${JSON.stringify(mainScript)})`,
    );
    fs.writeFileSync(file, text);
    return file;
  };
  // The main script is only ever posted to workers as a Blob; write it out when it is made.
  const OriginalTextBlob = TextBlob;
  (globalThis as { Blob: typeof Blob }).Blob = class extends OriginalTextBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (this.text_.startsWith(MAIN_SCRIPT_PREFIX)) fs.writeFileSync(mainScript, this.text_);
    }
  };
  // Importing the backend registers its flags; only then can they be set.
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
}
