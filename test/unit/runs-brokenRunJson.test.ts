/**
 * A run.json edited by hand with a mistake (or cut short, or emptied) takes its run out of the runs view
 * and the quick picks, as its spec is no longer known: the user is told which file and where, once.
 */
import { shown } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunIndex } from '../../src/extension/runs/runIndex';
import type { TrainerClient } from '../../src/extension/trainer/trainerClient';

const noTrainers = { onEvent: () => ({ dispose: () => undefined }), forRun: () => undefined } as unknown as TrainerClient;

const mistakes: { what: string; text: string; says: RegExp }[] = [
  {
    what: 'a missing comma',
    text: '{\n  "name": "a"\n  "specPath": "SPEC",\n  "startedAt": "2026-01-01T00:00:00Z"\n}\n',
    says: /not valid JSON \(line 3, column 3/,
  },
  { what: 'a cut-short file', text: '{\n  "name": "a",\n  "specPath": "SP', says: /not valid JSON \(line 3, column \d+: the file ends before/ },
  { what: 'an emptied file', text: '', says: /not valid JSON \(the file is empty\)/ },
  { what: 'specPath removed', text: '{"name": "a", "startedAt": "2026-01-01T00:00:00Z"}', says: /needs "name", "specPath" and "startedAt"/ },
];

for (const m of mistakes) {
  test(`a run whose run.json was edited with ${m.what} is said not to be listed, naming the file and where, once`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vae-lens-broken-meta-'));
    const spec = join(dir, 'a.vae.json');
    writeFileSync(spec, '{"name": "a"}');
    const good = join(dir, '.vae-lens', 'runs', 'a-20260101-000000');
    const broken = join(dir, '.vae-lens', 'runs', 'a-20260102-000000');
    for (const d of [good, broken]) mkdirSync(d, { recursive: true });
    writeFileSync(join(good, 'run.json'), JSON.stringify({ name: 'a', specPath: spec, startedAt: '2026-01-01T00:00:00Z' }));
    writeFileSync(join(broken, 'run.json'), m.text.replace('SPEC', spec));
    shown.length = 0;
    const index = new RunIndex(noTrainers);
    try {
      assert.deepEqual(
        (await index.runsForSpec(spec)).map((r) => r.runDir),
        [good],
      );
      await index.runsForSpec(spec);
      await index.allRuns();
      const warnings = shown.filter((s) => s.level === 'warning').map((s) => s.message);
      assert.equal(warnings.length, 1, JSON.stringify(shown));
      assert.ok(warnings[0]!.includes(`${join(broken, 'run.json')}: `), warnings[0]);
      assert.match(warnings[0]!, m.says);
      assert.match(warnings[0]!, /not listed/);
    } finally {
      index.dispose();
    }
  });
}
