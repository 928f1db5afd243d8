/**
 * The runs a report page carries: the earlier passes written as columns, read back by the page
 * exactly as the panel gets them (every digit, a missing field still missing), in far fewer bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { panelRunToSend } from '../../src/core/panelPayload';
import type { PanelRun } from '../../src/core/panelProtocol';
import { renderReportHtml } from '../../src/pages/html';
import { reportMessage } from '../../src/webview/messages';
import { panelRun, record } from './webview-testkit';

/** A run whose every number has all its digits, some passes without the ELBO at σ²* and some with a null gapRel. */
function fullRun(name: string, passes: number, seed: number): PanelRun {
  let s = seed;
  const rand = () => ((s = (s * 16807) % 2147483647), s / 2147483647);
  const value = () => (rand() - 0.5) * 10 ** (-4 + 12 * rand());
  return panelRun(
    name,
    Array.from({ length: passes }, (_, i) =>
      record(i / 3, {
        elbo: value(),
        elboStdErr: rand(),
        hEnc: value(),
        hDec: value(),
        entropySum: value(),
        gap: value(),
        gapRel: i % 7 === 3 ? null : rand(),
        rDec: value(),
        rPrior: value(),
        sigma2: rand(),
        wallSeconds: i * (1 + rand()),
        elboAtOptVariance: i % 5 === 1 ? undefined : value(),
        latentSecondMoment: [rand(), rand()],
        klPerLatent: [rand(), rand()],
        convergence: 'improving',
        convergenceReason: `still rising at pass ${i}`,
      }),
    ),
  );
}

const island = (html: string) => /<script type="application\/json" id="[^"]+">(.*?)<\/script>/s.exec(html)![1]!;
const page = (runs: PanelRun[]) => renderReportHtml({ runs, script: 'void 0;', css: 'body{}', title: 't' });

test('generated runs: a report page reads back every pass as the panel gets it, every digit, a missing field still missing', () => {
  for (const runs of [[fullRun('a', 0, 1)], [fullRun('a', 1, 2)], [fullRun('a', 2, 3)], [fullRun('a', 300, 4), fullRun('b', 57, 5)]]) {
    const read = reportMessage(island(page(runs)));
    assert.ok('message' in read, JSON.stringify(read));
    assert.equal(read.message.type, 'show');
    // As JSON carries them to the panel too (a field set to undefined is no field).
    assert.deepEqual(read.message.type === 'show' && read.message.runs, JSON.parse(JSON.stringify(runs.map(panelRunToSend))));
  }
});

test('a report of 2000 passes carries them in 40 % fewer bytes than one object per pass', () => {
  const run = fullRun('long', 2000, 6);
  const perPass = JSON.stringify({ runs: [panelRunToSend(run)] }).length;
  const written = island(page([run])).length;
  assert.ok(written < 0.6 * perPass, `${written} bytes written against ${perPass} as one object per pass`);
});

test('a report page whose columns are broken says its data do not describe runs; a page written before columns is still read', () => {
  const broken = [
    { count: 3, columns: { epoch: [0, 1] } },
    { count: 'x', columns: {} },
    { count: 2, columns: { epoch: [0, 1] }, absent: { epoch: 'all' } },
    'columns',
  ];
  for (const earlierPasses of broken) {
    const text = JSON.stringify({ runs: [{ ...panelRun('a', [record(5)]), earlierPasses }] });
    assert.deepEqual(reportMessage(text), { problem: 'The run data in this page does not describe runs.' }, JSON.stringify(earlierPasses));
  }
  const old = JSON.parse(JSON.stringify({ runs: [panelRunToSend(fullRun('old', 4, 7))] })) as { runs: PanelRun[] };
  assert.deepEqual(reportMessage(JSON.stringify(old)), { message: { type: 'show', runs: old.runs } });
  assert.deepEqual(reportMessage('{'), { problem: 'The run data in this page is not valid JSON.' });
});
