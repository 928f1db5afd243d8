/**
 * What the editor and the trainer may read: inside the workspace by path components (a file named
 * `..x.csv` is inside, `../x.csv` is not), the data file checked on the descriptor it is read
 * through (a link swapped mid-load cannot escape), Retrain only of the spec a run belongs to,
 * untrusted settings that widen access ignored, and the trainer's output lines bounded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { isInsideRoots, retrainProblem } from '../../src/core/confinement';
import { isUserError } from '../../src/core/errors';
import { parseSpec } from '../../src/core/spec';
import { loadData } from '../../src/data/load';
import { BoundedLines } from '../../src/extension/trainer/boundedLines';
import { reportFigure } from './reliability-figures';
import { ROOT, tempDir } from './reliability-processes';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const tmp = tempDir('vae-lens-confinement-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const ws = path.join(tmp, 'ws');
const outside = path.join(tmp, 'outside');
fs.mkdirSync(ws);
fs.mkdirSync(outside);

const csvSpec = (dataPath: string) =>
  parseSpec(JSON.stringify({ data: { path: dataPath, scale: 'none' }, model: { latentDim: 1 } }), path.join(ws, 's.vae.json')).spec;

test('names made of dots are judged by path components: inside files load, ../ escapes are refused', async () => {
  const names = fc.stringMatching(/^[.a-z]{1,8}$/).filter((n) => n !== '.' && n !== '..');
  let cases = 0;
  for (const [i, name] of fc.sample(fc.uniqueArray(names, { minLength: 30, maxLength: 30 }), { seed: SEED, numRuns: 1 })[0]!.entries()) {
    // Half of them directly in the workspace folder, where "..x.csv" was once taken for "../x.csv".
    const folder = i % 2 === 0 ? '' : `d${i}/`;
    const inner = path.join(ws, `${folder}${name}.csv`);
    fs.mkdirSync(path.dirname(inner), { recursive: true });
    fs.writeFileSync(inner, '1,2\n3,4\n');
    assert.equal(isInsideRoots(inner, [ws]), true, inner);
    const ok = await loadData(csvSpec(`${folder}${name}.csv`).data, path.join(ws, 's.vae.json'), { workspaceRoots: [ws] });
    assert.equal(ok.train.n, 2);
    const outer = path.join(outside, `${name}.csv`);
    fs.writeFileSync(outer, '1,2\n');
    assert.equal(isInsideRoots(outer, [ws]), false, outer);
    await assert.rejects(
      loadData(csvSpec(`../outside/${name}.csv`).data, path.join(ws, 's.vae.json'), { workspaceRoots: [ws] }),
      (e: unknown) => isUserError(e) && /is outside the workspace/.test(e.message),
    );
    cases += 2;
  }
  for (const p of ['/', path.join(ws, '..'), path.join(ws, '..', '..', 'etc'), outside, `${ws}-sibling`]) {
    assert.equal(isInsideRoots(p, [ws]), false, p);
    cases++;
  }
  reportFigure({
    group: 'confinement',
    kind: 'check',
    name: 'inside/outside the workspace by path components (dotted names, ../, siblings)',
    cases,
    passed: cases,
  });
});

test('a link swapped between an inside and an outside file while data load: never the outside data', { timeout: 120_000 }, async () => {
  const inside = path.join(ws, 'in.csv');
  const secret = path.join(outside, 'secret.csv');
  fs.writeFileSync(inside, '1,1\n1,1\n');
  fs.writeFileSync(secret, '9,9\n9,9\n');
  const link = path.join(ws, 'swap.csv');
  fs.symlinkSync(inside, link);
  // Another process flips the link as fast as it can (rename is atomic: the link always exists).
  const flipper = spawn(
    process.execPath,
    [
      '-e',
      `const fs=require('fs');const [l,a,b]=process.argv.slice(1);let k=0;for(;;){const t=l+'.t';try{fs.rmSync(t,{force:true});fs.symlinkSync(k++%2?a:b,t);fs.renameSync(t,l)}catch{}}`,
      link,
      inside,
      secret,
    ],
    { cwd: ROOT, stdio: 'ignore' },
  );
  const LOADS = 3000;
  let loaded = 0;
  let refused = 0;
  try {
    const spec = csvSpec('swap.csv');
    for (let i = 0; i < LOADS; i++) {
      try {
        const d = await loadData(spec.data, path.join(ws, 's.vae.json'), { workspaceRoots: [ws] });
        assert.ok(
          d.train.values.every((v) => v === 1),
          `read the outside file: ${Array.from(d.train.values).join(',')}`,
        );
        assert.equal(d.train.source, link);
        loaded++;
      } catch (e) {
        assert.ok(isUserError(e), String(e));
        refused++;
      }
    }
  } finally {
    flipper.kill('SIGKILL');
  }
  assert.equal(loaded + refused, LOADS);
  assert.ok(loaded > 0 && refused > 0, `the flips did not interleave with the loads (${loaded} loaded, ${refused} refused)`);
  reportFigure({
    group: 'confinement',
    kind: 'check',
    name: `data link swapped during loads (${loaded} loaded inside, ${refused} refused, 0 read outside)`,
    cases: LOADS,
    passed: loaded + refused,
  });
});

test('with no folder open (a lone spec), Retrain trains the spec its run belongs to without calling it outside the workspace', () => {
  const lone = tempDir('vae-lens-lone-');
  const spec = path.join(lone, 'lone.vae.json');
  fs.writeFileSync(spec, '{}');
  const runDir = path.join(lone, '.vae-lens', 'runs', 'lone-1');
  fs.mkdirSync(runDir, { recursive: true });
  const runsOf = (s: string) => [path.join(path.dirname(s), '.vae-lens', 'runs')];
  const elsewhere = path.join(outside, 'evil.vae.json');
  fs.writeFileSync(elsewhere, '{}');
  assert.equal(retrainProblem(spec, runDir, [], runsOf), undefined);
  // The other checks still hold: a run.json naming another spec is not that spec's run.
  assert.match(retrainProblem(elsewhere, runDir, [], runsOf) ?? '', /not in the runs folder of/);
  assert.match(retrainProblem('lone.vae.json', runDir, [], runsOf) ?? '', /relative path/);
});

test('Retrain trains only the spec a run belongs to in the workspace', () => {
  const spec = path.join(ws, 'real.vae.json');
  fs.writeFileSync(spec, '{}');
  const runs = path.join(ws, '.vae-lens', 'runs');
  const runDir = path.join(runs, 'real-1');
  fs.mkdirSync(runDir, { recursive: true });
  const runsOf = (s: string) => [path.join(path.dirname(s), '.vae-lens', 'runs')];
  const elsewhere = path.join(outside, 'evil.vae.json');
  fs.writeFileSync(elsewhere, '{}');
  const notSpec = path.join(ws, 'notes.txt');
  fs.writeFileSync(notSpec, '');
  const other = path.join(ws, 'sub', 'other.vae.json');
  fs.mkdirSync(path.dirname(other));
  fs.writeFileSync(other, '{}');
  const cases: [unknown, RegExp | undefined][] = [
    [spec, undefined],
    [elsewhere, /outside the workspace/],
    [path.join(ws, '..', 'outside', 'evil.vae.json'), /outside the workspace/],
    ['real.vae.json', /relative path/],
    [notSpec, /not a \*\.vae\.json spec/],
    [path.join(ws, 'gone.vae.json'), /no longer exists/],
    [other, /not in the runs folder of/],
    [42, /names no spec/],
    [null, /names no spec/],
  ];
  for (const [specPath, expect] of cases) {
    const problem = retrainProblem(specPath, runDir, [ws], runsOf);
    if (expect) assert.match(problem ?? '', expect, String(specPath));
    else assert.equal(problem, undefined);
  }
  reportFigure({
    group: 'confinement',
    kind: 'check',
    name: 'Retrain: run.json naming a spec outside, elsewhere or not a spec asks first',
    cases: cases.length,
    passed: cases.length,
  });
});

test('trainer output without newlines is held to a bounded line; whole lines pass unchanged', () => {
  let cases = 0;
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string({ maxLength: 300 }), fc.constant('\n'), fc.constant('x'.repeat(5000))), { maxLength: 40 }), (chunks) => {
      cases++;
      const max = 1000;
      const out: string[] = [];
      const lines = new BoundedLines((l) => out.push(l), max);
      for (const c of chunks) {
        lines.push(c);
        assert.ok(lines.pending <= max);
      }
      lines.end();
      const expected = chunks
        .join('')
        .split('\n')
        .map((l) => l.replace(/\r$/, ''))
        .filter((l) => l.trim() !== '');
      assert.equal(out.length, expected.length);
      out.forEach((l, i) => {
        if (expected[i]!.length <= max) assert.equal(l, expected[i]);
        else assert.equal(l, `${expected[i]!.slice(0, max).replace(/\r$/, '')} ... (line cut at ${max} characters)`);
      });
    }),
    { seed: SEED, numRuns: 500 },
  );
  reportFigure({ group: 'confinement', kind: 'check', name: 'trainer output lines bounded (generated streams)', cases, passed: cases });
});

test('settings that widen access are ignored in Restricted Mode', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
  };
  const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
  const widening = ['vaeLens.allowDataOutsideWorkspace', 'vaeLens.runsDirectory', 'vaeLens.tfjsNodePath', 'vaeLens.retrainOnSave', 'vaeLens.backend'];
  for (const s of widening) assert.ok(restricted.includes(s), `${s} is not a restricted setting`);
  reportFigure({
    group: 'confinement',
    kind: 'check',
    name: 'settings that widen access are restricted settings',
    cases: widening.length,
    passed: widening.length,
  });
});
