/**
 * What the diagnostics pass's Monte-Carlo budget buys: the ELBO and gap estimates of a trained
 * run's checkpoint, and their standard errors, for several (points, samples) settings on the
 * same data, each repeated over noise seeds, with the wall time of each pass.
 *   node out/bench-run/diagnosticsBudget.js RUN_DIR   (built by npm run bench)
 */
import { chooseEngine } from '../src/train/backend';
import { diagnose } from '../src/train/diagnostics';
import { loadTrainedRun } from './trainedRun';

const SETTINGS: [number, number][] = [
  [4096, 4],
  [4096, 2],
  [2048, 4],
];
const SEEDS = [1, 2, 3, 4, 5];

async function main(): Promise<void> {
  const runDir = process.argv[2];
  if (!runDir) throw new Error('usage: diagnosticsBudget RUN_DIR');
  const engine = await chooseEngine('wasm');
  const { spec, data, vae, epoch } = await loadTrainedRun(engine.tf, runDir);
  const dim = data.train.dim;
  const rows = [];
  diagnose(engine.tf, vae, { values: data.train.values.subarray(0, 512 * dim), n: 512, samples: 4, seed: 0 }); // warm-up
  for (const [n, samples] of SETTINGS) {
    const elbo: number[] = [];
    const gap: number[] = [];
    let elboSe = 0;
    let gapSe = 0;
    let seconds = Infinity;
    for (const seed of SEEDS) {
      const t0 = performance.now();
      const d = diagnose(engine.tf, vae, { values: data.train.values.subarray(0, n * dim), n, samples, seed });
      seconds = Math.min(seconds, (performance.now() - t0) / 1000);
      elbo.push(d.elbo);
      gap.push(d.gap);
      elboSe += d.elboStdErr / SEEDS.length;
      gapSe += d.gapStdErr / SEEDS.length;
    }
    rows.push({
      points: n,
      samples,
      seconds,
      elboMean: mean(elbo),
      elboSpread: sd(elbo),
      elboStdErr: elboSe,
      gapMean: mean(gap),
      gapSpread: sd(gap),
      gapStdErr: gapSe,
    });
  }
  process.stdout.write(`BUDGET_RESULT ${JSON.stringify({ runDir, epoch, tolerance: spec.diagnostics.tolerance, rows })}\n`);
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1));

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
