// Runs written by other trainers (the Python companion): no `convergence` field in the records or
// the summary, no model spec, maybe a model the theorem does not cover. The reader judges them
// with the one rule of core/convergence.ts and says when the theorem does not apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeConvergence } from '../../src/core/convergence';
import { toJsonLine, type MetricsRecord, type RunMeta } from '../../src/core/runFormat';
import { readRunContents, readRunOverview, runFolderNotes } from '../../src/core/run/read';
import { SPEC_DEFAULTS } from '../../src/core/defaults';
import { runSettingsOf } from '../../src/core/run/settings';
import { toPanelRun } from '../../src/core/panelRun';
import { statusBarText, statusTooltipMarkdown, type RunStateInput } from '../../src/extension/status/runStateWording';
import { finiteRecord, sampleRecord } from './record-testkit';

const rec = sampleRecord;

function pythonRun(meta: Partial<RunMeta>, records: MetricsRecord[], summaryStatus = 'completed'): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-py-')), 'run');
  mkdirSync(dir);
  const full: RunMeta = {
    formatVersion: 1,
    name: 'train',
    specPath: join(dir, '..', 'train.py'),
    startedAt: '2026-01-01T00:00:00Z',
    backend: 'pytorch cpu',
    modelType: 'VAE-1',
    latentDim: 2,
    epochs: 20,
    dataset: { n: 100, dim: 4, source: 'Tensor' },
    trainer: 'vae_lens (Python)',
    tolerance: 0.01,
    window: 3,
    ...meta,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(full));
  writeFileSync(join(dir, 'metrics.jsonl'), records.map(toJsonLine).join(''));
  writeFileSync(
    join(dir, 'summary.json'),
    JSON.stringify({ status: summaryStatus, epochsDone: records.length, steps: 0, wallSeconds: 1, last: records.at(-1) }),
  );
  return dir;
}

const history = (n: number, over: Partial<MetricsRecord> = {}) => Array.from({ length: n }, (_, i) => rec(i + 1, over));

test('a Python run without convergence fields gets the verdict of judgeConvergence, in the overview and the full read', async () => {
  const records = history(8);
  const dir = pythonRun({}, records);
  const expected = judgeConvergence(
    records.map((r) => ({ ...finiteRecord(r), gapStdErr: 0 })),
    { tolerance: 0.01, window: 3, theoremApplies: true },
  );
  assert.equal(expected.state, 'converged');
  const overview = await readRunOverview(dir);
  assert.equal(overview.convergence, expected.state);
  assert.equal(overview.convergenceReason, expected.reason);
  assert.equal(overview.theoremNote, undefined);
  const contents = await readRunContents(dir);
  assert.equal(contents.convergence, expected.state);
  assert.equal(contents.window, 3, 'the window comes from run.json when there is no spec');
  // The panel reads the verdict from the last record: it is put there, the file's records untouched.
  const panel = toPanelRun(contents, false);
  assert.equal(panel.records.at(-1)?.convergence, expected.state);
  assert.equal(contents.records.at(-1)?.convergence, undefined);
});

test('an open gap in a Python run reads not converged', async () => {
  const overview = await readRunOverview(pythonRun({}, history(8, { gap: 0.5, gapRel: 0.1, rDec: 0.4, rPrior: 0.1 })));
  assert.equal(overview.convergence, 'not-converged');
});

test('a Bernoulli run says the theorem does not apply, is judged on the ELBO only, and the status bar says so', async () => {
  const note = 'bernoulli decoder: the entropy result is for Gaussian decoders, so no gap is charted';
  const nulls = { hDec: null, entropySum: null, gap: null, gapRel: null, rDec: null, sigma2: null, sigma2Opt: null } as unknown as Partial<MetricsRecord>;
  const dir = pythonRun(
    { modelType: 'bernoulli decoder', theoremApplies: false, theoremNote: note, likelihood: 'bernoulli' },
    history(8, { ...nulls, theoremApplies: false, theoremNote: note, likelihood: 'bernoulli' }),
  );
  const overview = await readRunOverview(dir);
  assert.equal(overview.theoremNote, note);
  assert.equal(overview.convergence, 'stationary', 'a flat ELBO outside the theorem is stationary, never converged');
  const contents = await readRunContents(dir);
  assert.equal(toPanelRun(contents, false).theoremNote, note);
  const state: RunStateInput = {
    hasRun: true,
    specChanged: false,
    status: 'completed',
    convergence: overview.convergence,
    modelType: 'bernoulli decoder',
    theoremNote: note,
    last: overview.last,
  };
  assert.match(statusBarText(state), /stationary \(theorem does not apply\)/);
  assert.match(statusTooltipMarkdown(state), /Theorem does not apply/);
});

test('an annealed run: the latest record decides whether the theorem applies', () => {
  const meta = { theoremApplies: false } as RunMeta;
  assert.equal(runSettingsOf(meta, undefined, rec(1, { beta: 0.5, theoremApplies: false })).theoremApplies, false);
  assert.equal(runSettingsOf(meta, undefined, rec(9, { beta: 1, theoremApplies: true })).theoremApplies, true);
  assert.equal(runSettingsOf({ modelType: 'VAE-0' } as RunMeta, undefined).theoremApplies, false);
});

test("a run's settings carry its spec's schedule (the verdict's advice names it); a script's run has none", () => {
  const spec = (schedule: string) =>
    JSON.stringify({ data: { synthetic: 'swiss_roll', n: 100 }, model: { type: 'VAE-1', latentDim: 2 }, training: { epochs: 5, schedule } });
  assert.equal(runSettingsOf(undefined, spec('cosine')).schedule, 'cosine');
  assert.equal(runSettingsOf(undefined, spec('constant')).schedule, 'constant');
  // And its step, which the advice of `noise-limited` scales (a tenth of it).
  assert.equal(runSettingsOf(undefined, spec('constant')).learningRate, SPEC_DEFAULTS.training.learningRate);
  assert.equal(runSettingsOf({ modelType: 'VAE-1' } as RunMeta, undefined).schedule, undefined);
});

test("a run's settings carry its planned epochs: run.json's, else its spec's; a script that does not know them says 0", () => {
  const spec = JSON.stringify({ data: { synthetic: 'swiss_roll', n: 100 }, model: { type: 'VAE-1', latentDim: 2 }, training: { epochs: 5 } });
  assert.equal(runSettingsOf(undefined, spec).epochs, 5);
  assert.equal(runSettingsOf({ modelType: 'VAE-1', epochs: 40 } as RunMeta, spec).epochs, 40);
  assert.equal(runSettingsOf({ modelType: 'VAE-1', epochs: 0 } as RunMeta, undefined).epochs, undefined);
  assert.equal('epochs' in runSettingsOf({ modelType: 'VAE-1' } as RunMeta, undefined), false);
});

test("run.json's tolerance and window beyond a spec's ranges are not used: the spec's or the defaults are, with a note (generated)", async () => {
  const specText = JSON.stringify({ data: { synthetic: 'circle' }, model: { latentDim: 2 }, diagnostics: { tolerance: 0.05, window: 2 } });
  const badWindows = [0, -1, 1001, 1e9, 2.5, Number.MAX_SAFE_INTEGER];
  const badTolerances = [0, -0.01, 1e-300, 1e-7, 1.5, 1e9];
  const cases: { tolerance?: number; window?: number }[] = [
    ...badWindows.map((window) => ({ window })),
    ...badTolerances.map((tolerance) => ({ tolerance })),
    ...badWindows.map((window, i) => ({ window, tolerance: badTolerances[i] })),
  ];
  for (const bad of cases) {
    for (const withSpec of [false, true]) {
      const dir = pythonRun(bad, history(8));
      if (withSpec) writeFileSync(join(dir, 'spec.vae.json'), specText);
      const contents = await readRunContents(dir);
      const what = `${JSON.stringify(bad)}${withSpec ? ' with a spec' : ''}`;
      // The field that is fine is still run.json's own.
      const want = {
        tolerance: 'tolerance' in bad ? (withSpec ? 0.05 : SPEC_DEFAULTS.diagnostics.tolerance) : 0.01,
        window: 'window' in bad ? (withSpec ? 2 : SPEC_DEFAULTS.diagnostics.window) : 3,
      };
      assert.deepEqual({ tolerance: contents.tolerance, window: contents.window }, want, what);
      const notes = runFolderNotes(contents).join('\n');
      for (const field of ['tolerance', 'window'] as const) {
        const noted = new RegExp(`run\\.json: ${field} .* the range of a spec's diagnostics\\.${field}; the spec snapshot's \\(or the default\\) is used`);
        if (field in bad) assert.match(notes, noted, what);
        else assert.doesNotMatch(notes, noted, what);
      }
      assert.doesNotMatch(contents.convergenceReason ?? '', /Needs \d{4,} passes/, what);
      const meta = { ...(contents.meta as RunMeta), ...bad };
      assert.deepEqual(
        { tolerance: runSettingsOf(meta, withSpec ? specText : undefined).tolerance, window: runSettingsOf(meta, withSpec ? specText : undefined).window },
        want,
        what,
      );
    }
  }
  // The ends of the ranges are settings like any other.
  const edge = await readRunContents(pythonRun({ tolerance: 1e-6, window: 1000 }, history(8)));
  assert.deepEqual({ tolerance: edge.tolerance, window: edge.window }, { tolerance: 1e-6, window: 1000 });
});
