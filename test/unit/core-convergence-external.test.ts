/**
 * The convergence verdict on runs made elsewhere: records written by another trainer or the Python
 * companion, as the readers judge them (judgeRecords), with the schedules, missing fields and
 * spacings such runs have.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeRecords, runSettingsOf } from '../../src/core/run/settings';
import type { RunMeta } from '../../src/core/runFormat';
import type { MetricsRecord } from '../../src/core/runFormat';
import { Rng } from '../../src/core/random';
import type { PanelRun } from '../../src/core/panelProtocol';
import { verdictLabel, verdictLine } from '../../src/core/verdictText';
import { passLine } from '../../src/cli/format';
import { codeLensResult, statusBarText, statusTooltipMarkdown } from '../../src/extension/status/runStateWording';
import { statusView } from '../../src/webview/status';
import { summaryRows } from '../../src/webview/summary';
import { sampleRecord } from './record-testkit';

// sampleRecord's entropies give a scale of 6.3, so with tolerance 0.01 a change of m = 0.063 matters.
const settings = { tolerance: 0.01, window: 5, theoremApplies: true };
const m = 0.063;

/** `passes` records of sampleRecord with the ELBO and the learning rate of each pass, and Monte-Carlo noise of `noise`. */
function run(passes: number, elbo: (i: number) => number, learningRate?: (i: number) => number, noise = 0.0005, seed = 1): MetricsRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: passes }, (_, i) =>
    sampleRecord(i + 1, {
      elbo: elbo(i) + noise * rng.normal(),
      elboStdErr: noise,
      ...(learningRate ? { learningRate: learningRate(i) } : {}),
    }),
  );
}

test('a rise under a warm-up or a cyclic step is still a rise: the trend is read at the largest step, not at a small first one', () => {
  const schedules: Record<string, (i: number) => number> = {
    'linear warm-up': (i) => 1e-5 + 1e-4 * i,
    'exponential warm-up': (i) => 1e-5 * 1.3 ** i,
    'one-cycle, rising half': (i) => 1e-3 * (0.55 - 0.45 * Math.cos((Math.PI * i) / 20)),
    'cyclic (triangular)': (i) => 1e-4 + 9e-4 * Math.abs(((i + 3) % 8) / 4 - 1),
  };
  // Rises of about m/2 to 2m over the 2w = 10 passes: each is improving with no learning rate recorded.
  for (const perPass of [0.004, 0.006, 0.01]) {
    const elbo = (i: number) => -3 + perPass * i;
    assert.equal(judgeRecords(run(20, elbo), settings).state, 'improving', `${perPass} a pass without a recorded step`);
    for (const [name, lr] of Object.entries(schedules)) {
      const v = judgeRecords(run(20, elbo, lr), settings);
      assert.equal(v.state, 'improving', `${name}, ${perPass} a pass: ${v.reason}`);
      // The reason says what the step did, never that it fell to 100 % or more of where it started.
      assert.doesNotMatch(v.reason, /fell to (\d{3,}|100) %/, `${name}: ${v.reason}`);
    }
  }
  assert.ok(m > 0);
});

test('residuals a writer left null: the passes that have them judge the gap, and a window without them says the gap cannot be judged', () => {
  const flat = (i: number) => -3 + 0 * i;
  const residuals = ['rDec', 'rPrior'] as const;
  for (const field of residuals) {
    // One pass's residual null (an overflow in one evaluation) among closed ones: still converged, in numbers.
    for (const at of [15, 17, 19]) {
      const records = run(20, flat).map((r, i) => (i === at ? { ...r, [field]: null, gap: null } : r));
      const v = judgeRecords(records, settings);
      assert.equal(v.state, 'converged', `${field} null at pass ${at}: ${v.reason}`);
      assert.doesNotMatch(v.reason, /NaN|undefined/, v.reason);
    }
    // Null in every pass: no gap to test, so neither converged nor "open".
    for (const theoremApplies of [true, false]) {
      const records = run(20, flat).map((r) => ({ ...r, [field]: null, gap: null }));
      const v = judgeRecords(records, { ...settings, theoremApplies });
      assert.equal(v.state, 'stationary', `${field} always null: ${v.reason}`);
      assert.doesNotMatch(v.reason, /NaN|undefined|gap is open|off the prior|off its optimum/, v.reason);
      assert.doesNotMatch(v.reason, / {2}/, v.reason);
      if (theoremApplies) assert.match(v.reason, new RegExp(`${field === 'rDec' ? 'R_dec' : 'R_prior'} is not recorded`), v.reason);
    }
  }
  // A rise is still a rise, and a fall a fall, without the residuals.
  const none = (r: MetricsRecord) => ({ ...r, rDec: null, rPrior: null, gap: null });
  assert.equal(judgeRecords(run(20, (i) => -3 + 0.02 * i).map(none), settings).state, 'improving');
  assert.equal(judgeRecords(run(20, (i) => -3 - 0.02 * i).map(none), settings).state, 'not-converged');
  // Generated: residuals null at random passes never put NaN in a reason.
  const rng = new Rng(7);
  for (let k = 0; k < 200; k++) {
    const records = run(1 + Math.floor(30 * rng.uniform()), (i) => -3 + (k % 3) * 0.01 * i, undefined, 0.0005, k).map((r) => ({
      ...r,
      ...(rng.uniform() < 0.3 ? { rDec: null } : {}),
      ...(rng.uniform() < 0.3 ? { rPrior: null } : {}),
    }));
    const v = judgeRecords(records, settings);
    assert.doesNotMatch(v.reason, /NaN|undefined/, `run ${k}: ${v.reason}`);
  }
});

test('a run outside the theorem for another reason than a fixed variance is not told it is VAE-0', () => {
  // The notes the Python companion writes (diagnostics.theorem_status), in the record and run.json.
  const notes: Record<string, { note: string; gaussian: boolean }> = {
    bernoulli: { note: 'bernoulli decoder: the entropy result is for Gaussian decoders, so no gap is charted', gaussian: false },
    categorical: { note: 'categorical decoder: the entropy result is for Gaussian decoders, so no gap is charted', gaussian: false },
    beta: { note: "beta = 0: the objective has no KL term, so nothing holds the latents' second moments and the gap need not close", gaussian: true },
  };
  const meta = {
    formatVersion: 1,
    name: 'script',
    specPath: '/x/train.py',
    startedAt: '2026-01-01T00:00:00Z',
    backend: 'pytorch cpu',
    modelType: 'VAE-1',
    latentDim: 2,
    epochs: 0,
  } as unknown as RunMeta;
  for (const [kind, { note, gaussian }] of Object.entries(notes)) {
    const records = run(20, () => -90).map((r) => ({
      ...r,
      theoremApplies: false,
      theoremNote: note,
      ...(gaussian ? { rDec: 0.3 } : { hDec: null, entropySum: null, gap: null, gapRel: null, rDec: null, sigma2: null, sigma2Opt: null }),
    }));
    for (const where of ['record', 'run.json'] as const) {
      const written = where === 'record' ? records : records.map(({ theoremApplies: _a, theoremNote: _n, ...r }) => r);
      const runMeta = where === 'record' ? meta : { ...meta, theoremApplies: false, theoremNote: note };
      const v = judgeRecords(written, runSettingsOf(runMeta, undefined, written[written.length - 1]));
      assert.equal(v.state, 'stationary', `${kind}, said in ${where}: ${v.reason}`);
      assert.doesNotMatch(v.reason, /VAE-0|fixed decoder variance|decoder variance is fixed|NaN/, `${kind}, said in ${where}: ${v.reason}`);
      assert.ok(v.reason.includes(note), `${kind}, said in ${where}: the reason gives the run's own note: ${v.reason}`);
    }
  }
  // A VAE-0 is still told so.
  const vae0 = judgeRecords(
    run(20, () => -3).map((r) => ({ ...r, rDec: 0.3 })),
    { ...settings, theoremApplies: false },
  );
  assert.match(vae0.reason, /^Stationary: the ELBO is flat; with a fixed decoder variance \(VAE-0\) the gap need not close\./);
});

test('every surface labels a stationary run outside the theorem alike: VAE-0 only where the model is one', () => {
  const note = 'bernoulli decoder: the entropy result is for Gaussian decoders, so no gap is charted';
  const reason = 'Stationary: the ELBO is flat; the gap need not close for this model or objective.';
  for (const modelType of ['bernoulli decoder', 'VAE-1', 'VAE-0']) {
    const named = modelType === 'VAE-0';
    const label = named ? /stationary \(VAE-0\)/i : /^(?!.*VAE-0).*stationary/is;
    const last: MetricsRecord = { ...sampleRecord(20), convergence: 'stationary', convergenceReason: reason, theoremApplies: false, theoremNote: note };
    const run: PanelRun = {
      runDir: '/r',
      name: 'r',
      modelType,
      backend: 'pytorch cpu',
      status: 'completed',
      tolerance: 0.01,
      epochs: 20,
      records: [last],
      theoremNote: note,
    };
    const state = {
      hasRun: true,
      specChanged: false,
      status: 'completed' as const,
      convergence: 'stationary' as const,
      convergenceReason: reason,
      last,
      modelType,
      theoremNote: note,
    };
    const surfaces: Record<string, string> = {
      'shared label': verdictLabel('stationary', { theoremNote: note, modelType }),
      'shared line': verdictLine('stationary', reason, { theoremNote: note, modelType }),
      'status bar': statusBarText(state),
      tooltip: statusTooltipMarkdown(state).replace(/\\(.)/g, '$1'),
      CodeLens: codeLensResult(state) ?? '',
      'panel header': statusView(run).label,
      'panel summary': summaryRows([run]).find((r) => r.label === 'Convergence')!.cells[0]!.text,
    };
    for (const [surface, text] of Object.entries(surfaces)) assert.match(text, label, `${modelType}, ${surface}: ${text}`);
  }
  // A model under the theorem whose records leave the gap untested is no VAE-0 either.
  const untested: PanelRun = {
    runDir: '/r',
    name: 'r',
    modelType: 'VAE-1',
    backend: 'x',
    status: 'completed',
    tolerance: 0.01,
    epochs: 20,
    records: [{ ...sampleRecord(20), convergence: 'stationary' }],
  };
  assert.equal(statusView(untested).label, 'Stationary');
  assert.equal(summaryRows([untested]).find((r) => r.label === 'Convergence')!.cells[0]!.text, 'stationary');
  assert.match(statusBarText({ hasRun: true, specChanged: false, status: 'completed', convergence: 'stationary', modelType: 'VAE-1' }), /VAE stationary$/);
  // The CLI's pass line knows the record only: its note says the theorem does not apply.
  assert.doesNotMatch(passLine({ ...sampleRecord(20), convergence: 'stationary', theoremNote: note }, 20), /VAE-0/);
  assert.match(passLine({ ...sampleRecord(20), convergence: 'stationary' }, 20), /stationary \(VAE-0\)/);
});

test('records without a Monte-Carlo error: scatter between passes is not blamed on the step, and no ratio to a zero error is stated', () => {
  const rng = new Rng(11);
  for (const missing of [null, 0] as const) {
    for (const scatter of [0.02, 0.05, 0.2]) {
      const records = run(20, () => -3 + scatter * rng.normal()).map((r) => ({ ...r, elboStdErr: missing }));
      const v = judgeRecords(records, settings);
      assert.notEqual(v.state, 'noise-limited', `elboStdErr ${missing}, scatter ${scatter}: ${v.reason}`);
      assert.doesNotMatch(v.reason, /times its Monte-Carlo error|e\+|\d{7,}/, v.reason);
    }
  }
  // One pass without it does not halve the error the others give: the same scatter, judged alike.
  const scattered = run(20, () => -3 + 0.05 * rng.normal(), undefined, 0.005);
  const holed = scattered.map((r, i) => (i === 14 ? { ...r, elboStdErr: null } : r));
  assert.equal(judgeRecords(holed, settings).state, judgeRecords(scattered, settings).state);
  assert.equal(judgeRecords(scattered, settings).state, 'noise-limited', 'scatter ten times a known error is the step');
});

test("a run without a model spec is not told to set a spec's schedule or learningRate", () => {
  // Held down by the step's noise: the averaged recent weights beat the current ones by m.
  const held = (lr?: (i: number) => number) => run(20, () => -3, lr).map((r) => ({ ...r, averagedElbo: r.elbo! + m }));
  for (const [name, lr] of [
    ['no recorded step', undefined],
    ['a steady step', () => 1e-3],
    ['a falling step', (i: number) => 1e-3 * 0.9 ** i],
  ] as const) {
    for (const epochs of [undefined, 100]) {
      const v = judgeRecords(held(lr), { ...settings, ...(epochs ? { epochs } : {}) });
      assert.equal(v.state, 'noise-limited', `${name}: ${v.reason}`);
      assert.doesNotMatch(v.reason, /"schedule"|learningRate|The cosine schedule/, `${name}, epochs ${epochs}: ${v.reason}`);
      assert.match(v.reason, /learning rate/, `${name}: ${v.reason}`);
    }
  }
  // A spec's run still is.
  const spec = judgeRecords(held(), { ...settings, learningRate: 0.001, schedule: 'constant' });
  assert.match(spec.reason, /Use "schedule": "cosine"/);
});

test('a validation split read on the same positions as the trend: passes that share an epoch still show over-fitting', () => {
  const overfitting = run(20, () => -3).map((r, i) => ({ ...r, validationElbo: -3.5 - 0.02 * i }));
  const layouts: Record<string, (i: number) => number> = {
    'one pass an epoch': (i) => i + 1,
    'four passes an epoch': (i) => Math.floor(i / 4),
    'every pass at epoch 0 (a step-based loop)': () => 0,
  };
  for (const [name, epochOf] of Object.entries(layouts)) {
    const records = overfitting.map((r, i) => ({ ...r, epoch: epochOf(i), step: 100 * (i + 1) }));
    assert.match(judgeRecords(records, settings).reason, /over-fitting/, name);
  }
});
