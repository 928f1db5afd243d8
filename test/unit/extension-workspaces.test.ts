/**
 * The extension in setups the examples do not use: no folder open, several folders, an untitled
 * editor. Each test plays its setup on the stand-in vscode module and puts it back.
 */
import { answers, fireWorkspace, openDocuments, progressTitles, quickPicks, setup, shown, Uri } from './vscode-stub';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRequest } from '../../src/core/protocol';
import { runsOfSpec, samePath } from '../../src/core/run/paths';
import type { RunOverview } from '../../src/core/run/read';
import { AlreadyTrainingError, TrainerClient } from '../../src/extension/trainer/trainerClient';
import { RunCommands, type RunCommandDeps } from '../../src/extension/runs/runCommands';
import type { RunIndex } from '../../src/extension/runs/runIndex';
import { RunsViewProvider } from '../../src/extension/runs/runsTreeView';
import { newModel } from '../../src/extension/specs/newModel';
import { ROOT } from './reliability-processes';
import { Training, type TrainingDeps } from '../../src/extension/training/trainCommands';
import { readSettings } from '../../src/extension/settings';
import { findSpecs, resolveSpec } from '../../src/extension/specs/specFiles';
import { TRAINER_UNTIL_STOPPED } from './trainer-testkit';

afterEach(() => {
  setup.folders = undefined;
  setup.settings = {};
  setup.activeDocument = undefined;
  setup.files = [];
  shown.length = 0;
});

const lone = join('/', 'lone', 'models');
// What a user writes in vaeLens.runsDirectory (user settings), and where it leads for a spec opened with no folder open.
const NO_FOLDER_CASES: [string, string][] = [
  ['runs', join(lone, 'runs')],
  ['./runs/vae', join(lone, 'runs', 'vae')],
  ['../shared-runs', join('/', 'lone', 'shared-runs')],
  ['${workspaceFolder}', lone],
  ['${workspaceFolder}/runs', join(lone, 'runs')],
  ['${workspaceFolderBasename}-runs', join(lone, 'models-runs')],
  ['/data/runs', join('/', 'data', 'runs')],
];
for (const [written, expected] of NO_FOLDER_CASES) {
  test(`with no folder open, runsDirectory "${written}" is taken against the spec's folder: ${expected}`, () => {
    setup.settings = { 'vaeLens.runsDirectory': written, 'vaeLens.tfjsNodePath': written };
    const settings = readSettings(Uri.file(join(lone, 'a.vae.json')) as never);
    // Not the extension host's working folder (whatever it was started in), nor a folder named "${workspaceFolder}".
    assert.equal(settings.runsDirectory, expected);
    assert.equal(settings.tfjsNodePath, expected);
  });
}

for (const languageId of ['jsonc', 'json']) {
  test(`Train VAE in an untitled ${languageId} editor does not train another spec of the workspace in its place`, async () => {
    const only = Uri.file(join('/', 'ws', 'only.vae.json'));
    setup.folders = [{ uri: Uri.file(join('/', 'ws')), name: 'ws', index: 0 }];
    setup.files = [only];
    setup.activeDocument = { uri: untitled('Untitled-1'), isUntitled: true, languageId, getText: () => '{ "name": "draft" }' };
    assert.equal(await resolveSpec(undefined, 'Which spec do you want to train?'), undefined);
    assert.match(shown.map((s) => s.message).join('\n'), /Untitled-1 is not saved.*\.vae\.json/);
  });
}

/** An untitled editor's Uri (scheme "untitled"), built as the stub's Uri.file builds a file's. */
function untitled(name: string): Uri {
  return Object.assign(Object.create(Uri.prototype) as Uri, { scheme: 'untitled', fsPath: name });
}

/** An extension folder in `dir` with the fake trainer, and a Training wired to it. */
function fakeTraining(dir: string, runsOfSpec: (specPath: string) => Promise<RunOverview[]>) {
  mkdirSync(join(dir, 'ext', 'dist'), { recursive: true });
  writeFileSync(join(dir, 'ext', 'dist', 'trainer.js'), TRAINER_UNTIL_STOPPED);
  const client = new TrainerClient({ trainerPath: join(dir, 'ext', 'dist', 'trainer.js'), log: () => undefined });
  const extensionUri = Uri.file(join(dir, 'ext'));
  const training = new Training({
    extensionUri,
    client,
    diagnostics: { clearTrainerErrors: () => undefined },
    panelDeps: () => ({ extensionUri, client, log: () => undefined, actions: {} }),
    output: { appendLine: () => undefined },
    storageDir: join(dir, 'storage'),
    runsOfSpec,
  } as unknown as TrainingDeps);
  return { client, training };
}

/** An extension folder with the fake trainer, a spec open in the editor, and a Training wired to them. */
function trainingSetup(runsOfSpec: (specPath: string) => Promise<RunOverview[]>) {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-two-windows-'));
  const spec = Uri.file(join(dir, 'ws', 'roll.vae.json'));
  const text = JSON.stringify({ name: 'roll', data: { synthetic: 'swiss_roll', n: 200, seed: 1 }, model: { type: 'VAE-1', latentDim: 2 } });
  openDocuments.push({ uri: spec, getText: () => text, isDirty: false } as (typeof openDocuments)[number]);
  setup.folders = [{ uri: Uri.file(join(dir, 'ws')), name: 'ws', index: 0 }];
  const { client, training } = fakeTraining(dir, runsOfSpec);
  const done = async () => {
    await client.stopAll(2000);
    training.dispose();
    openDocuments.splice(openDocuments.findIndex((d) => d.uri === spec));
  };
  return { spec, client, training, done };
}

/** The spec's run another window (or a terminal) is training: its run.json names a live process that is not one of this window's trainers. */
const runElsewhere = (specPath: string, status: RunOverview['status']): RunOverview => ({
  runDir: join(specPath, '..', '.vae-lens', 'runs', 'roll-20261201-000000'),
  meta: { name: 'roll', specPath, startedAt: new Date().toISOString(), pid: process.pid } as RunOverview['meta'],
  status,
  startedMs: Date.now(),
});

test('Train VAE on a spec another window is training asks first, and does not start a second run unless told to', async () => {
  const w = trainingSetup(async (specPath) => [runElsewhere(specPath, 'running')]);
  try {
    answers.message = undefined;
    assert.equal(await w.training.train(w.spec), undefined, 'a second run was started without asking');
    assert.equal(w.client.all().length, 0);
    assert.match(
      shown.map((s) => s.message).join('\n'),
      new RegExp(`roll\\.vae\\.json is already training in another window or terminal \\(process ${process.pid}, run roll-20261201-000000\\)`),
    );
    // Retrain on save does not ask: it starts nothing, and says why.
    shown.length = 0;
    assert.equal(await w.training.trainSpec(w.spec as never, { ask: false }), undefined);
    assert.equal(w.client.all().length, 0);
    assert.match(shown.map((s) => s.message).join('\n'), /roll\.vae\.json is already training in another window or terminal/);
    // Told to: a second run starts.
    answers.message = 'Train Anyway';
    assert.ok(await w.training.train(w.spec), 'the user said "Train Anyway", but nothing started');
  } finally {
    answers.message = undefined;
    await w.done();
  }
});

test('Train VAE on a spec whose last run ended elsewhere starts without asking', async () => {
  const w = trainingSetup(async (specPath) => [runElsewhere(specPath, 'stopped')]);
  try {
    assert.ok(await w.training.train(w.spec));
    assert.deepEqual(
      shown.filter((s) => s.level !== 'info'),
      [],
    );
  } finally {
    await w.done();
  }
});

/** A project folder and links to it (a symlinked workspace folder, a link to the spec itself, a link inside a link). */
function linkedProject() {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'vae-lens-links-')));
  const real = join(root, 'real', 'proj');
  mkdirSync(join(real, 'models'), { recursive: true });
  writeFileSync(join(real, 'models', 'a.vae.json'), '{}');
  symlinkSync(real, join(root, 'link'));
  symlinkSync(join(root, 'link'), join(root, 'link-of-link'));
  symlinkSync(join(real, 'models', 'a.vae.json'), join(root, 'a-link.vae.json'));
  const spellings = [
    join(real, 'models', 'a.vae.json'),
    join(root, 'link', 'models', 'a.vae.json'),
    join(root, 'link-of-link', 'models', 'a.vae.json'),
    join(root, 'link', 'models', '..', 'models', 'a.vae.json'),
    join(root, 'a-link.vae.json'),
  ];
  return { root, real, spellings };
}

test('a spec reached through a symlinked folder is the same spec as by its real path: its runs, and its one trainer', async () => {
  const { root, real, spellings } = linkedProject();
  for (const a of spellings) {
    for (const b of spellings) assert.ok(samePath(a, b), `${a} and ${b} are one file`);
    // The runs a trainer wrote under one spelling belong to the spec opened under any other.
    for (const writtenAs of spellings) {
      const run = { runDir: join(real, 'models', '.vae-lens', 'runs', 'a-1'), meta: { specPath: writtenAs }, status: 'completed', startedMs: 1 };
      assert.equal((await runsOfSpec([run as RunOverview], a)).length, 1, `a run of ${writtenAs} is not found for ${a}`);
    }
  }
  // Different files stay different, links or not; so does a file that does not exist yet in a linked folder.
  writeFileSync(join(real, 'models', 'b.vae.json'), '{}');
  assert.equal(samePath(join(root, 'link', 'models', 'b.vae.json'), spellings[0]!), false);
  assert.ok(samePath(join(root, 'link', 'models', 'new.vae.json'), join(real, 'models', 'new.vae.json')));
  assert.equal(samePath(join(root, 'link', 'models', 'new.vae.json'), join(real, 'models', 'b.vae.json')), false);
});

test('Train VAE on a spec opened through a link while it trains by its real path does not start it twice', async () => {
  const { spellings } = linkedProject();
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-links-trainer-'));
  writeFileSync(join(dir, 'trainer.js'), TRAINER_UNTIL_STOPPED);
  const client = new TrainerClient({ trainerPath: join(dir, 'trainer.js'), log: () => undefined });
  try {
    const first = client.start(startRequest({ specPath: spellings[0]! }));
    for (const other of spellings) assert.equal(client.forSpec(other), first, `${other} is not seen as training`);
    assert.throws(() => client.start(startRequest({ specPath: spellings[1]! })), AlreadyTrainingError);
  } finally {
    await client.stopAll(2000);
  }
});

test('Delete Run on a run another window or terminal is still writing refuses, and says who writes it', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'vae-lens-live-elsewhere-'));
  writeFileSync(
    join(runDir, 'run.json'),
    JSON.stringify({ name: 'roll', specPath: '/ws/roll.vae.json', startedAt: new Date().toISOString(), pid: process.pid }),
  );
  const overview: RunOverview = { runDir, meta: { pid: process.pid } as RunOverview['meta'], status: 'running', startedMs: Date.now() };
  const client = new TrainerClient({ trainerPath: '/nonexistent', log: () => undefined });
  const commands = new RunCommands({
    index: { overview: async () => overview, invalidate: () => undefined },
    client,
    log: () => undefined,
  } as unknown as RunCommandDeps);
  answers.message = 'Delete';
  try {
    await commands.deleteRun(runDir);
  } finally {
    answers.message = undefined;
  }
  assert.ok(existsSync(join(runDir, 'run.json')), 'the live run folder was deleted');
  assert.match(shown.map((s) => s.message).join('\n'), new RegExp(`being written by another window or terminal \\(process ${process.pid}\\)`));
});

test('Stop Training with two specs of the same file name training (one per workspace folder) offers them apart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-two-roots-'));
  writeFileSync(join(dir, 'trainer.js'), TRAINER_UNTIL_STOPPED);
  const roots = ['vision', 'audio'].map((name) => ({ name, path: join(dir, name) }));
  setup.folders = roots.map((r, index) => ({ uri: Uri.file(r.path), name: r.name, index }));
  const client = new TrainerClient({ trainerPath: join(dir, 'trainer.js'), log: () => undefined });
  const training = new Training({ client } as unknown as TrainingDeps);
  try {
    for (const r of roots) client.start(startRequest({ specPath: join(r.path, 'model.vae.json') }));
    quickPicks.length = 0;
    await training.stop();
    const items = quickPicks[0] ?? [];
    assert.equal(items.length, 2);
    const shownAs = items.map((i) => [i.label, i.description, i.detail].join(' '));
    assert.notEqual(shownAs[0], shownAs[1], `the two trainers look the same: ${JSON.stringify(shownAs)}`);
    assert.match(shownAs.join('\n'), /vision/);
    assert.match(shownAs.join('\n'), /audio/);
  } finally {
    await client.stopAll(2000);
    training.dispose();
  }
});

// What a user types in New VAE Model's save dialog (no folder open), which the dialog confirmed as a new or replaced file.
/** New VAE Model with no folder open, the save dialog answered with `file` and the first template picked. */
async function newModelSavedAs(file: string): Promise<void> {
  answers.saveDialog = Uri.file(file);
  answers.pick = 0;
  try {
    await newModel(Uri.file(ROOT) as never);
  } finally {
    answers.saveDialog = undefined;
    answers.pick = undefined;
  }
}

for (const typed of ['model.json', 'model', 'my model.vae.json', 'MODEL.JSON']) {
  test(`New VAE Model with no folder open, saved as "${typed}", does not silently overwrite the spec it is renamed to`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vae-lens-new-model-'));
    const existing = join(dir, typed.startsWith('my') ? 'my-model.vae.json' : `${typed.replace(/\.json$/i, '')}.vae.json`);
    writeFileSync(existing, '{ "name": "weeks of tuning" }');
    await newModelSavedAs(join(dir, typed));
    assert.equal(readFileSync(existing, 'utf8'), '{ "name": "weeks of tuning" }', `${existing} was overwritten`);
    assert.match(shown.map((s) => s.message).join('\n'), /already exists/);
  });
}

test('New VAE Model with no folder open writes the spec under its .vae.json name when that name is free', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-new-model-'));
  await newModelSavedAs(join(dir, 'fresh model.json'));
  assert.match(readFileSync(join(dir, 'fresh-model.vae.json'), 'utf8'), /"name"/);
});

test('the runs view tells apart specs of the same file name in two workspace folders, and names no folder for a unique one', async () => {
  const specs = [join('/', 'ws', 'vision', 'model.vae.json'), join('/', 'ws', 'audio', 'model.vae.json'), join('/', 'ws', 'audio', 'other.vae.json')].map((p) =>
    Uri.file(p),
  );
  setup.files = specs;
  const index = { onDidChange: () => ({ dispose: () => undefined }), latestForSpec: async () => undefined };
  const client = new TrainerClient({ trainerPath: '/nonexistent', log: () => undefined });
  const view = new RunsViewProvider(client, () => index as unknown as RunIndex);
  try {
    const nodes = await view.getChildren();
    const items = await Promise.all(nodes.map((n) => view.getTreeItem(n)));
    const shownAs = items.map((i) => `${String(i.label)} ${i.description ?? ''}`);
    assert.equal(new Set(shownAs).size, 3, `two specs look the same: ${JSON.stringify(shownAs)}`);
    assert.match(shownAs.find((s) => s.includes('vision')) ?? '', /^model\.vae\.json .*vision/);
    assert.equal(shownAs.find((s) => s.startsWith('other'))?.includes('audio'), false);
  } finally {
    view.dispose();
  }
});

/** Layouts with two specs of one file name: several folders open (multi-root), or two folders of one. */
const SAME_NAME_LAYOUTS: { folders: string[]; specs: string[][]; labels: string[] }[] = [
  {
    folders: ['alpha', 'beta'],
    specs: [
      ['alpha', 'model.vae.json'],
      ['beta', 'model.vae.json'],
    ],
    labels: ['alpha/model.vae.json', 'beta/model.vae.json'],
  },
  {
    folders: ['ws'],
    specs: [
      ['ws', 'a', 'model.vae.json'],
      ['ws', 'b', 'model.vae.json'],
    ],
    labels: ['a/model.vae.json', 'b/model.vae.json'],
  },
  {
    folders: ['one', 'two'],
    specs: [
      ['one', 'x', 'model.vae.json'],
      ['two', 'x', 'model.vae.json'],
    ],
    labels: ['one/x/model.vae.json', 'two/x/model.vae.json'],
  },
];

for (const layout of SAME_NAME_LAYOUTS)
  test(`two specs named ${layout.labels.join(' and ')} are told apart in progress, warnings and Stop`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vae-lens-same-name-'));
    setup.folders = layout.folders.map((name, index) => ({ uri: Uri.file(join(dir, name)), name, index }));
    const specs = layout.specs.map((parts) => Uri.file(join(dir, ...parts)));
    const text = JSON.stringify({ data: { synthetic: 'swiss_roll', n: 200, seed: 1 }, model: { type: 'VAE-1', latentDim: 2 } });
    for (const spec of specs) openDocuments.push({ uri: spec, getText: () => text, isDirty: false } as (typeof openDocuments)[number]);
    const { client, training } = fakeTraining(dir, async () => []);
    progressTitles.length = 0;
    quickPicks.length = 0;
    try {
      for (const spec of specs) assert.ok(await training.train(spec));
      assert.deepEqual(
        progressTitles,
        layout.labels.map((l) => `VAE Lens: training ${l}`),
      );
      // Train again while it trains: the warning names which one.
      shown.length = 0;
      await training.train(specs[1]);
      assert.match(shown.map((s) => s.message).join('\n'), new RegExp(`${layout.labels[1]!.replace(/\./g, '\\.')} is already training`));
      // Stop from the palette with both training: the pick tells them apart by its labels.
      await training.stop();
      assert.deepEqual(
        quickPicks.at(-1)?.map((i) => i.label),
        layout.labels,
      );
      await training.stop(specs[0]);
      assert.equal(progressTitles.at(-1), `VAE Lens: stopping ${layout.labels[0]}`);
    } finally {
      await client.stopAll(2000);
      training.dispose();
      for (const spec of specs)
        openDocuments.splice(
          openDocuments.findIndex((d) => d.uri === spec),
          1,
        );
    }
  });

test('with no folder open, a spec open in the editor is in the runs view and Train VAE’s pick, as a workspace’s specs are', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-lone-spec-'));
  const lone = Uri.file(join(dir, 'lone.vae.json'));
  const text = '{ "data": { "synthetic": "swiss_roll" } }';
  writeFileSync(lone.fsPath, text);
  // Not specs: a run's snapshot, and a JSON file of another kind.
  const others = [Uri.file(join(dir, '.vae-lens', 'runs', 'r', 'spec.vae.json')), Uri.file(join(dir, 'settings.json'))];
  for (const uri of [lone, ...others]) openDocuments.push({ uri, getText: () => text } as (typeof openDocuments)[number]);
  const index = { onDidChange: () => ({ dispose: () => undefined }), latestForSpec: async () => undefined };
  const client = new TrainerClient({ trainerPath: '/nonexistent', log: () => undefined });
  const view = new RunsViewProvider(client, () => index as unknown as RunIndex);
  try {
    assert.deepEqual(
      (await view.getChildren()).map((n) => (n.kind === 'spec' ? n.uri.fsPath : n.runDir)),
      [lone.fsPath],
    );
    assert.deepEqual(
      (await findSpecs()).map((u) => u.fsPath),
      [lone.fsPath],
    );
    // Opened after the view was drawn: the view draws it.
    let redrawn = 0;
    view.refresh = () => void redrawn++;
    for (const uri of [lone, ...others])
      fireWorkspace(
        'onDidOpenTextDocument',
        openDocuments.find((d) => d.uri === uri),
      );
    assert.equal(redrawn, 1);
  } finally {
    view.dispose();
    for (const uri of [lone, ...others])
      openDocuments.splice(
        openDocuments.findIndex((d) => d.uri === uri),
        1,
      );
  }
});
