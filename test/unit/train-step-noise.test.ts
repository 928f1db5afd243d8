import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseEngine } from '../../src/train/backend';
import { stepNoise } from '../../src/train/loop';

test('step noise: every seed, 0 included, gives the same draw each time', async () => {
  const { tf } = await chooseEngine('wasm');
  const draw = (seed: number) => {
    const t = stepNoise(tf, 8, 3, seed);
    const values = Array.from(t.dataSync());
    t.dispose();
    return values;
  };
  // tfjs itself treats seed 0 as "no seed" and draws from Math.random.
  assert.deepEqual(draw(0), draw(0));
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(0), draw(1));
});
