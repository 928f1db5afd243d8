/** A run resumed hundreds of times: its resume marks are drawn apart, their labels never over each other. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_MARK_GAP_PX, placeMarks } from '../../src/webview/markSpacing';

test('a few resumes are all drawn and labelled; three hundred over a narrow plot are thinned, labels clear of each other', () => {
  assert.deepEqual(placeMarks([40, 200, 120], [45, 45, 45]), [
    { index: 0, labelled: true },
    { index: 2, labelled: true },
    { index: 1, labelled: true },
  ]);
  const pixels = Array.from({ length: 300 }, (_, i) => 30 + i * 1.5);
  const placed = placeMarks(
    pixels,
    pixels.map(() => 45),
  );
  assert.ok(placed.length <= Math.ceil((300 * 1.5) / MIN_MARK_GAP_PX) + 1, `${placed.length} lines drawn`);
  for (let k = 1; k < placed.length; k++) assert.ok(pixels[placed[k]!.index]! - pixels[placed[k - 1]!.index]! >= MIN_MARK_GAP_PX);
  const labelled = placed.filter((p) => p.labelled).map((p) => pixels[p.index]!);
  for (let k = 1; k < labelled.length; k++) assert.ok(labelled[k]! - labelled[k - 1]! >= 3 + 45, `labels at ${labelled[k - 1]} and ${labelled[k]} overlap`);
  assert.equal(placed[0]!.index, 0, 'the first resume is drawn');
  assert.deepEqual(placeMarks([NaN, 10], [5, 5]), [{ index: 1, labelled: true }]);
});
