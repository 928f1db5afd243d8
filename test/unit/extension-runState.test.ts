import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsRecord } from '../../src/core/runFormat';
import {
  codeLensResult,
  progressMessage,
  runStateKind,
  statusBarText,
  statusTooltipMarkdown,
  type RunStateInput,
} from '../../src/extension/status/runStateWording';
import { formatDuration, formatGapPercent, progressFraction } from '../../src/core/wording';

const record = (over: Partial<MetricsRecord> = {}): MetricsRecord => ({
  epoch: 20,
  step: 400,
  elbo: -2.5,
  elboStdErr: 0.01,
  hEnc: -3,
  hPrior: 1.4,
  hDec: -1.9,
  entropySum: -2.51,
  gap: 0.01,
  gapRel: 0.003,
  rDec: 0.006,
  rPrior: 0.004,
  sigma2: 0.02,
  sigma2Opt: 0.0201,
  latentSecondMoment: [1, 0.9],
  klPerLatent: [2, 0.01],
  samplesPerSec: 9000,
  wallSeconds: 12,
  ...over,
});
const base: RunStateInput = { hasRun: true, specChanged: false, last: record(), convergence: 'converged', status: 'completed' };

test('the CodeLens reports the verdict with the relative gap', () => {
  assert.equal(codeLensResult(base), 'converged, gap 0.3%');
  assert.equal(codeLensResult({ ...base, convergence: 'not-converged', last: record({ gapRel: 0.041 }) }), 'not converged, gap 4.1%');
  // With a reason, its first sentence: the state and why, in a few words.
  assert.equal(
    codeLensResult({
      ...base,
      convergence: 'noise-limited',
      convergenceReason: 'A smaller step would gain about 0.112 nats: the averaged recent weights beat the current ones. Use a cosine schedule.',
    }),
    "stalled on the step's noise, gap 0.3% — A smaller step would gain about 0.112 nats: the averaged recent weights beat the current ones.",
  );
  // The runs view's description keeps to the few words.
  assert.equal(
    codeLensResult({ ...base, convergence: 'noise-limited', convergenceReason: 'A smaller step would gain. More.' }, false),
    "stalled on the step's noise, gap 0.3%",
  );
  assert.equal(codeLensResult({ ...base, specChanged: true }), 'stale: spec changed since last run');
  assert.equal(codeLensResult({ hasRun: false, specChanged: false }), undefined);
});

test('state precedence: training > no run > failed > stale > convergence', () => {
  const live = { epoch: 3, epochs: 10, epochFraction: 0.5 };
  assert.equal(runStateKind({ ...base, live, status: 'failed', specChanged: true }), 'training');
  assert.equal(runStateKind({ hasRun: false, specChanged: true }), 'none');
  assert.equal(runStateKind({ ...base, status: 'diverged', specChanged: true }), 'failed');
  assert.equal(runStateKind({ ...base, specChanged: true }), 'stale');
  assert.equal(runStateKind({ ...base, convergence: 'stationary' }), 'stationary');
  assert.equal(runStateKind({ ...base, convergence: undefined }), 'not-converged');
});

test('status bar text carries the right codicon for each state', () => {
  assert.match(statusBarText({ ...base, live: { epoch: 3, epochs: 10, epochFraction: 0.5 } }), /^\$\(sync~spin\) VAE epoch 3\/10 \(25%\)$/);
  assert.match(statusBarText(base), /^\$\(pass\) /);
  assert.match(statusBarText({ ...base, convergence: 'not-converged' }), /^\$\(warning\) /);
  assert.match(statusBarText({ ...base, status: 'failed' }), /^\$\(error\) VAE failed/);
  assert.match(statusBarText({ ...base, convergence: 'stationary' }), /^\$\(debug-pause\) VAE stationary \(VAE-0\)$/);
  assert.equal(statusBarText({ ...base, convergence: 'improving' }), '$(arrow-up) VAE still improving');
  assert.equal(statusBarText({ ...base, convergence: 'noise-limited' }), "$(pulse) VAE stalled on the step's noise");
  assert.equal(statusBarText({ ...base, convergence: 'collapsed' }), '$(pass) VAE converged, latents collapsed');
});

test('the status bar tooltip carries the state, its whole reason and the evidence', () => {
  const md = statusTooltipMarkdown(
    {
      ...base,
      convergence: 'collapsed',
      convergenceReason: 'At a stationary point with 1 of 2 latents inactive. More numbers.',
      last: record({ activeUnits: 1, mutualInformation: 2.25, averagedElbo: -4.99, elbo: -5 }),
    },
    'toy',
  );
  assert.match(md, /converged, latents collapsed\\\. At a stationary point with 1 of 2 latents inactive\\\. More numbers\\\./);
  assert.match(md, /\| active units \| 1 of \d+ \|/);
  assert.match(md, /\| I\(x; z\) \| 2\.25 nats \|/);
});

test('overall progress treats epochs as 1-based and clamps', () => {
  assert.equal(progressFraction({ epoch: 1, epochs: 4, epochFraction: 0 }), 0);
  assert.equal(progressFraction({ epoch: 4, epochs: 4, epochFraction: 1 }), 1);
  assert.equal(progressFraction({ epoch: 9, epochs: 4, epochFraction: 1 }), 1);
  assert.equal(progressFraction({ epoch: 2, epochs: 0, epochFraction: 1 }), 0);
});

test('gap percentages keep a significant digit near zero and survive null', () => {
  assert.equal(formatGapPercent(0.0004), '0.04%');
  assert.equal(formatGapPercent(0.25), '25%');
  assert.equal(formatGapPercent(-0.012), '1.2%');
  assert.equal(formatGapPercent(null), 'n/a');
  assert.equal(formatGapPercent(Number.NaN), 'n/a');
});

test('the tooltip lists gap, residuals, ELBO ± se, entropy sum, backend and run folder', () => {
  const md = statusTooltipMarkdown({ ...base, backend: 'wasm', runDir: '/w/.vae-lens/runs/r1', modelType: 'VAE-1' }, 'swiss');
  for (const part of ['gapRel | 0.3%', 'R_dec | 0.006', 'R_prior | 0.004', 'ELBO | -2.5 ± 0.01', 'entropy sum | -2.51', '`wasm`', '`/w/.vae-lens/runs/r1`']) {
    assert.ok(md.includes(part), `missing ${part} in\n${md}`);
  }
  // The table must stay one block (lines joined by single newlines) to render as a table.
  assert.match(md, /\| \| \|\n\|---\|---\|\n\| gap/);
});

test('progress message: epoch, rounded rate with separators, time left; no NaNs leak', () => {
  assert.equal(
    progressMessage({ epoch: 3, epochs: 50, epochFraction: 0.2, samplesPerSec: 12345.6, etaSeconds: 80 }),
    'epoch 3/50 · 12,346 samples/s · 1m 20s left',
  );
  assert.equal(progressMessage({ epoch: 1, epochs: 2, epochFraction: 0, samplesPerSec: Number.NaN, etaSeconds: Infinity }), 'epoch 1/2');
  assert.equal(formatDuration(3 * 3600 + 65), '3h 01m');
});

test('a trainer that has not reported its epochs yet reads as starting, and once it reports one as that epoch', () => {
  assert.equal(statusBarText({ hasRun: false, specChanged: false, live: { epoch: 0, epochs: 0, epochFraction: 0 } }), '$(sync~spin) VAE starting');
  assert.equal(statusBarText({ hasRun: false, specChanged: false, live: { epoch: 1, epochs: 0, epochFraction: 0 } }), '$(sync~spin) VAE epoch 1');
});

test('the tooltip reads a null (a non-finite value in the file) as n/a, not as 0 nats', () => {
  const tip = (over: Partial<MetricsRecord>) => statusTooltipMarkdown({ ...base, last: record({ averagedElbo: -2.4, ...over }) });
  assert.match(tip({}), /\| averaged weights gain \(this pass\) \| 0\.1 nats \|/);
  assert.match(tip({ averagedElbo: null }), /\| averaged weights gain \(this pass\) \| n\/a nats \|/);
  assert.match(tip({ elbo: null }), /\| averaged weights gain \(this pass\) \| n\/a nats \|/);
});

// A run another window, a terminal or a script is writing (its writer lives; not a trainer of this window): whatever its last pass said, it is training.
for (const convergence of [undefined, 'converged', 'not-converged', 'improving', 'stationary', 'collapsed'] as const) {
  for (const last of [undefined, record({ epoch: 7 })]) {
    test(`a run training elsewhere (last pass ${convergence ?? 'none'}, ${last ? 'with' : 'without'} a record) is shown as training, not as a verdict`, () => {
      const s: RunStateInput = { hasRun: true, specChanged: false, status: 'running', convergence, last };
      assert.equal(runStateKind(s), 'training');
      assert.equal(statusBarText(s), '$(sync~spin) VAE training elsewhere');
      assert.equal(codeLensResult(s), `training in another window or terminal${last ? ': epoch 7' : ''}`);
      assert.match(statusTooltipMarkdown(s, 'roll'), /training elsewhere/);
    });
  }
}
