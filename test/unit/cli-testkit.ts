/** Helpers for the tests that run the built CLI as a user would. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const CLI_BIN = path.join(__dirname, '..', '..', '..', 'bin', 'vae-lens.js');

/**
 * A fresh folder (named with `prefix`) holding tiny.vae.json: a small VAE on a 256-point circle that trains
 * in well under a second an epoch; `training` sets its epochs and engine.
 */
export function tinyCircleSpec(prefix: string, training: { epochs: number; backend?: string }): { dir: string; spec: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const spec = path.join(dir, 'tiny.vae.json');
  fs.writeFileSync(
    spec,
    JSON.stringify({
      name: 'tiny',
      data: { synthetic: 'circle', n: 256, noise: 0.05, seed: 2 },
      model: { latentDim: 2, encoder: { hidden: [16] }, decoder: { hidden: [16] } },
      training: { batchSize: 64, learningRate: 0.005, ...training },
      diagnostics: { mcSamples: 4 },
    }),
  );
  return { dir, spec };
}
