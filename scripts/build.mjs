// Builds everything that ships: the extension host bundle, the trainer process, the CLI,
// the webview script, the wasm engine files, the trainer's own wasm kernels, and the spec's
// JSON Schema.
//   node scripts/build.mjs [--schema-only] [--watch] [--minify]
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';
import { copyFileSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const require = createRequire(import.meta.url);

async function writeSchema() {
  // The schema lives in TypeScript (one source of truth); bundle that module and print it.
  const out = await esbuild.build({
    entryPoints: [join(root, 'src/core/specSchema.ts')],
    bundle: true, write: false, platform: 'node', format: 'cjs', logLevel: 'silent',
  });
  const mod = { exports: {} };
  new Function('module', 'exports', out.outputFiles[0].text)(mod, mod.exports);
  mkdirSync(join(root, 'schemas'), { recursive: true });
  writeFileSync(join(root, 'schemas/vae-spec.schema.json'), JSON.stringify(mod.exports.SPEC_SCHEMA, null, 2) + '\n');
  await writeSpecValidator(mod.exports.SPEC_SCHEMA);
}

/** ajv's validator of the schema as code, so that the editor's first spec check compiles nothing. */
async function writeSpecValidator(schema) {
  const out = await esbuild.build({
    entryPoints: [join(root, 'src/core/specParts/specValidatorCode.ts')],
    bundle: true, write: false, platform: 'node', format: 'cjs', logLevel: 'silent', mainFields: ['module', 'main'],
  });
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(mod, mod.exports, require);
  const file = join(root, mod.exports.SPEC_VALIDATOR_FILE);
  const text = mod.exports.specValidatorSource(schema);
  // Unchanged, it is left alone: a watching build would otherwise see a change of its own making.
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
}

/** Whether a wasm binary has a data section (id 11): walk the section headers. */
function hasDataSegment(bytes) {
  let at = 8;
  const leb = () => {
    let value = 0, shift = 0, byte;
    do { byte = bytes[at++]; value |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80);
    return value >>> 0;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    if (id === 11) return true;
    at += size;
  }
  return false;
}

await writeSchema();
if (args.has('--schema-only')) process.exit(0);

const common = {
  bundle: true,
  sourcemap: true,
  minify: args.has('--minify'),
  logLevel: 'warning',
  target: 'node20',
};
const nodeBuild = (entry, outfile, external = []) => ({
  ...common,
  entryPoints: [join(root, entry)],
  outfile: join(root, outfile),
  platform: 'node',
  format: 'cjs',
  // jsonc-parser's UMD entry does dynamic requires esbuild cannot follow; its ESM entry bundles cleanly.
  mainFields: ['module', 'main'],
  // tfjs-node is optional and native: resolved at run time where the user has it.
  external: ['vscode', '@tensorflow/tfjs-node', ...external],
});

const builds = [];
if (existsSync(join(root, 'src/extension/extension.ts'))) builds.push(nodeBuild('src/extension/extension.ts', 'dist/extension.js'));
if (existsSync(join(root, 'src/train/worker.ts'))) builds.push(nodeBuild('src/train/worker.ts', 'dist/trainer.js'));
if (existsSync(join(root, 'src/cli/main.ts'))) builds.push(nodeBuild('src/cli/main.ts', 'dist/cli.js'));
// The kernel threads' script: the trainer and the CLI start it with worker_threads.
if (existsSync(join(root, 'src/train/kernelThread.ts'))) builds.push(nodeBuild('src/train/kernelThread.ts', 'dist/kernel-thread.js'));
if (existsSync(join(root, 'src/webview/main.ts')))
  builds.push({ ...common, entryPoints: [join(root, 'src/webview/main.ts')], outfile: join(root, 'dist/webview.js'), platform: 'browser', format: 'iife', target: 'es2022' });

// The wasm engine's binaries travel with the bundles.
mkdirSync(join(root, 'dist'), { recursive: true });
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  copyFileSync(join(wasmDir, f), join(root, 'dist', f));
}

// The trainer's kernels (src/train/kernels, AssemblyScript), in two builds of one source:
// with relaxed SIMD (fused multiply-add) and with plain SIMD for runtimes without it.
// They import the wasm engine's memory, so they must not bring data segments of their own; that
// memory is shared (src/train/sharedMemory.ts), so that worker threads can run them on it too.
const { default: asc } = await import('assemblyscript/asc');
for (const [variant, features] of [['relaxed', ['--enable', 'relaxed-simd']], ['simd', []]]) {
  const outFile = join(root, 'dist', `vae-lens-kernels-${variant}.wasm`);
  const { error, stderr } = await asc.main([
    join(root, 'src/train/kernels/index.ts'), '-O3', '--runtime', 'stub', '--importMemory', '--noAssert',
    '--sharedMemory', '--maximumMemory', '65536',
    '--enable', 'simd', '--enable', 'threads', ...features, '--outFile', outFile,
  ]);
  if (error) {
    console.error(stderr.toString());
    throw error;
  }
  if (hasDataSegment(readFileSync(outFile)))
    throw new Error(`${outFile} has a data segment: it would overwrite the engine's memory`);
}

if (args.has('--watch')) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
