/** A run folder's latest checkpoint restored into its model, for the benchmarks that measure trained models. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES, type RunMeta } from '../src/core/runFormat';
import type { VaeSpec } from '../src/core/spec';
import { loadData, type LoadedData } from '../src/data/load';
import type { Tf } from '../src/train/backend';
import { readCheckpoint, restoreCheckpoint } from '../src/train/checkpoint';
import { Vae } from '../src/train/model';
import { readSpecFile } from '../src/train/session';

export interface TrainedRun {
  meta: RunMeta;
  spec: VaeSpec;
  data: LoadedData;
  vae: Vae;
  /** The checkpoint's epoch. */
  epoch: number;
}

export async function loadTrainedRun(tf: Tf, runDir: string): Promise<TrainedRun> {
  const meta = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.meta), 'utf8')) as RunMeta;
  const { spec } = readSpecFile(path.join(runDir, RUN_FILES.spec));
  const data = await loadData(spec.data, meta.specPath);
  const vae = new Vae(tf, spec.model, data.train.dim, spec.training.seed, 1, data.train.imageShape);
  const cpPath = path.join(runDir, RUN_FILES.checkpoints, 'latest.json');
  const cp = readCheckpoint(cpPath);
  await restoreCheckpoint(tf, cp, vae, undefined, cpPath);
  return { meta, spec, data, vae, epoch: cp.epoch };
}
