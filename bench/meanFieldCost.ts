/**
 * What the mean-field gap adds to a diagnostics pass: for each run given, its latest checkpoint is
 * evaluated with the pass the trainer runs (the run's own points and samples) and with the
 * mean-field gap, alternately, and the medians are printed side by side with their ratio.
 *   npx esbuild bench/meanFieldCost.ts --bundle --platform=node --main-fields=module,main \
 *     --external:@tensorflow/tfjs-node --outfile=out/bench-run/meanFieldCost.js
 *   node out/bench-run/meanFieldCost.js [--threads N] [--reps 7] RUN_DIR...
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES, type RunMeta } from '../src/core/runFormat';
import { loadData } from '../src/data/load';
import { chooseEngine } from '../src/train/backend';
import { readCheckpoint, restoreCheckpoint } from '../src/train/checkpoint';
import { diagnose, diagnosticSubset } from '../src/train/diagnostics';
import { meanFieldEvidence } from '../src/train/evidence';
import { Vae } from '../src/train/model';
import { readSpecFile } from '../src/train/session';

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
    const meta = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.meta), 'utf8')) as RunMeta;
    const { spec } = readSpecFile(path.join(runDir, RUN_FILES.spec));
    const data = await loadData(spec.data, meta.specPath);
    const vae = new Vae(engine.tf, spec.model, data.train.dim, spec.training.seed, 1, data.train.imageShape);
    const cpPath = path.join(runDir, RUN_FILES.checkpoints, 'latest.json');
    await restoreCheckpoint(engine.tf, readCheckpoint(cpPath), vae, undefined, cpPath);
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
