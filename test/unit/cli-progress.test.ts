/**
 * The progress line of `vae-lens train` on a terminal: it is erased and redrawn in place, which
 * works only while it fits on one line, and only on a terminal that knows the erase sequence.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressLine, showsProgress } from '../../src/cli/format';

test('the progress line fits the terminal at every width, so redrawing it never leaves wrapped pieces', () => {
  const labels = ['epoch 1/3  loss 20.600  4822 samples/s  eta 0s', 'epoch 12345/100000  loss -123456.789  1234567 samples/s  eta 1234h 05m', ''];
  for (let columns = 1; columns <= 240; columns++)
    for (const label of labels)
      for (const fraction of [0, 0.37, 1]) {
        const line = progressLine(fraction, label, columns);
        assert.ok(line.length <= Math.max(1, columns - 1), `${columns} columns: ${line.length} characters: ${line}`);
        if (columns >= 140) assert.ok(line.endsWith(label), `${columns} columns: the whole label is shown`);
      }
});

test('the progress line is drawn only on a terminal that can erase it', () => {
  assert.equal(showsProgress(true, {}), true);
  assert.equal(showsProgress(true, { TERM: 'xterm-256color' }), true);
  assert.equal(showsProgress(false, { TERM: 'xterm' }), false);
  assert.equal(showsProgress(true, { TERM: 'dumb' }), false);
});
