/**
 * "Install Native TensorFlow" without the native library. What these tests cover, honestly:
 * - the installer (src/extension/nativeEngineInstall.ts) driven by a fake npm that behaves as the
 *   real one does here (tfjs-node's install script cannot download libtensorflow and npm exits
 *   1), installs a package that does not load, hangs until cancelled, or is missing: clear
 *   messages, and never a partial install left where the trainer looks;
 * - a located tfjs-node being loaded, chosen and recorded in run.json, with a stand-in package:
 *   tfjs-core with the CPU kernels registered under the backend name "tensorflow". It proves the
 *   search, the load and the record, not native TensorFlow's numbers.
 * The real npm's failure was checked by hand (the suite talks only to 127.0.0.1): see the README.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { installTfjsNode, locateTfjsNode, nativeEngineFolder, npmCommand, tfjsNodeLoadProblem } from '../../src/extension/engine/nativeEngineInstall';

const root = path.join(__dirname, '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-native-'));

/** A stand-in @tensorflow/tfjs-node: bundled tfjs-core whose "tensorflow" backend runs the CPU kernels. */
async function standInPackage(): Promise<string> {
  const out = path.join(tmp, 'stand-in.js');
  if (fs.existsSync(out)) return out;
  const esbuild = await import('esbuild');
  await esbuild.build({
    stdin: {
      contents: `
        import * as tf from '@tensorflow/tfjs-core';
        import '@tensorflow/tfjs-core/dist/register_all_gradients';
        import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
        for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
        tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);
        export * from '@tensorflow/tfjs-core';`,
      resolveDir: root,
    },
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  return out;
}

/** A fake npm (run with node): `mode` says how its install goes. */
function fakeNpm(mode: 'download-fails' | 'ok' | 'does-not-load' | 'hangs', standIn = ''): string[] {
  const file = path.join(tmp, `npm-${mode}.js`);
  fs.writeFileSync(
    file,
    `const fs = require('fs'), path = require('path');
const pkg = path.join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-node');
fs.mkdirSync(pkg, { recursive: true });
fs.writeFileSync(path.join(pkg, 'package.json'), '{"name":"@tensorflow/tfjs-node","version":"4.22.0","main":"index.js"}');
const mode = ${JSON.stringify(mode)};
console.log('added 60 packages');
if (mode === 'download-fails') {
  console.error('npm error * Downloading libtensorflow');
  console.error('npm error Error: getaddrinfo ENOTFOUND unreachable.invalid');
  process.exit(1);
}
if (mode === 'hangs') setTimeout(() => {}, 60000);
if (mode === 'does-not-load') fs.writeFileSync(path.join(pkg, 'index.js'), "throw new Error('libtensorflow.so.2: cannot open shared object file')");
if (mode === 'ok') fs.copyFileSync(${JSON.stringify(standIn)}, path.join(pkg, 'index.js'));
`,
  );
  return [process.execPath, file];
}

/** A fake npm that installs a package and exits 0: whether it loads is up to the Node that checks it. */
const fakeNpmThatInstalls = () => fakeNpm('does-not-load');

const storage = (name: string) => path.join(tmp, name);
/** Nothing of an install is left where the trainer would look, and no staging folder either. */
function assertNothingInstalled(dir: string) {
  assert.equal(locateTfjsNode([nativeEngineFolder(dir)]), undefined);
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.startsWith('tfjs-node')),
    [],
  );
}

test('the native library download failing: a message naming the cause, the log kept, nothing left installed', async () => {
  const dir = storage('download-fails');
  const lines: string[] = [];
  const r = await installTfjsNode({ storageDir: dir, npm: fakeNpm('download-fails'), onLine: (l) => lines.push(l) });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.cancelled, false);
  assert.match(
    r.message,
    /npm could not install @tensorflow\/tfjs-node@4\.22\.0 \(exit 1\): Error: getaddrinfo ENOTFOUND unreachable\.invalid \(the TensorFlow library download failed/,
  );
  assert.ok(
    lines.some((l) => /Downloading libtensorflow/.test(l)),
    'the progress lines reach the caller',
  );
  assert.match(fs.readFileSync(r.logFile, 'utf8'), /ENOTFOUND/);
  assertNothingInstalled(dir);
});

test('an install that does not load is refused and removed', async () => {
  const dir = storage('does-not-load');
  const r = await installTfjsNode({ storageDir: dir, npm: fakeNpm('does-not-load') });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, /installed but does not load here: .*libtensorflow\.so\.2: cannot open shared object file/);
  assertNothingInstalled(dir);
});

test('cancelling stops npm and leaves nothing; a missing npm is named', async () => {
  const dir = storage('cancelled');
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 300);
  const r = await installTfjsNode({ storageDir: dir, npm: fakeNpm('hangs'), signal: abort.signal });
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.cancelled, true);
  assertNothingInstalled(dir);

  const none = await installTfjsNode({ storageDir: storage('no-npm'), npm: [path.join(tmp, 'no-such-npm')] });
  assert.equal(none.ok, false);
  if (!none.ok) assert.match(none.message, /npm was not found .*set vaeLens\.tfjsNodePath/);
  assertNothingInstalled(storage('no-npm'));
});

test('the load check runs beside the extension host, not in it: the event loop keeps turning, and a hang times out', async () => {
  const dir = storage('slow-load');
  const slowNode = path.join(tmp, 'slow-node.sh');
  fs.writeFileSync(slowNode, '#!/bin/sh\nsleep 1\nexit 0\n', { mode: 0o755 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 50);
  const r = await installTfjsNode({ storageDir: dir, npm: fakeNpmThatInstalls(), node: slowNode });
  clearInterval(timer);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.ok(ticks >= 10, `the event loop turned ${ticks} times during a 1 s load check`);

  const hangingNode = path.join(tmp, 'hanging-node.sh');
  fs.writeFileSync(hangingNode, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  const t0 = performance.now();
  const hung = await installTfjsNode({ storageDir: storage('hung-load'), npm: fakeNpmThatInstalls(), node: hangingNode, loadTimeoutMs: 500 });
  assert.equal(hung.ok, false);
  if (!hung.ok) assert.match(hung.message, /installed but does not load here: it did not load within 0\.5 s/);
  assert.ok(performance.now() - t0 < 10_000, 'the hung check was ended at its timeout');
  assertNothingInstalled(storage('hung-load'));
});

test('a cancelled install waits for npm to close: nothing it or its children print later reaches another file', async () => {
  // An npm whose child keeps printing after npm is killed (the pipe stays open in the child).
  const file = path.join(tmp, 'npm-chatty.js');
  fs.writeFileSync(
    file,
    `const { spawn } = require('child_process');
spawn(process.execPath, ['-e', "let k = 0; const t = setInterval(() => { console.log('late line ' + k++); if (k > 8) { clearInterval(t); } }, 100);"], { stdio: ['ignore', 'inherit', 'inherit'] });
setInterval(() => {}, 1000);
`,
  );
  const dir = storage('chatty');
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 200);
  const lines: string[] = [];
  const r = await installTfjsNode({ storageDir: dir, npm: [process.execPath, file], signal: abort.signal, onLine: (l) => lines.push(l) });
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.cancelled, true);
  const seen = lines.length;
  const other = path.join(tmp, 'another-file.txt');
  const fd = fs.openSync(other, 'w');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  fs.closeSync(fd);
  assert.equal(fs.readFileSync(other, 'utf8'), '', 'a line of the cancelled install was written into a file opened after it');
  assert.equal(lines.length, seen, 'lines reached the caller after the install had returned');
  assertNothingInstalled(dir);
});

test('a storage folder that cannot be made is a failed install with its reason, not an exception', async () => {
  const file = path.join(tmp, 'storage-is-a-file');
  fs.writeFileSync(file, 'x');
  for (const storageDir of [file, path.join(file, 'below')]) {
    const r = await installTfjsNode({ storageDir, npm: fakeNpm('download-fails') });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, /could not install @tensorflow\/tfjs-node in .*storage-is-a-file.*: E(EXIST|NOTDIR)/);
  }
  assert.equal(fs.readFileSync(file, 'utf8'), 'x');
});

test('npm is started as npm.cmd through the shell on Windows, which runs a .cmd only so, and directly elsewhere', () => {
  assert.deepEqual(npmCommand('win32'), { command: 'npm.cmd', shell: true });
  for (const platform of ['linux', 'darwin'] as const) assert.deepEqual(npmCommand(platform), { command: 'npm', shell: false });
});

test('a leftover staging folder from a killed install is removed by the next install', async () => {
  const dir = storage('leftover');
  fs.mkdirSync(path.join(dir, 'tfjs-node.partial-old', 'node_modules'), { recursive: true });
  await installTfjsNode({ storageDir: dir, npm: fakeNpm('download-fails') });
  assertNothingInstalled(dir);
});

test('a successful install is found, loaded by the trainer and recorded in run.json', async () => {
  const dir = storage('ok');
  const r = await installTfjsNode({ storageDir: dir, npm: fakeNpm('ok', await standInPackage()) });
  assert.ok(r.ok, r.ok ? '' : r.message);
  const folder = nativeEngineFolder(dir);
  const pkg = path.join(folder, 'node_modules', '@tensorflow', 'tfjs-node');
  assert.equal(locateTfjsNode(['/nonexistent', folder]), pkg);
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.startsWith('tfjs-node')),
    ['tfjs-node'],
  );

  // The CLI's trainer searches the folder it runs in (the editor passes the installer's folder).
  fs.writeFileSync(
    path.join(folder, 'tiny.vae.json'),
    `{ "name": "tiny", "data": { "synthetic": "circle", "n": 128, "seed": 2 },
       "model": { "latentDim": 2, "encoder": { "hidden": [8] }, "decoder": { "hidden": [8] } },
       "training": { "epochs": 1, "batchSize": 64 }, "diagnostics": { "mcSamples": 2 } }`,
  );
  const run = spawnSync(process.execPath, [path.join(root, 'bin', 'vae-lens.js'), 'train', 'tiny.vae.json', '--backend', 'tensorflow', '--out', 'runs'], {
    cwd: folder,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const [runDir] = fs.readdirSync(path.join(folder, 'runs'));
  const meta = JSON.parse(fs.readFileSync(path.join(folder, 'runs', runDir!, 'run.json'), 'utf8')) as { backend: string; engineDetail?: string };
  assert.equal(meta.backend, 'tensorflow');
  assert.equal(meta.engineDetail, `tfjs-node (native TensorFlow) from ${pkg}`);
});

test('a tfjs-node already there is checked to load before it counts as available: its reason when it does not', async () => {
  const project = (name: string, index: string) => {
    const pkg = path.join(tmp, name, 'node_modules', '@tensorflow', 'tfjs-node');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), '{"name":"@tensorflow/tfjs-node","version":"4.22.0","main":"index.js"}');
    fs.writeFileSync(path.join(pkg, 'index.js'), index);
    return pkg;
  };
  const noLibrary = project('no-library', "throw new Error('libtensorflow.so.2: cannot open shared object file')");
  assert.match((await tfjsNodeLoadProblem(noLibrary)) ?? '', /libtensorflow\.so\.2: cannot open shared object file/);
  const noBackend = project('no-backend', 'module.exports = { setBackend: async () => false };');
  assert.equal(await tfjsNodeLoadProblem(noBackend), 'its tensorflow backend failed to initialise');
  const working = project('working', fs.readFileSync(await standInPackage(), 'utf8'));
  assert.equal(await tfjsNodeLoadProblem(working), undefined);
  assert.match((await tfjsNodeLoadProblem(path.join(tmp, 'nowhere'))) ?? '', /is not there/);
});
