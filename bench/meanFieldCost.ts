/**
 * What the mean-field gap adds to a diagnostics pass: for each run given, its latest checkpoint is
 * evaluated with the pass the trainer runs (the run's own points and samples) and with the
 * mean-field gap, alternately, and the medians are printed side by side with their ratio.
 *   npx esbuild bench/meanFieldCost.ts --bundle --platform=node --main-fields=module,main \
 *     --external:@tensorflow/tfjs-node --outfile=out/bench-run/meanFieldCost.js
 *   node out/bench-run/meanFieldCost.js [--threads N] [--reps 7] RUN_DIR...
 */
import { chooseEngine } from '../src/train/backend';
import { diagnose, diagnosticSubset } from '../src/train/diagnostics';
import { meanFieldEvidence } from '../src/train/evidence';
import { loadTrainedRun } from './trainedRun';

function flag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv.splice(i, 2)[1]);
  if (!(v > 0)) throw new Error(`${name} needs a positive number`);
  return v;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const threads = flag(argv, '--threads', 1);
  const reps = flag(argv, '--reps', 7);
  if (argv.length === 0) throw new Error('usage: meanFieldCost [--threads N] [--reps R] RUN_DIR...');
  const engine = await chooseEngine('wasm');
  await engine.kernels?.setThreads(threads);
  console.log(`| run | latents | points x samples | pass | mean-field points | mean-field gap | ratio |`);
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
  for (const runDir of argv) {
    const { meta, spec, data, vae } = await loadTrainedRun(engine.tf, runDir);
    const { values, n } = diagnosticSubset(data.train, spec);
    const samples = spec.diagnostics.mcSamples;
    const pass: number[] = [];
    const gap: number[] = [];
    let points = 0;
    // One of each to warm up, then alternately, so a busy spell on the machine touches both.
    for (let r = 0; r <= reps; r++) {
      let t = performance.now();
      diagnose(engine.tf, vae, { values, n, samples, seed: r });
      if (r > 0) pass.push(performance.now() - t);
      t = performance.now();
      points = meanFieldEvidence(engine.tf, vae, values, n)?.meanFieldPoints ?? 0;
      if (r > 0) gap.push(performance.now() - t);
    }
    const [p, g] = [median(pass), median(gap)];
    console.log(`| ${meta.name} | ${spec.model.latentDim} | ${n} x ${samples} | ${p.toFixed(0)} ms | ${points} | ${g.toFixed(0)} ms | ${(g / p).toFixed(2)} |`);
    vae.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
