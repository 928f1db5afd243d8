import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Tests run with the repository as the working directory (scripts/run-tests.mjs).
const root = process.cwd();
interface Manifest {
  activationEvents: string[];
  icon: string;
  capabilities: { untrustedWorkspaces: { supported: string } };
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    views: { explorer: { id: string }[] };
    jsonValidation: { fileMatch: string; url: string }[];
    languages: { id: string; filenamePatterns: string[] }[];
    configuration: { properties: Record<string, unknown> };
  };
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const registered = [...readFileSync(join(root, 'src/extension/extension.ts'), 'utf8').matchAll(/register\('([\w.]+)'/g)].map((m) => m[1]!);

test('every registered command is declared (category VAE Lens) and every declared one is registered', () => {
  const declared = pkg.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual([...registered].sort(), declared);
  assert.ok(pkg.contributes.commands.every((c) => c.category === 'VAE Lens' && c.title.length > 0));
});

test('menus only name declared commands; internal commands stay out of the palette', () => {
  const declared = new Set(pkg.contributes.commands.map((c) => c.command));
  for (const [menu, items] of Object.entries(pkg.contributes.menus)) for (const i of items) assert.ok(declared.has(i.command), `${menu}: ${i.command}`);
  const palette = new Map(pkg.contributes.menus.commandPalette!.map((i) => [i.command, i.when]));
  assert.equal(palette.get('vaeLens.deleteRun'), 'false');
  assert.equal(palette.get('vaeLens.stop'), 'vaeLens.training');
});

test('activation is narrow: spec files, the panel, the view and the commands; never onLanguage:json or *', () => {
  assert.ok(pkg.activationEvents.includes('workspaceContains:**/*.vae.json'));
  assert.ok(pkg.activationEvents.includes('onWebviewPanel:vaeLens.diagnostics'));
  assert.ok(pkg.activationEvents.includes('onView:vaeLens.runs'));
  assert.ok(!pkg.activationEvents.some((e) => e === '*' || e === 'onLanguage:json' || e === 'onStartupFinished'));
  // The one language event is that of spec files (below), not another that plain JSON files have.
  const specLanguages = pkg.contributes.languages.filter((l) => l.filenamePatterns.includes('*.vae.json')).map((l) => `onLanguage:${l.id}`);
  for (const e of pkg.activationEvents.filter((a) => a.startsWith('onLanguage:'))) assert.ok(specLanguages.includes(e), e);
});

test('a lone *.vae.json opened with no folder open activates the extension (workspaceContains needs a folder)', () => {
  // VS Code has no activation by file name: the language spec files are given is what fires when one is opened.
  const specLanguages = pkg.contributes.languages.filter((l) => l.filenamePatterns.includes('*.vae.json')).map((l) => l.id);
  assert.ok(
    specLanguages.some((id) => pkg.activationEvents.includes(`onLanguage:${id}`)),
    `activationEvents has no onLanguage event for ${specLanguages.join(', ')}`,
  );
});

test('schema, language mapping, view, settings, trust and icon are wired to files that exist', () => {
  const v = pkg.contributes.jsonValidation.find((j) => j.fileMatch === '*.vae.json');
  assert.ok(v && existsSync(join(root, v.url)), 'jsonValidation url must exist');
  assert.ok(pkg.contributes.languages.some((l) => l.id === 'jsonc' && l.filenamePatterns.includes('*.vae.json')));
  assert.ok(pkg.contributes.views.explorer.some((x) => x.id === 'vaeLens.runs'));
  for (const key of ['vaeLens.retrainOnSave', 'vaeLens.backend', 'vaeLens.allowDataOutsideWorkspace', 'vaeLens.runsDirectory', 'vaeLens.trainerPriority'])
    assert.ok(key in pkg.contributes.configuration.properties, key);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.ok(existsSync(join(root, pkg.icon)));
});

test("the editor title's and explorer's spec buttons never show on a run's spec snapshot, nor on a file that is not on disk", () => {
  // The code refuses .vae-lens/runs/<run>/spec.vae.json (isSpecPath): a ▶ there would train some other spec.
  const snapshots = ['/w/.vae-lens/runs/a-20260101-000000/spec.vae.json', 'C:\\w\\.vae-lens\\runs\\a-20260101-000000\\spec.vae.json'];
  const specs = ['/w/a.vae.json', 'C:\\w\\models\\a.vae.json', '/w/.vae-lensish/a.vae.json'];
  const items = [...pkg.contributes.menus['editor/title']!, ...pkg.contributes.menus['explorer/context']!];
  assert.ok(items.length >= 4);
  for (const item of items) {
    const when = item.when ?? '';
    assert.match(when, /(^|&& )resourceScheme == file( &&|$)/, `${item.command}: ${when}`);
    const negated = /!\(resourcePath =~ \/(.+)\/\)/.exec(when);
    assert.ok(negated, `${item.command} does not exclude run folders: ${when}`);
    const inRunFolder = new RegExp(negated[1]!);
    for (const p of snapshots) assert.ok(inRunFolder.test(p), `${item.command} would show on ${p}`);
    for (const p of specs) assert.ok(!inRunFolder.test(p), `${item.command} would not show on ${p}`);
  }
});

test('every setting says its scope: per folder where a spec or run reads it, machine-overridable for a path on this machine', () => {
  // Without a scope a setting is window-wide: a folder's own value in a multi-root workspace is ignored,
  // though the extension reads each setting for the spec or run at hand (readSettings(scope)).
  const scopes = Object.fromEntries(
    Object.entries(pkg.contributes.configuration.properties as Record<string, { scope?: string }>).map(([key, p]) => [key, p.scope]),
  );
  assert.deepEqual(scopes, {
    'vaeLens.retrainOnSave': 'resource',
    'vaeLens.backend': 'resource',
    'vaeLens.trainerPriority': 'resource',
    'vaeLens.threads': 'resource',
    'vaeLens.allowDataOutsideWorkspace': 'resource',
    'vaeLens.runsDirectory': 'resource',
    'vaeLens.tfjsNodePath': 'machine-overridable',
  });
});
