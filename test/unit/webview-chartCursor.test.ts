/**
 * A chart read from the keyboard: the places its cursor stops at, where each key moves it, and the
 * words said there, which name the pass and the values as the chart's tooltip writes them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { elboChart, gapChart, latentsChart, type RunView } from '../../src/webview/chartConfigs';
import { cursorStops, moveCursor, nearestIndex, pointReading, valueAt } from '../../src/webview/chartCursor';
import { fmtNats } from '../../src/webview/format';
import { seriesFromRecords } from '../../src/webview/series';
import { PALETTE, panelRun, record } from './webview-testkit';

function view(name: string, epochs: number[], colour = '#3794ff'): RunView {
  const run = panelRun(
    name,
    epochs.map((e) => record(e)),
  );
  return { run, series: seriesFromRecords(run.records, run.tolerance, 'epoch'), colour };
}

test('the cursor stops once at every x of the shown curves, in order, within the range the axis shows', () => {
  const chart = elboChart([view('a', [0, 1, 2, 3, 4, 5])], PALETTE, 'epoch');
  const all = chart.tracked.map(() => true);
  assert.deepEqual(cursorStops(chart.tracked, all), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(cursorStops(chart.tracked, all, { min: 2.5, max: 5 }), [3, 4, 5]);
  assert.deepEqual(
    cursorStops(
      chart.tracked,
      chart.tracked.map(() => false),
    ),
    [],
  );
  // Compared runs with passes at other epochs: the cursor stops at each run's.
  const two = elboChart([view('a', [0, 2, 4]), view('b', [1, 2, 3], '#f14c4c')], PALETTE, 'epoch');
  assert.deepEqual(
    cursorStops(
      two.tracked,
      two.tracked.map(() => true),
    ),
    [0, 1, 2, 3, 4],
  );
});

test('generated stops and keys: arrows step by one, pages by a tenth, Home and End to the ends, never past them', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 300 }),
      fc.array(fc.constantFrom('ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'), { maxLength: 40 }),
      (xs, keys) => {
        const stops = [...xs].sort((a, b) => a - b);
        const page = Math.max(1, Math.round(stops.length / 10));
        let at: number | undefined;
        for (const key of keys) {
          const next = moveCursor(stops, at, key)!;
          const i = stops.indexOf(next);
          assert.ok(i >= 0, `${key} moved off the stops to ${next}`);
          const was = at === undefined ? undefined : stops.indexOf(at);
          if (key === 'Home') assert.equal(i, 0);
          else if (key === 'End' || was === undefined) assert.equal(i, stops.length - 1, `${key} with no cursor goes to the latest`);
          else {
            const step = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: page, PageDown: -page }[key]!;
            assert.equal(i, Math.min(stops.length - 1, Math.max(0, was + step)), `${key} from ${was}`);
          }
          at = next;
        }
      },
    ),
    { seed: 20261202, numRuns: 300 },
  );
  assert.equal(moveCursor([1, 2, 3], 2, 'Tab'), undefined, 'a key the cursor does not answer is left to the page');
  assert.equal(moveCursor([], undefined, 'End'), undefined);
  assert.equal(nearestIndex([0, 10, 20], 14), 1, 'a cursor between stops (the points moved) starts from the nearest');
  assert.equal(moveCursor([0, 10, 20], 14, 'ArrowRight'), 20);
});

test('the words at a point: the pass as the tooltip titles it, each shown curve at that pass as the tooltip writes it, a band as its range', () => {
  const v = view('a', [0, 1, 2, 3]);
  const chart = elboChart([v], PALETTE, 'epoch');
  const all = chart.tracked.map(() => true);
  const stops = cursorStops(chart.tracked, all);
  const { elbo, elboStdErr } = v.run.records[2]! as { elbo: number; elboStdErr: number };
  const r = v.run.records[2]!;
  const said = pointReading(chart.tracked, all, 2, chart.words, stops);
  assert.equal(
    said,
    `epoch 2: ELBO ± 2 s.e. from ${fmtNats(elbo - 2 * elboStdErr)} to ${fmtNats(elbo + 2 * elboStdErr)}, ELBO ${fmtNats(elbo)}, Entropy sum ${fmtNats(r.entropySum)}, point 3 of 4`,
  );
  // A curve switched off in the legend is not said.
  const noSum = chart.tracked.map((t) => t.label !== 'Entropy sum');
  assert.doesNotMatch(pointReading(chart.tracked, noSum, 2, chart.words, stops), /Entropy sum/);
  // The gap chart says its tolerance band and the split.
  const gap = gapChart([v], PALETTE, 'epoch');
  assert.match(
    pointReading(
      gap.tracked,
      gap.tracked.map(() => true),
      1,
      gap.words,
      stops,
    ),
    /^epoch 1: tolerance ±1 % from -?\d.* to \d.*, gap 0\.4000, R_dec 0\.3000, R_prior 0\.1000, point 2 of 4$/,
  );
  // Per latent: the latent named as its tooltip does, collapsed ones said so.
  const latents = latentsChart([v], PALETTE);
  const lstops = cursorStops(
    latents.tracked,
    latents.tracked.map(() => true),
  );
  assert.deepEqual(lstops, [0, 1, 2]);
  assert.equal(
    pointReading(
      latents.tracked,
      latents.tracked.map(() => true),
      1,
      latents.words,
      lstops,
    ),
    'latent z1 (collapsed): m_h (second moment) 1.000, KL_h (nats) 0.004000, a²_h (target of m_h) 1.000, point 2 of 3',
  );
  assert.equal(valueAt([{ x: 1, y: NaN }], 1), undefined, 'a missing value is not said as NaN');
});
