/**
 * Re-evaluate a finished (or interrupted) run from its folder: the spec snapshot and the
 * latest checkpoint, with as many Monte-Carlo samples as asked for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConvergenceState } from '../core/convergence';
import { readRunContents } from '../core/run/read';
import type { Decomposition } from '../core/entropy';
import { checkAllocation, MAX_ARRAY_BYTES } from '../core/allocation';
import { shellWord, shownPath, UserError } from '../core/errors';
import { array, is } from '../core/guard';
import { RUN_FILES, RUN_FORMAT_VERSION, sessionInfo, type RunMeta } from '../core/runFormat';
import { sessionSpans, type SessionSpan } from '../core/sessionHistory';
import { isRunMeta, readRunJson, READ_LIMITS } from '../core/run/files';
import { nearbyRunsHint } from '../core/run/nearbyRuns';
import { readRegularFileSync } from '../core/safeRead';
import type { LatentEvidence, MeanFieldEvidence } from '../core/evidence';
import type { BackendChoice, VaeSpec } from '../core/spec';
import { loadData } from '../data/load';
import { chooseEngine } from './backend';
import { readCheckpoint, restoreCheckpoint } from './checkpoint';
import { diagnose, diagnosticSubset, priorVariance } from './diagnostics';
import { encoderEvidence, meanFieldEvidence } from './evidence';
import { Vae } from './model';
import { readSpecDocumentFile } from './session';
import { threadCount } from './threads';

export interface Evaluation {
  spec: VaeSpec;
  meta: RunMeta;
  /** Whole epochs the checkpoint's weights were trained. */
  epoch: number;
  /** Batches of the next epoch trained too (a run stopped within it); absent for a whole epoch. */
  batchesDone?: number;
  backend: string;
  points: number;
  samples: number;
  result: Decomposition;
  /** The prior's variances a²_h the decomposition used (all 1 but for a learned prior, VAE-2). */
  priorVariance: number[];
  /** Active units, per-latent entropies, I(x; z) and the mean-field gap on the same points. */
  latents: LatentEvidence & Partial<MeanFieldEvidence>;
  /** ELBO on the held-out split (up to as many points), when the spec has one. */
  validationElbo?: number;
  /** The run's verdict, judged again from its recorded passes (the rule of core/convergence.ts), as report and the panel show it. */
  verdict?: { state: ConvergenceState; reason: string };
  /** Where a verdict the run's files hold is not that one (edited by hand, another writer or version), saying so. */
  verdictNotes: string[];
  /** Each process that trained the run (run.json's sessions), with the epochs of its passes; empty where it records none. */
  sessions: SessionSpan[];
  /** What the user should know about the run folder (a newer format), for stderr. */
  warnings: string[];
}

export async function evaluateRun(runDir: string, opts: { samples?: number; points?: number; backend?: BackendChoice }): Promise<Evaluation> {
  if (!fs.statSync(runDir, { throwIfNoEntry: false })?.isDirectory())
    throw new UserError(`${shownPath(runDir)} is not a folder: eval takes a run folder (the one holding run.json and checkpoints/)${nearbyRunsHint(runDir)}`, {
      file: runDir,
    });
  const meta = readRunMeta(runDir);
  // Whose run it is first: another writer's run.json need not have the fields eval reads (checkMetaForEval).
  const spec = ownTrainersSpec(runDir, meta);
  checkMetaForEval(runDir, meta);
  const cpPath = path.join(runDir, RUN_FILES.checkpoints, 'latest.json');
  if (!fs.existsSync(cpPath)) throw new UserError(`${shownPath(runDir)} has no checkpoint yet (${shownPath(cpPath)})`, { file: cpPath });
  // The checkpoint's own sizes, not run.json's, decide what the samples cost: the weights are what is evaluated.
  const cp = readCheckpoint(cpPath);
  if (opts.samples !== undefined) checkEvalSamples(opts.samples, cp.dim, cp.latentDim);
  // tfjs-node is looked for where training looks for it from the command line: beside the trainer and in the working folder.
  const engine = await chooseEngine(opts.backend ?? 'auto', [process.cwd()], { name: '--backend', location: { field: '--backend' } });
  // The pass's products on every core (or the spec's count), as in training: the same bits either way.
  await engine.kernels?.setThreads(threadCount(undefined, spec.training.threads));
  // The data are found relative to the spec the run was started from.
  const data = await loadData(spec.data, meta.specPath);
  const vae = new Vae(engine.tf, spec.model, data.train.dim, spec.training.seed, 1, data.train.imageShape);
  try {
    await restoreCheckpoint(engine.tf, cp, vae, undefined, cpPath);
    // The run's own diagnostics subset, so the table and the run's last record describe the same points.
    const { values, n } = diagnosticSubset(data.train, spec, opts.points);
    const samples = opts.samples ?? Math.max(16, spec.diagnostics.mcSamples);
    const H = spec.model.latentDim;
    const encodings = { nu: new Float32Array(n * H), logT2: new Float32Array(n * H) };
    const result = diagnose(engine.tf, vae, { values, n, samples, seed: 12345 }, encodings);
    const latents = { ...encoderEvidence(encodings, n, H, 12346), ...meanFieldEvidence(engine.tf, vae, values, n, encodings.nu) };
    const val = data.validation;
    const vn = val ? Math.min(val.n, n) : 0;
    const validationElbo =
      val && vn > 0 ? diagnose(engine.tf, vae, { values: val.values.subarray(0, vn * val.dim), n: vn, samples, seed: 12347 }).elbo : undefined;
    const batchesDone = cp.batchesDone ? cp.batchesDone : undefined;
    // The run's passes and their verdict as report and the panel read them: one answer on all three.
    const run = await readRunContents(path.resolve(runDir));
    const records = run.records;
    return {
      spec,
      meta,
      epoch: cp.epoch,
      batchesDone,
      backend: engine.name,
      points: n,
      samples,
      result,
      priorVariance: Array.from(priorVariance(vae)),
      latents,
      validationElbo,
      verdict: run.convergence !== undefined && run.convergenceReason !== undefined ? { state: run.convergence, reason: run.convergenceReason } : undefined,
      verdictNotes: run.verdictNotes,
      // run.json as written (eval reads it unchecked): sessions of another shape are not shown.
      sessions: sessionSpans(is(array(sessionInfo), meta.sessions) ? meta.sessions : undefined, records),
      warnings: [
        ...formatWarnings(runDir, meta),
        ...(engine.warning ? [engine.warning] : []),
        // The table's heading shows the count used; a smaller one than asked for is easy to miss.
        ...(opts.points !== undefined && n < opts.points
          ? [`--points ${opts.points} is more than the ${n} points of the run's training data: all ${n} are used`]
          : []),
      ],
    };
  } finally {
    vae.dispose();
  }
}

/**
 * The spec snapshot a run of VAE Lens's own trainer starts with. A run another trainer wrote (the
 * Python companion, a training script) has no model spec and no checkpoint to re-evaluate: that is
 * said in so many words, with where its records can be seen, rather than as a missing spec file.
 */
function ownTrainersSpec(runDir: string, meta: RunMeta): VaeSpec {
  const specFile = path.join(runDir, RUN_FILES.spec);
  const document = fs.existsSync(specFile) ? readSpecDocumentFile(specFile) : undefined;
  if (document?.kind === 'model') return document.parsed.spec;
  const writer = typeof meta.trainer === 'string' && meta.trainer !== 'script' ? meta.trainer : undefined;
  const what = document === undefined ? `no ${RUN_FILES.spec}` : `a ${RUN_FILES.spec} that runs a training script (trainer.command)`;
  const report = `\`vae-lens report ${shellWord(runDir)}\` charts its records`;
  if (writer === undefined && document === undefined)
    throw new UserError(
      `${shownPath(runDir)} has no ${RUN_FILES.spec}, the spec the run started from: eval re-evaluates a run of VAE Lens's own trainer from that spec and its checkpoint. A run another trainer wrote has none; ${report}`,
      { file: runDir },
    );
  throw new UserError(
    `${shownPath(runDir)} was written by ${writer === undefined ? 'a training script' : shownPath(writer)}, not by VAE Lens's own trainer: eval re-evaluates the checkpoint that trainer keeps, with the spec the run started from, and this run has ${what}. ${report}`,
    { file: runDir },
  );
}

/** run.json as eval needs it: JSON, a spec path that is a string, the data's dimension. */
function readRunMeta(runDir: string): RunMeta {
  const file = path.join(runDir, RUN_FILES.meta);
  const r = readRegularFileSync(file, READ_LIMITS.small);
  if (!r.ok) {
    if (r.reason === 'missing')
      throw new UserError(`${shownPath(runDir)} is not a run folder: it has no ${RUN_FILES.meta}${nearbyRunsHint(runDir)}`, { file: runDir });
    throw new UserError(`cannot read ${shownPath(file)}: ${r.detail}`, { file });
  }
  const read = readRunJson(r.text);
  if ('problem' in read)
    throw new UserError(`${shownPath(file)} is not valid JSON (${read.problem}); it is not a run folder VAE Lens wrote, or it was damaged`, { file });
  const v = read.value;
  if (!isRunMeta(v)) throw new UserError(`${shownPath(file)} is not a VAE Lens run.json: it needs "name", "specPath" and "startedAt" as strings`, { file });
  return v;
}

/** What eval needs of a run.json of VAE Lens's own trainer beyond what every reader needs: the data's dimension. */
function checkMetaForEval(runDir: string, meta: RunMeta): void {
  const file = path.join(runDir, RUN_FILES.meta);
  const fail = (problem: string, field: string) => new UserError(`${shownPath(file)}: ${problem}`, { file, field });
  // As read from disk: another writer's run.json may hold anything here.
  const dataset: unknown = (meta as { dataset?: unknown }).dataset;
  if (dataset === undefined) throw fail('it has no "dataset", whose dim (the data\'s dimension) eval needs', 'dataset');
  if (typeof dataset !== 'object' || dataset === null || Array.isArray(dataset))
    throw fail(`dataset must be an object holding dim, not ${shortJson(dataset)}`, 'dataset');
  const dim = (dataset as { dim?: unknown }).dim;
  if (dim === undefined) throw fail("dataset.dim is missing: eval needs the data's dimension", 'dataset.dim');
  if (!Number.isInteger(dim) || (dim as number) < 1) throw fail(`dataset.dim must be a positive whole number, not ${shortJson(dim)}`, 'dataset.dim');
}

/** A value as it was written, cut to a length a one-paragraph message can hold. */
function shortJson(v: unknown): string {
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

/** A run a newer VAE Lens wrote is evaluated as far as this version reads it, with a warning saying so. */
function formatWarnings(runDir: string, meta: RunMeta): string[] {
  const v: unknown = meta.formatVersion; // as read from disk
  if (typeof v !== 'number' || v <= RUN_FORMAT_VERSION) return [];
  return [
    `${shownPath(path.join(runDir, RUN_FILES.meta))}: formatVersion ${v} is newer than the ${RUN_FORMAT_VERSION} this version of VAE Lens reads; what it can read is evaluated`,
  ];
}

/** Every point's samples are drawn and decoded at once: they must fit in memory. */
function checkEvalSamples(samples: number, dim: number, latentDim: number): void {
  checkAllocation({
    what: `--samples ${samples} (the samples of one point, ${samples} x ${dim + latentDim} float32, several times over)`,
    elements: samples * (dim + latentDim),
    bytesPerElement: 4 * EVAL_COPIES,
    at: { field: '--samples' },
    advice: 'ask for fewer samples (a few hundred already give a standard error far below the gap)',
    limit: MAX_ARRAY_BYTES / 4,
  });
}

/** Noise, latent draws, decoder means and their residuals: about this many copies of a point's samples live at once. */
const EVAL_COPIES = 4;
