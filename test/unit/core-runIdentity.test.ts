/**
 * Which spec a run belongs to when the run.json's specPath no longer names it: a workspace moved or cloned
 * (from another machine, Windows too), a folder renamed, a spec renamed while the editor was closed.
 * Generated over layouts; a run must never be given to two different specs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runsOfSpec, specPathOfRun } from '../../src/core/run/paths';
import { retrainProblem } from '../../src/core/confinement';
import type { RunOverview } from '../../src/core/run/read';

const specOf = (runsDir?: string, latent = 2) =>
  JSON.stringify({ data: { kind: 'synthetic', n: 10 }, model: { latentDim: latent }, ...(runsDir ? { output: { runsDir } } : {}) }, null, 2);

function run(runDir: string, specPath: string, specText: string | undefined, startedMs = 1): RunOverview {
  return {
    runDir,
    meta: { name: 'r', specPath, startedAt: new Date(startedMs).toISOString() } as RunOverview['meta'],
    specText,
    status: 'completed',
    startedMs,
  };
}

/** Writes spec files (relative path -> text) under a new folder; returns it. */
function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'vae-lens-identity-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

/** Old roots the workspace was written under, on this and other machines. */
const OLD_ROOTS: { root: string; join: (...parts: string[]) => string }[] = [
  { root: '/home/someone/projects/vae', join: (...p) => ['/home/someone/projects/vae', ...p].join('/') },
  { root: 'C:\\Users\\someone\\vae', join: (...p) => ['C:\\Users\\someone\\vae', ...p].join('\\') },
  { root: 'c:/Users/someone/vae', join: (...p) => ['c:/Users/someone/vae', ...p].join('/') },
  { root: '\\\\server\\share\\vae', join: (...p) => ['\\\\server\\share\\vae', ...p].join('\\') },
];

/** Spec layouts: where the spec is, and its output.runsDir (default, inside, beside, shared above). */
const LAYOUTS: { spec: string[]; runsDir?: string; runs: string[] }[] = [
  { spec: ['model.vae.json'], runs: ['.vae-lens', 'runs'] },
  { spec: ['a', 'model.vae.json'], runs: ['a', '.vae-lens', 'runs'] },
  { spec: ['a', 'b', 'model.vae.json'], runsDir: 'out', runs: ['a', 'b', 'out'] },
  { spec: ['a', 'model.vae.json'], runsDir: '../runs', runs: ['runs'] },
  { spec: ['a', 'model.vae.json'], runsDir: '..\\runs', runs: ['runs'] },
  { spec: ['deep', 'er', 'model.vae.json'], runsDir: '../../shared/runs', runs: ['shared', 'runs'] },
];

test('a moved or cloned workspace keeps its runs, whatever machine wrote them; a spec of the same name elsewhere does not take them', async () => {
  for (const old of OLD_ROOTS)
    for (const layout of LAYOUTS) {
      const text = specOf(layout.runsDir);
      // A second spec of the same file name, in another folder sharing the runs folder when the layout shares one.
      const otherRel = ['other', ...layout.spec.slice(-1)];
      const root = workspace({ [join(...layout.spec)]: text, [join(...otherRel)]: specOf(layout.runsDir?.replace(/\\/g, '/')) });
      const runDir = join(root, ...layout.runs, 'run-1');
      const r = run(runDir, old.join(...layout.spec), text);
      const what = `${old.join(...layout.spec)} with runs in ${layout.runs.join('/')}`;
      assert.equal((await runsOfSpec([r], join(root, ...layout.spec), text)).length, 1, `${what}: the moved spec lost its run`);
      assert.equal((await runsOfSpec([r], join(root, ...otherRel), text)).length, 0, `${what}: another spec of that name took its run`);
      // The same run recorded for a spec of another name is not this spec's.
      const renamedRecord = run(runDir, old.join(...layout.spec.slice(0, -1), 'other.vae.json'), specOf(layout.runsDir, 3));
      assert.equal((await runsOfSpec([renamedRecord], join(root, ...layout.spec), text)).length, 0, `${what}: a run of other.vae.json was taken`);
    }
});

test('a run whose spec still exists where run.json says stays that spec’s, even if another spec would fit it', async () => {
  const text = specOf();
  const root = workspace({ 'a/model.vae.json': text, 'b/model.vae.json': text });
  // The runs of a/ copied into b/ (a folder copied by hand): they name a/model.vae.json, which is there.
  const r = run(join(root, 'b', '.vae-lens', 'runs', 'run-1'), join(root, 'a', 'model.vae.json'), text);
  assert.equal((await runsOfSpec([r], join(root, 'a', 'model.vae.json'), text)).length, 1);
  assert.equal((await runsOfSpec([r], join(root, 'b', 'model.vae.json'), text)).length, 0);
});

test('a spec renamed while the editor was closed keeps its runs when it is the one spec beside them that trained its last run', async () => {
  for (const runsDir of [undefined, 'runs']) {
    const text = specOf(runsDir);
    const older = specOf(runsDir, 5);
    const root = workspace({ 'renamed.vae.json': text, 'unrelated.vae.json': specOf(runsDir, 7) });
    const runs = join(root, runsDir ?? join('.vae-lens', 'runs'));
    const gone = join(root, 'original.vae.json');
    const list = [run(join(runs, 'r1'), gone, older, 1), run(join(runs, 'r2'), gone, text, 2)];
    assert.deepEqual(
      (await runsOfSpec(list, join(root, 'renamed.vae.json'), text)).map((r) => r.runDir),
      [join(runs, 'r2'), join(runs, 'r1')],
      `runsDir ${runsDir}: the renamed spec lost its runs`,
    );
    assert.equal((await runsOfSpec(list, join(root, 'unrelated.vae.json'), specOf(runsDir, 7))).length, 0);
    // Edited since its last run: not recognised (no guess from the file name alone).
    assert.equal((await runsOfSpec(list, join(root, 'renamed.vae.json'), specOf(runsDir, 9))).length, 0);
    // Two specs beside the runs that both trained that text (a copy): neither takes them.
    writeFileSync(join(root, 'copy.vae.json'), text);
    assert.equal((await runsOfSpec(list, join(root, 'renamed.vae.json'), text)).length, 0, 'a run given to two specs');
    assert.equal((await runsOfSpec(list, join(root, 'copy.vae.json'), text)).length, 0, 'a run given to two specs');
  }
});

test('Retrain on a run of a moved or cloned workspace trains the spec where it is now, without a warning', () => {
  for (const old of OLD_ROOTS)
    for (const layout of LAYOUTS) {
      const text = specOf(layout.runsDir);
      const root = workspace({ [join(...layout.spec)]: text });
      const runsDir = join(root, ...layout.runs);
      const r = run(join(runsDir, 'run-1'), old.join(...layout.spec), text);
      const spec = specPathOfRun(r);
      assert.equal(spec, join(root, ...layout.spec), `${old.join(...layout.spec)}: Retrain would train ${spec}`);
      assert.equal(
        retrainProblem(spec, r.runDir, [root], () => [runsDir]),
        undefined,
      );
    }
  // A run whose spec is where run.json says: that one; one that names no spec that can be found: what it names.
  const text = specOf();
  const root = workspace({ 'a/model.vae.json': text, 'b/model.vae.json': text });
  assert.equal(specPathOfRun(run(join(root, 'b', '.vae-lens', 'runs', 'r'), join(root, 'a', 'model.vae.json'), text)), join(root, 'a', 'model.vae.json'));
  assert.equal(specPathOfRun(run(join(root, 'b', '.vae-lens', 'runs', 'r'), '/elsewhere/gone.vae.json', text)), '/elsewhere/gone.vae.json');
});

/**
 * Runs written to a folder the spec does not name (the vaeLens.runsDirectory setting, --out) or that it
 * names as an absolute path: run.json records the runs folder (`runsDir`) beside specPath, and a spec that
 * moved with that folder keeps its runs wherever the folder was.
 */
const CUSTOM_LAYOUTS: { spec: string[]; snapshotRunsDir?: (old: (typeof OLD_ROOTS)[number]) => string; runs: string[]; why: string }[] = [
  { spec: ['model.vae.json'], runs: ['experiments', 'runs'], why: 'the runsDirectory setting' },
  { spec: ['a', 'b', 'model.vae.json'], runs: ['out'], why: '--out at the workspace root' },
  { spec: ['a', 'model.vae.json'], runs: ['a', 'custom'], why: '--out beside the spec' },
  { spec: ['a', 'model.vae.json'], runs: ['x', 'y', 'z'], why: 'the setting, deeper than the spec' },
  { spec: ['a', 'model.vae.json'], snapshotRunsDir: (old) => old.join('shared', 'runs'), runs: ['shared', 'runs'], why: 'an absolute output.runsDir' },
  { spec: ['a', 'model.vae.json'], snapshotRunsDir: () => 'ignored', runs: ['setting', 'runs'], why: 'the setting over output.runsDir' },
];

test('runs written to a folder given by the setting, --out or an absolute output.runsDir keep their spec when the workspace moves', async () => {
  for (const old of OLD_ROOTS)
    for (const layout of CUSTOM_LAYOUTS) {
      const text = specOf(layout.snapshotRunsDir?.(old));
      const otherRel = ['other', ...layout.spec.slice(-1)];
      const root = workspace({ [join(...layout.spec)]: text, [join(...otherRel)]: text, 'model.vae.json': text });
      const runDir = join(root, ...layout.runs, 'run-1');
      const r = run(runDir, old.join(...layout.spec), text);
      r.meta!.runsDir = old.join(...layout.runs);
      const what = `${old.join(...layout.spec)} with runs in ${old.join(...layout.runs)} (${layout.why})`;
      assert.deepEqual(
        (await runsOfSpec([r], join(root, ...layout.spec), text)).map((x) => x.runDir),
        [runDir],
        `${what}: the moved spec lost its run`,
      );
      assert.equal(specPathOfRun(r), join(root, ...layout.spec), `${what}: Retrain would train another spec`);
      for (const other of [otherRel, ['model.vae.json']])
        if (join(...other) !== join(...layout.spec))
          assert.equal((await runsOfSpec([r], join(root, ...other), text)).length, 0, `${what}: ${join(...other)} took its run`);
    }
});

test('a run whose runs folder did not move with the workspace (an absolute folder outside it) is not given to a spec by a guess', async () => {
  for (const old of OLD_ROOTS) {
    const text = specOf();
    const root = workspace({ 'model.vae.json': text });
    const runs = mkdtempSync(join(tmpdir(), 'vae-lens-outside-'));
    const r = run(join(runs, 'run-1'), old.join('model.vae.json'), text);
    r.meta!.runsDir = runs;
    assert.equal((await runsOfSpec([r], join(root, 'model.vae.json'), text)).length, 0, old.root);
  }
});

test('an older run (no runsDir in run.json) in a folder that is not the one its snapshot names is not given to a spec of the same name by a guess', async () => {
  // Written through --out to <root>/p/runs by a spec <root>/p/a/model.vae.json (default output.runsDir), which is gone:
  // read as if its runs were in p/a/.vae-lens/runs, it would name <root>/model.vae.json.
  for (const old of OLD_ROOTS) {
    const text = specOf();
    const root = workspace({ 'model.vae.json': text });
    const r = run(join(root, 'p', 'runs', 'run-1'), old.join('p', 'a', 'model.vae.json'), text);
    assert.equal((await runsOfSpec([r], join(root, 'model.vae.json'), text)).length, 0, `${old.root}: a spec of the same name took the run`);
    assert.equal(specPathOfRun(r), old.join('p', 'a', 'model.vae.json'));
  }
});
