/**
 * Deterministic cross-check of the trainer against PyTorch: run VAE Lens's own TrainingLoop
 * for a few steps and record exactly what it did, so bench/torch_vae.py --replay can repeat
 * the same steps from the same starting point:
 *   init.json     the initial model (a checkpoint, src/train/checkpoint.ts's format)
 *   batches.f32   every step's batch rows, float32, back to back
 *   eps.f32       every step's noise eps [rows x latentDim], float32
 *   steps.json    rows per step and the loss the trainer reported for it
 *
 *   node out/bench-run/crossCheck.js --engine wasm --steps 100 --out DIR
 *   /usr/bin/python3 bench/torch_vae.py --replay DIR
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSpec } from '../src/core/spec';
import { loadData } from '../src/data/load';
import { chooseEngine } from '../src/train/backend';
import { saveCheckpoint } from '../src/train/checkpoint';
import { stepNoise, TrainingLoop } from '../src/train/loop';
import { watchSteps } from './stepHook';
import { workload, type WorkloadName } from './workloads';

export interface CrossCheckSteps {
  engine: string;
  workload: WorkloadName;
  dim: number;
  latentDim: number;
  rows: number[];
  losses: number[];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (flag: string, fallback: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1]! : fallback;
  };
  const steps = Number(get('--steps', '100'));
  const out = get('--out', 'out/cross-check');
  const name = get('--workload', 'fmnist') as WorkloadName;
  const wl = workload(name, get('--engine', 'wasm'));
  const { spec } = parseSpec(wl.specText, `bench/${wl.name}.vae.json`);
  spec.diagnostics.subset = 64; // the pass before training only; keep it short
  spec.training.seed = Number(get('--seed', String(spec.training.seed)));
  const data = await loadData(spec.data, `${process.cwd()}/bench/${wl.name}.vae.json`);
  const engine = await chooseEngine(spec.training.backend);
  const { tf } = engine;
  fs.mkdirSync(out, { recursive: true });

  const loop = new TrainingLoop({
    spec,
    engine,
    train: data.train,
    epochs: 1,
    events: { progress: () => undefined, diagnostics: () => undefined, log: () => undefined },
    shouldStop: () => record.losses.length >= steps,
  });
  await saveCheckpoint(path.join(out, 'init.json'), loop.vae, loop.optimizer, { epoch: 0, step: 0 });

  const H = spec.model.latentDim;
  const record: CrossCheckSteps = { engine: engine.name, workload: name, dim: data.train.dim, latentDim: H, rows: [], losses: [] };
  const batches = fs.openSync(path.join(out, 'batches.f32'), 'w');
  const noise = fs.openSync(path.join(out, 'eps.f32'), 'w');
  watchSteps(
    loop,
    ({ n, loss }) => {
      record.rows.push(n);
      record.losses.push(loss);
    },
    ({ rows, n, seed }) => {
      fs.writeSync(batches, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
      // The same draw trainStep makes.
      const eps = stepNoise(tf, n, H, seed);
      const e = eps.dataSync() as Float32Array;
      fs.writeSync(noise, new Uint8Array(e.buffer, e.byteOffset, e.byteLength));
      eps.dispose();
    },
  );
  await loop.run();
  fs.closeSync(batches);
  fs.closeSync(noise);
  fs.writeFileSync(path.join(out, 'steps.json'), JSON.stringify(record) + '\n');
  loop.dispose();
  const at = (k: number) => (record.losses[k - 1] ?? NaN).toFixed(4);
  process.stdout.write(`${engine.name}: loss after step 1 ${at(1)}, 10 ${at(10)}, 100 ${at(100)}, ${record.losses.length} ${at(record.losses.length)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
