/** What the host sends the webview (and a report carries) weighs what the panel draws, not every pass's per-latent arrays. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { panelRunToSend } from '../../src/core/panelPayload';
import type { PanelRun } from '../../src/core/panelProtocol';
import type { MetricsRecord } from '../../src/core/runFormat';
import { latentsChart } from '../../src/webview/chartConfigs';
import { seriesFromRecords } from '../../src/webview/series';
import { summaryRows } from '../../src/webview/summary';
import { PALETTE, panelRun, record } from './webview-testkit';

function latentRun(passes: number, H: number): PanelRun {
  const perLatent = (p: number, k: number) => Array.from({ length: H }, (_, h) => ((h * 7 + p * 3 + k) % 11) / 10 + 0.001);
  return panelRun(
    `r${passes}x${H}`,
    Array.from({ length: passes }, (_, i) =>
      record(i + 1, {
        latentSecondMoment: perLatent(i, 1),
        klPerLatent: perLatent(i, 2),
        latentMeanVariance: perLatent(i, 3),
        hEncPerLatent: perLatent(i, 4),
        priorVariance: perLatent(i, 5),
        collapsedLatents: [0],
        elboAtOptVariance: -99 + i / 7,
        convergence: 'improving',
        convergenceReason: `The ELBO still rises at pass ${i}.`,
      }),
    ),
  );
}

const bytes = (run: PanelRun) => JSON.stringify({ type: 'show', runs: [panelRunToSend(run)] }).length;

test('generated runs: the show message grows with passes plus latents, not passes times latents', () => {
  for (const [passes, H] of [
    [200, 500],
    [1000, 2000],
    [30, 4000],
  ]) {
    const both = bytes(latentRun(passes, H));
    const sum = bytes(latentRun(passes, 1)) + bytes(latentRun(1, H));
    assert.ok(both < 1.5 * sum, `${passes} passes x ${H} latents: ${both} bytes, against ${sum} for the passes and the latents apart`);
  }
});

test('generated runs: what the panel draws from the message sent is what it draws from the whole run', () => {
  for (const [passes, H] of [
    [0, 3],
    [1, 3],
    [5, 20],
    [40, 300],
  ]) {
    const whole = latentRun(passes, H);
    const before = JSON.stringify(whole);
    const sent = panelRunToSend(whole);
    assert.equal(JSON.stringify(whole), before, 'the host keeps its records whole (Export CSV reads them)');
    assert.deepEqual(summaryRows([sent]), summaryRows([whole]));
    assert.deepEqual(seriesFromRecords(sent.records, sent.tolerance, 'epoch'), seriesFromRecords(whole.records, whole.tolerance, 'epoch'));
    const view = (run: PanelRun) => ({ run, series: seriesFromRecords(run.records, run.tolerance, 'epoch'), colour: PALETTE.blue });
    const chart = (run: PanelRun) => latentsChart([view(run)], PALETTE);
    assert.deepEqual(chart(sent).tracked, chart(whole).tracked);
    assert.deepEqual(chart(sent).config.data.labels, chart(whole).config.data.labels);
    assert.equal(sent.records.length, whole.records.length);
  }
});

/** A pass as VAE Lens's trainer writes it: every field in full precision, and a verdict whose reason names this pass's figures. */
function trainerPass(i: number): MetricsRecord {
  const x = (k: number) => Math.sin(i * 12.9898 + k) * 43758.5453;
  return record(i + 1, {
    elbo: x(1),
    elboStdErr: x(2),
    hEnc: x(3),
    hDec: x(4),
    entropySum: x(5),
    gap: x(6),
    gapRel: x(7),
    rDec: x(8),
    rPrior: x(9),
    sigma2: x(10),
    sigma2Opt: x(11),
    samplesPerSec: x(12),
    wallSeconds: x(13),
    gapStdErr: x(14),
    elboStdErrData: x(15),
    elboAtOptVariance: x(16),
    logLik: x(17),
    kl: x(18),
    latentMeanVariance: [x(19), x(20), x(21)],
    hEncPerLatent: [x(22), x(23), x(24)],
    activeUnits: 3,
    mutualInformation: x(25),
    miPoints: 256,
    meanFieldGap: x(26),
    meanFieldPoints: 128,
    averagedElbo: x(27),
    averagingSteps: 4,
    learningRate: 0.005,
    elboSlope: x(28),
    elboSlopeStdErr: x(29),
    diagnosticsSeconds: x(30),
    points: 256,
    mcSamples: 4,
    convergence: 'noise-limited',
    convergenceReason:
      `stalled on the step's noise. A smaller step would gain about ${x(31)} nats: over the last 5 passes the averaged recent weights beat the current ones. ` +
      `The ELBO is stationary in distribution but the learning rate's noise holds it down (pass ${i}, slope ${x(32)} ± ${x(33)} per epoch).`,
  });
}

test("generated long runs: the show message carries of each earlier pass what its charts draw, not every field and the verdict's reason", () => {
  for (const passes of [2000, 5000]) {
    const run = panelRun(
      `long${passes}`,
      Array.from({ length: passes }, (_, i) => trainerPass(i)),
    );
    const whole = JSON.stringify(run).length / passes;
    const perPass = bytes(run) / passes;
    // The charted numbers of a pass (16 the format requires and one optional, each up to 24 characters and its name) come to about 600 bytes.
    assert.ok(perPass < 650, `${passes} passes: ${perPass.toFixed(0)} bytes a pass sent, of ${whole.toFixed(0)} read`);
    const sent = JSON.stringify(panelRunToSend(run));
    assert.equal(sent.split('A smaller step would gain').length - 1, 1, 'the verdict is said once, at the latest pass');
  }
});
