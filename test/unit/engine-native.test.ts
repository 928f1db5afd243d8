// tfjs-node is the preferred engine where it loads. A user's copy can be installed and still not
// load (its native library missing, built for another Node.js or platform): training then falls
// back with one warning that names the package's folder and the repair, and an explicit choice of
// "tensorflow" fails with the same. tfjs-node itself cannot be installed here, so the broken copies
// are fake packages on the resolution path, and a working one is an injected loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTfjsNode, selectEngine, type NativeLoad, type Tf } from '../../src/train/backend';
import type { ValueSource } from '../../src/core/errors';
import { expectUserErrorAsync } from './data-testkit';
import { CLI_BIN, tinyCircleSpec } from './cli-testkit';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-native-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

/** The ways an installed tfjs-node fails: its entry point's source, or no entry point at all. */
const BROKEN: Record<string, string | undefined> = {
  'native library missing': `const e = new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory'); e.code = 'ERR_DLOPEN_FAILED'; throw e;`,
  'built for another Node.js': `throw new Error("The module '/x/tfjs_binding.node'\\nwas compiled against a different Node.js version using NODE_MODULE_VERSION 108.");`,
  'built for another platform': `throw new Error('/x/tfjs_binding.node: invalid ELF header.');`,
  'a dependency missing': `require('@tensorflow/not-there-at-all');`,
  'throws a string': `throw 'no binding';`,
  'throws null': `throw null;`,
  'entry point missing': undefined,
  'backend does not start': `module.exports = { setBackend: async () => false, ready: async () => {} };`,
  'backend throws': `module.exports = { setBackend: async () => { throw new Error('TF_NewSession failed'); }, ready: async () => {} };`,
  'ready rejects': `module.exports = { setBackend: async () => true, ready: async () => { throw new Error('no devices'); } };`,
};

/** A project folder whose node_modules holds a tfjs-node that fails the way `source` says. */
function brokenProject(kind: string, source: string | undefined): { project: string; folder: string } {
  const project = fs.mkdtempSync(path.join(root, `${kind.replace(/\W+/g, '-')}-`));
  const folder = path.join(project, 'node_modules', '@tensorflow', 'tfjs-node');
  fs.mkdirSync(path.join(folder, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'dist/index.js' }));
  if (source !== undefined) fs.writeFileSync(path.join(folder, 'dist', 'index.js'), source);
  return { project, folder };
}

const FROM: ValueSource = { name: 'vaeLens.backend', location: { field: 'vaeLens.backend' } };
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('an installed tfjs-node that does not load falls back to wasm with a warning naming its folder and the repair', async () => {
  for (const [kind, source] of Object.entries(BROKEN)) {
    const { project, folder } = brokenProject(kind, source);
    const found = loadTfjsNode([project]);
    if (found.kind === 'loaded') assert.ok(kind.startsWith('backend') || kind.startsWith('ready'), kind);
    else assert.equal(found.kind, 'broken', kind);

    const engine = await selectEngine('auto', [project], FROM);
    assert.equal(engine.name, 'wasm', kind);
    assert.doesNotMatch(engine.detail, /not installed/, kind);
    assert.match(engine.detail, new RegExp(`tfjs-node in ${escape(folder)} did not load`), kind);
    const warning = engine.warning ?? '';
    assert.match(warning, new RegExp(`@tensorflow/tfjs-node in ${escape(folder)} did not load \\(.+\\)\\.`), kind);
    assert.match(warning, new RegExp(`npm rebuild @tensorflow/tfjs-node" in ${escape(project)}`), kind);
    assert.match(warning, /choose "wasm" with vaeLens\.backend/, kind);
    assert.doesNotMatch(warning, /\n|\.\.|Require stack/, kind);

    await expectUserErrorAsync(
      () => selectEngine('tensorflow', [project], FROM),
      new RegExp(`did not load .*npm rebuild @tensorflow/tfjs-node.*choose "wasm" or "auto" with vaeLens\\.backend`),
      { field: 'vaeLens.backend' },
    );
  }
});

test('without tfjs-node, auto falls back quietly and "tensorflow" says to install it', async () => {
  const empty = fs.mkdtempSync(path.join(root, 'empty-'));
  assert.equal(loadTfjsNode([empty]).kind, 'missing');
  const engine = await selectEngine('auto', [empty], FROM);
  assert.equal(engine.name, 'wasm');
  assert.equal(engine.warning, undefined);
  assert.match(engine.detail, /^tfjs-node not installed; /);
  const e = await expectUserErrorAsync(() => selectEngine('tensorflow', [empty], FROM), /not installed here: install it with npm/, {
    field: 'vaeLens.backend',
  });
  assert.doesNotMatch(e.message, /rebuild/);
});

test('a tfjs-node that loads is chosen by auto and tensorflow, and never asked for by wasm or cpu', async () => {
  let asked = 0;
  const fake = { setBackend: async (name: string) => name === 'tensorflow', ready: async () => undefined } as unknown as Tf;
  const loader = (paths: readonly string[]): NativeLoad => {
    asked++;
    assert.deepEqual(paths, ['/some/project']);
    return { kind: 'loaded', tf: fake, folder: '/some/project/node_modules/@tensorflow/tfjs-node' };
  };
  for (const choice of ['auto', 'tensorflow'] as const) {
    const engine = await selectEngine(choice, ['/some/project'], FROM, loader);
    assert.equal(engine.name, 'tensorflow');
    assert.equal(engine.tf, fake);
    assert.equal(engine.warning, undefined);
    assert.match(engine.detail, /from \/some\/project\/node_modules\/@tensorflow\/tfjs-node$/);
  }
  assert.equal(asked, 2);
  assert.equal((await selectEngine('wasm', ['/some/project'], FROM, loader)).name, 'wasm');
  assert.equal((await selectEngine('cpu', ['/some/project'], FROM, loader)).name, 'cpu');
  assert.equal(asked, 2);
});

test('the CLI trains on wasm beside a broken tfjs-node, with one warning on stderr and the reason in run.json', () => {
  const { dir, spec } = tinyCircleSpec('vae-lens-native-cli-', { epochs: 1 });
  const { folder } = brokenProject('cli', BROKEN['built for another Node.js']);
  fs.renameSync(path.join(folder, '..', '..'), path.join(dir, 'node_modules'));
  const train = (...more: string[]) => {
    const r = spawnSync(process.execPath, [CLI_BIN, 'train', spec, '--out', 'runs', ...more], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr + r.stdout, /^\s+at /m);
    return r;
  };
  const said = /did not load .*NODE_MODULE_VERSION.*npm rebuild @tensorflow\/tfjs-node" in .*choose "wasm" with training\.backend/;
  const warnings = train()
    .stderr.split('\n')
    .filter((l) => /tfjs-node/.test(l) && /^warn/.test(l));
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, said);
  const events = train('--json')
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; level?: string; message?: string });
  const jsonWarnings = events.filter((e) => e.type === 'log' && e.level === 'warn' && /tfjs-node/.test(e.message ?? ''));
  assert.equal(jsonWarnings.length, 1, JSON.stringify(events));
  assert.match(jsonWarnings[0]!.message!, said);
  const runs = fs.readdirSync(path.join(dir, 'runs'));
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'runs', runs[0]!, 'run.json'), 'utf8')) as { backend: string; engineDetail: string };
  assert.equal(meta.backend, 'wasm');
  assert.match(meta.engineDetail, /tfjs-node in .* did not load/);
});
