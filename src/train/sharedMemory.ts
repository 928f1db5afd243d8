/**
 * The wasm engine on a shared memory, so that worker threads can run the trainer's kernels on
 * the tensors where they lie (src/train/threadPool.ts).
 *
 * tfjs-backend-wasm's single-threaded builds define their memory inside the module, a plain
 * (unshared) one that no other thread can see. Its multithreaded build has a shared memory, but
 * tfjs disables it in Node and its loader needs Blob URLs that Node's workers cannot load
 * (bench/wasmThreads.ts). So the SIMD build is given a shared memory instead: its binary is
 * rewritten at load time so that the memory it defined becomes an import of a shared memory
 * with the same limits, which the loader then passes in. The code itself is untouched: plain
 * loads and stores behave the same on a shared memory, and growth goes through Emscripten's
 * `emscripten_resize_heap`, which grows the Memory object and re-reads its buffer.
 */

/** A shared memory may not grow past its declared maximum; 2 GiB is what Emscripten allows the heap. */
const MAX_SHARED_PAGES = 32768;

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const LIMITS_HAS_MAX = 0x01;
const LIMITS_SHARED = 0x02;
const IMPORT_KIND_MEMORY = 0x02;

function readLeb(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return { value, next: at };
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...leb(bytes.length), ...bytes];
}

interface Section {
  id: number;
  /** Where the section starts (its id byte). */
  header: number;
  /** Where the section's contents start and end (after its id and size). */
  start: number;
  end: number;
}

function sections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new Error('not a WebAssembly module');
  const out: Section[] = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at]!;
    const size = readLeb(bytes, at + 1);
    out.push({ id, header: at, start: size.next, end: size.next + size.value });
    at = size.next + size.value;
  }
  return out;
}

export interface SharedModule {
  binary: Uint8Array<ArrayBuffer>;
  /** The memory to pass as env.memory: shared, with the module's initial size. */
  memory: WebAssembly.Memory;
}

/**
 * `binary` with its one defined memory turned into an import `env.memory` of a shared memory,
 * and that memory. Throws if the module does not define exactly one memory.
 */
export function shareModuleMemory(binary: Uint8Array): SharedModule {
  const all = sections(binary);
  const memorySection = all.find((s) => s.id === SECTION_MEMORY);
  if (!memorySection) throw new Error('the module defines no memory');
  const count = readLeb(binary, memorySection.start);
  if (count.value !== 1) throw new Error(`the module defines ${count.value} memories`);
  const flags = binary[count.next]!;
  const initial = readLeb(binary, count.next + 1);
  const declaredMax = flags & LIMITS_HAS_MAX ? readLeb(binary, initial.next).value : MAX_SHARED_PAGES;
  const maximum = Math.min(declaredMax, MAX_SHARED_PAGES);
  if (initial.value > maximum) throw new Error(`the module asks for ${initial.value} pages, more than a shared memory may have here`);

  const memoryImport = [...name('env'), ...name('memory'), IMPORT_KIND_MEMORY, LIMITS_HAS_MAX | LIMITS_SHARED, ...leb(initial.value), ...leb(maximum)];
  const importSection = all.find((s) => s.id === SECTION_IMPORT);
  let imports: number[];
  if (importSection) {
    const n = readLeb(binary, importSection.start);
    imports = [...leb(n.value + 1), ...binary.subarray(n.next, importSection.end), ...memoryImport];
  } else {
    imports = [...leb(1), ...memoryImport];
  }

  const parts: Uint8Array[] = [binary.subarray(0, 8)];
  let importsWritten = false;
  const writeImports = () => {
    parts.push(Uint8Array.from([SECTION_IMPORT, ...leb(imports.length), ...imports]));
    importsWritten = true;
  };
  for (const s of all) {
    // Sections come in id order (custom sections, id 0, anywhere): imports go where they belong.
    if (!importsWritten && s.id !== 0 && s.id >= SECTION_IMPORT) writeImports();
    if (s.id === SECTION_IMPORT || s.id === SECTION_MEMORY) continue;
    parts.push(binary.subarray(s.header, s.end));
  }
  if (!importsWritten) writeImports();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { binary: out, memory: new WebAssembly.Memory({ initial: initial.value, maximum, shared: true }) };
}

/** The import Emscripten's single-threaded loader gives tfjs's module, and only it. */
function isEngineImports(imports: WebAssembly.Imports | undefined): boolean {
  const env = imports?.env as Record<string, unknown> | undefined;
  return typeof env?.emscripten_resize_heap === 'function' && env.memory === undefined;
}

/**
 * Run `init` (the wasm engine's initialisation) with WebAssembly.instantiate answering for the
 * engine's module with its shared-memory version. Returns the memory it was given, or
 * undefined if the engine's module was not instantiated from bytes during `init`.
 */
export async function withSharedEngineMemory<T>(init: () => Promise<T>): Promise<{ result: T; memory: WebAssembly.Memory | undefined }> {
  const original = WebAssembly.instantiate;
  let memory: WebAssembly.Memory | undefined;
  const patched = (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports): Promise<unknown> => {
    if (source instanceof WebAssembly.Module || !isEngineImports(imports)) return (original as (s: unknown, i?: unknown) => Promise<unknown>)(source, imports);
    const bytes = ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
    const shared = shareModuleMemory(bytes);
    memory = shared.memory;
    return original(shared.binary, { ...imports, env: { ...imports!.env, memory: shared.memory } });
  };
  WebAssembly.instantiate = patched as typeof WebAssembly.instantiate;
  try {
    const result = await init();
    return { result, memory };
  } finally {
    WebAssembly.instantiate = original;
  }
}
