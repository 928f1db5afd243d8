/**
 * What activation costs. The extension activates whenever any JSONC file opens (settings.json,
 * tsconfig.json, launch.json), as that is the one event a lone spec opened with no folder fires:
 * until a spec is in sight it must watch no file, poll nothing, search nothing and show nothing.
 * A spec opened later, or open at activation, gets its status, CodeLens and problems.
 */
import {
  codeLensSelectors,
  diagnosticCollections,
  fileWatchers,
  fireWorkspace,
  openDocuments,
  panelSerializers,
  registeredCommands,
  setup,
  statusBarItems,
  treeViews,
  Uri,
} from './vscode-stub';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activate, deactivate } from '../../src/extension/extension';

interface Workspace {
  findFiles: (...args: unknown[]) => Promise<unknown[]>;
}
const stubbed = createRequire(__filename)('vscode') as { workspace: Workspace };

interface Doc {
  uri: Uri;
  languageId: string;
  isClosed: boolean;
  getText: () => string;
}
const doc = (path: string, text: string): Doc => ({ uri: Uri.file(path), languageId: 'jsonc', isClosed: false, getText: () => text });

const SPEC = '{ "name": "ring", "data": { "synthetic": "ring", "n": 64 }, "model": { "latentDim": 2 }, "training": { "epochs": "ten" } }\n';

/** Activates with what the test set up, counting what activation (and what follows at once) starts. */
async function activated(): Promise<{ subscriptions: { dispose(): void }[]; intervals: number; searches: number }> {
  const scratch = mkdtempSync(join(tmpdir(), 'vae-lens-activation-'));
  const subscriptions: { dispose(): void }[] = [];
  const context = { subscriptions, extensionUri: Uri.file(scratch), globalStorageUri: Uri.file(join(scratch, 'storage')) };
  let intervals = 0;
  let searches = 0;
  const setIntervalWas = globalThis.setInterval;
  const findFilesWas = stubbed.workspace.findFiles;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => (intervals++, setIntervalWas(...args))) as typeof setInterval;
  stubbed.workspace.findFiles = (...args) => (searches++, findFilesWas(...args));
  try {
    activate(context as never);
    // What activation sets off without waiting for it (a search, a folder listing) has its turn.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    globalThis.setInterval = setIntervalWas;
    stubbed.workspace.findFiles = findFilesWas;
  }
  return { subscriptions, intervals, searches };
}

const counted = () => ({ watchers: fileWatchers.length, statusItems: statusBarItems.length, codeLenses: codeLensSelectors.length });

let cleanup: { dispose(): void }[] = [];
afterEach(async () => {
  for (const d of cleanup) d.dispose();
  cleanup = [];
  await deactivate();
  for (const list of [fileWatchers, statusBarItems, codeLensSelectors, registeredCommands, treeViews, panelSerializers, diagnosticCollections, openDocuments])
    list.length = 0;
  setup.folders = undefined;
  setup.files = [];
  setup.activeDocument = undefined;
});

const NON_SPECS = ['.vscode/settings.json', 'tsconfig.json', '.vscode/launch.json', 'jsconfig.json', '.devcontainer/devcontainer.json', 'a.vae.jsonc'];
for (const withFolder of [true, false])
  for (const name of NON_SPECS) {
    test(`activated by ${name} (${withFolder ? 'a folder open' : 'no folder'}): no watcher, poll, search or status until a spec is in sight`, async () => {
      const ws = mkdtempSync(join(tmpdir(), 'vae-lens-noSpec-'));
      mkdirSync(join(ws, '.vae-lens', 'runs', 'old-20260101-000000'), { recursive: true });
      writeFileSync(join(ws, '.vae-lens', 'runs', 'old-20260101-000000', 'run.json'), '{}');
      if (withFolder) setup.folders = [{ uri: Uri.file(ws), name: 'ws', index: 0 }];
      const file = doc(join(ws, name), '{ "compilerOptions": {} }');
      openDocuments.push(file);
      setup.activeDocument = { ...file, isUntitled: false };
      const { subscriptions, intervals, searches } = await activated();
      cleanup = subscriptions;
      assert.deepEqual(counted(), { watchers: 0, statusItems: 0, codeLenses: 0 });
      assert.equal(intervals, 0, 'a poll started at activation');
      assert.equal(searches, 0, 'activation searched the workspace');
      // Still usable: the commands, the runs view and the panel's restore are there from the start.
      assert.ok(registeredCommands.includes('vaeLens.train') && registeredCommands.includes('vaeLens.showDiagnostics'));
      assert.deepEqual(treeViews, ['vaeLens.runs']);
      assert.deepEqual(panelSerializers, ['vaeLens.diagnostics']);

      // Then a spec is opened: its status, CodeLens and problems come.
      const spec = doc(join(ws, 'model.vae.json'), SPEC);
      openDocuments.push(spec);
      fireWorkspace('onDidOpenTextDocument', spec);
      const now = counted();
      assert.ok(now.watchers > 0 && now.statusItems === 1 && now.codeLenses === 1, JSON.stringify(now));
      assert.ok(
        specProblems(spec).some((m) => /epochs/.test(m)),
        `no problem reported for the spec: ${JSON.stringify(specProblems(spec))}`,
      );
    });
  }

test('a lone spec opened with no folder open gets its status, CodeLens and problems at activation', async () => {
  const spec = doc(join(mkdtempSync(join(tmpdir(), 'vae-lens-lone-')), 'lone.vae.json'), SPEC);
  openDocuments.push(spec);
  setup.activeDocument = { ...spec, isUntitled: false };
  const { subscriptions } = await activated();
  cleanup = subscriptions;
  const now = counted();
  assert.ok(now.statusItems === 1 && now.codeLenses === 1, JSON.stringify(now));
  assert.ok(specProblems(spec).some((m) => /epochs/.test(m)));
});

function specProblems(spec: Doc): string[] {
  const problems = diagnosticCollections.find((c) => c.name === 'vae-lens');
  return (problems?.get(spec.uri) ?? []).map((d) => d.message);
}
