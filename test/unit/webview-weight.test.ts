/** What the host sends the webview (and a report carries) weighs what the panel draws, not every pass's per-latent arrays. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { panelRunToSend } from '../../src/core/panelPayload';
import type { PanelRun } from '../../src/core/panelProtocol';
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
