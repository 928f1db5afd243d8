/**
 * Re-evaluate a finished (or interrupted) run from its folder: the spec snapshot and the
 * latest checkpoint, with as many Monte-Carlo samples as asked for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Decomposition } from '../core/entropy';
import { UserError } from '../core/errors';
import { RUN_FILES, type RunMeta } from '../core/runFormat';
import type { BackendChoice, VaeSpec } from '../core/spec';
import { loadData } from '../data/load';
import { chooseEngine } from './backend';
import { readCheckpoint, restoreCheckpoint } from './checkpoint';
import { diagnose, diagnosticSubset } from './diagnostics';
import { Vae } from './model';
import { readSpecFile } from './session';
import { threadCount } from './threads';

export interface Evaluation {
  spec: VaeSpec;
  meta: RunMeta;
  epoch: number;
  backend: string;
  points: number;
  samples: number;
  result: Decomposition;
}

export async function evaluateRun(runDir: string, opts: { samples?: number; points?: number; backend?: BackendChoice }): Promise<Evaluation> {
  const metaPath = path.join(runDir, RUN_FILES.meta);
  if (!fs.existsSync(metaPath)) throw new UserError(`${runDir} is not a run folder: it has no ${RUN_FILES.meta}`, { file: runDir });
  const meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as RunMeta;
  const { spec } = readSpecFile(path.join(runDir, RUN_FILES.spec));
  const cpPath = path.join(runDir, RUN_FILES.checkpoints, 'latest.json');
  if (!fs.existsSync(cpPath)) throw new UserError(`${runDir} has no checkpoint yet (${cpPath})`, { file: cpPath });
  const engine = await chooseEngine(opts.backend ?? 'auto');
  // The pass's products on every core (or the spec's count), as in training: the same bits either way.
  await engine.kernels?.setThreads(threadCount(undefined, spec.training.threads));
  // The data are found relative to the spec the run was started from.
  const data = await loadData(spec.data, meta.specPath);
  const vae = new Vae(engine.tf, spec.model, data.train.dim, spec.training.seed);
  try {
    const cp = readCheckpoint(cpPath);
    await restoreCheckpoint(engine.tf, cp, vae, undefined, cpPath);
    // The run's own diagnostics subset, so the table and the run's last record describe the same points.
    const { values, n } = diagnosticSubset(data.train, spec, opts.points);
    const samples = opts.samples ?? Math.max(16, spec.diagnostics.mcSamples);
    const result = diagnose(engine.tf, vae, { values, n, samples, seed: 12345 });
    return { spec, meta, epoch: cp.epoch, backend: engine.name, points: n, samples, result };
  } finally {
    vae.dispose();
  }
}
