/**
 * The status bar, CodeLens and runs view refresh through a throttle: a trainer that reports every
 * few milliseconds must still move them. A debounce (restarting its timer on every call) froze the
 * status bar at "starting" for a whole fast run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Throttle } from '../../src/extension/throttle';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a stream of calls faster than the interval still runs the function every interval', async () => {
  let runs = 0;
  const throttle = new Throttle(50, () => runs++);
  const until = performance.now() + 400;
  while (performance.now() < until) {
    throttle.schedule();
    await sleep(5);
  }
  await sleep(80);
  // About 400 / 50 runs; a debounce would have run once, after the stream ended.
  assert.ok(runs >= 4, `ran ${runs} times`);
  throttle.dispose();
});

test('a burst of calls is one run, and dispose cancels a pending one', async () => {
  let runs = 0;
  const throttle = new Throttle(30, () => runs++);
  for (let i = 0; i < 10; i++) throttle.schedule();
  await sleep(60);
  assert.equal(runs, 1);
  throttle.schedule();
  throttle.dispose();
  await sleep(60);
  assert.equal(runs, 1);
});
