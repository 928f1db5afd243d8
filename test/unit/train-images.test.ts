// The images a training run writes for the panel: every image of a pass on one map to [0, 1], so a
// reconstruction keeps its contrast relative to the data, and images of any drawable size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRequest, type FromTrainer } from '../../src/core/protocol';
import { runSession } from '../../src/train/session';
import { encode, npyBytes, tempDir } from './data-testkit';

type ImagesEvent = Extract<FromTrainer, { type: 'images' }>;

/** Train one epoch of a linear VAE on float images [n, h, w, c] and return the last images event. */
async function imagesOf(n: number, h: number, w: number, c: number, value: (i: number) => number): Promise<ImagesEvent> {
  const dir = tempDir();
  const values = Array.from({ length: n * h * w * c }, (_, i) => value(i));
  fs.writeFileSync(path.join(dir, 'images.npy'), npyBytes('<f4', [n, h, w, c], encode('f4', values)));
  const spec = {
    name: 'images',
    data: { path: 'images.npy' },
    model: { latentDim: 1, encoder: { hidden: [] }, decoder: { hidden: [] } },
    training: { epochs: 1, batchSize: n, backend: 'cpu' },
    output: { runsDir: 'runs' },
  };
  const specPath = path.join(dir, 'a.vae.json');
  fs.writeFileSync(specPath, JSON.stringify(spec));
  const events: FromTrainer[] = [];
  const end = await runSession(startRequest({ specPath, requestedBy: 'cli' }), (e) => events.push(e), { stopRequested: false });
  assert.equal(end, 'completed', JSON.stringify(events.filter((e) => e.type === 'error')));
  const images = events.filter((e): e is ImagesEvent => e.type === 'images').at(-1);
  assert.ok(images, 'an images event');
  return images;
}

const spread = (row: readonly number[]) => Math.max(...row) - Math.min(...row);

test("a pass's images share one map to [0, 1]: a reconstruction near the mean is not stretched to full contrast", async () => {
  // Noise in [0, 2] (outside [0, 1], so mapped by the originals' range): after one epoch a linear VAE
  // with one latent reconstructs about the mean image, whose pixels barely vary.
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2;
  const images = await imagesOf(8, 8, 8, 1, noise);
  const all = (rows: readonly (readonly number[])[]) => rows.flat();
  assert.ok(Math.min(...all(images.originals)) < 0.05 && Math.max(...all(images.originals)) > 0.95, 'the originals span the range');
  for (const rows of [images.reconstructions, images.samples]) {
    for (const row of rows) {
      assert.ok(row.every((v) => v >= 0 && v <= 1));
      assert.ok(spread(row) < 0.5, `a decoder mean near the data's mean keeps its low contrast, spread ${spread(row)}`);
    }
  }
});

test('images of 256 x 256 x 3 floats are written (a map found by a loop, not by spreading arguments)', async () => {
  const images = await imagesOf(2, 256, 256, 3, (i) => (i % 1000) / 100);
  assert.deepEqual(images.shape, [256, 256, 3]);
  assert.equal(images.originals[0]!.length, 256 * 256 * 3);
});
