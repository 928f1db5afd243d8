/**
 * The training loop: seeded shuffling, Adam steps on minus the single-sample ELBO, the
 * closed-form variance update when asked for, a diagnostics pass every `diagnostics.every`
 * epochs (and one before training), checkpoints, divergence detection, and a cooperative
 * stop. Engine-independent: it receives the tfjs namespace of the chosen engine.
 */
import { existsSync } from 'node:fs';
import type { Optimizer, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs-core';
import { ConvergenceJudge } from '../core/convergence';
import { elboOfFirstPoints, type PassStatistics } from '../core/entropy';
import { imageGeometry } from '../core/imageGeometry';
import { convergencePointOf, settingsOfSpec, UnreadablePasses } from '../core/run/settings';
import { MODEL_TYPE_INFO } from '../core/modelTypes';
import { Rng } from '../core/random';
import type { ImagesEvent, ProgressEvent } from '../core/protocol';
import type { MetricsRecord } from '../core/runFormat';
import { DEFAULT_DIAGNOSTIC_SUBSET, type VaeSpec } from '../core/spec';
import { shownPath, UserError } from '../core/errors';
import { initialDecoderVariance } from '../core/specParts/withDefaults';
import type { ScaledDataset } from '../data/dataset';
import { gatherRows, meanColumnVariance, unscaleValues } from '../data/scaling';
import type { Engine } from './backend';
import type { Tf } from './tf';
import { createAdam } from './adam';
import { averageOf, dataFingerprint, readCheckpoint, restoreCheckpoint, saveCheckpoint, type Checkpoint, type DataFingerprint } from './checkpoint';
import { DenseStep } from './denseStep';
import { decomposeStatistics, diagnose, diagnosticSubset, gatherStatistics } from './diagnostics';
import { encoderEvidence, meanFieldEvidence, WeightAverage } from './evidence';
import { Vae } from './model';

export interface LoopEvents {
  progress(p: Omit<ProgressEvent, 'type'>): void;
  diagnostics(record: MetricsRecord): void;
  images?(images: Omit<ImagesEvent, 'type'>): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface LoopOptions {
  spec: VaeSpec;
  engine: Engine;
  train: ScaledDataset;
  validation?: ScaledDataset;
  /** Total epochs (the spec's unless overridden). */
  epochs: number;
  events: LoopEvents;
  /** Polled between steps. */
  shouldStop: () => boolean;
  /** Where checkpoints go; none when undefined. */
  checkpointPath?: string;
  /** Resume from this checkpoint file. */
  resumeFrom?: string;
  /** Its contents, where the caller has read and checked them already (else restore() reads the file). */
  resumeCheckpoint?: Checkpoint;
  /** The resumed run's records so far: the convergence rule judges the whole history, not just the new passes. */
  previousRecords?: readonly MetricsRecord[];
  /** The spec file, which a failure for memory names with the fields to change. */
  specPath?: string;
}

export type LoopOutcome =
  | { status: 'completed' | 'stopped'; epochsDone: number; steps: number; last?: MetricsRecord }
  | { status: 'diverged'; epochsDone: number; steps: number; last?: MetricsRecord; message: string };

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Points on which the averaged weights are compared with the current ones (see averagedWeightsElbo). */
const AVERAGED_ELBO_POINTS = 1024;

export class TrainingLoop {
  readonly vae: Vae;
  readonly optimizer: Optimizer;
  private readonly trainable: Variable[];
  /** The verdict's memory: judged pass by pass, a resumed run's earlier passes first. */
  private readonly judge: ConvergenceJudge;
  /** Passes the rule cannot read (a non-finite ELBO or scale): left out, as the run reader leaves them. */
  private readonly unreadable: UnreadablePasses;
  private readonly diagValues: Float32Array;
  private readonly diagN: number;
  private step = 0;
  private startEpoch = 0;
  /**
   * Where a run stopped within an epoch resumes: the batches of epoch startEpoch + 1 trained before
   * its checkpoint, and their loss sum (the epoch's trainLoss counts them). See restore().
   */
  private startWithin = { batchesDone: 0, lossSum: 0 };
  /** Restored from a checkpoint (whose epoch-0 pass, if any, is already in the run). */
  private resumed = false;
  /** Bias-corrected running mean of squared errors (varianceUpdate "optimal"). */
  private varianceEma: { sum: Float32Array; weight: number } | undefined;
  private readonly wallStart = performance.now();
  /** Recent weights averaged: what a smaller step would reach (see train/evidence.ts). */
  private readonly average: WeightAverage;
  /** The step written out on the kernels, for the models it does (denseStep.ts). */
  private readonly denseStep: DenseStep | undefined;
  private restored = false;
  /** What the checkpoints say the run trains on, hashed at the first one. */
  private data: DataFingerprint | undefined;
  /** The data's images can be drawn (1, 3 or 4 channels, within the size limits): only then are they written. */
  private readonly drawable: boolean;

  constructor(private readonly o: LoopOptions) {
    const { tf } = o.engine;
    const { spec, train } = o;
    this.vae = new Vae(tf, spec.model, train.dim, spec.training.seed, initialDecoderVariance(spec.model, meanColumnVariance(train)), train.imageShape);
    this.optimizer = createAdam(tf, spec.training.learningRate, o.engine.kernels);
    this.trainable = this.vae.trainableVariables();
    const settings = settingsOfSpec(spec);
    this.judge = new ConvergenceJudge(settings);
    this.unreadable = new UnreadablePasses(settings.theoremApplies);
    const subset = diagnosticSubset(train, spec);
    this.diagValues = subset.values;
    this.diagN = subset.n;
    const asked = spec.diagnostics.subset;
    // The records' `points` show the count used, but a run that was meant to evaluate a subset should say it does not.
    if (asked !== undefined && asked > train.n)
      o.events.log('warn', `diagnostics.subset is ${asked}, more than the ${train.n} training points: every pass evaluates all ${train.n}`);
    const shape = train.imageShape;
    const { problem } = shape ? imageGeometry(shape, 'hwc') : { problem: undefined };
    this.drawable = shape !== undefined && problem === undefined;
    if (problem) o.events.log('info', `no images in the panel for these data: ${problem}`);
    const usesOptimal = spec.model.varianceUpdate === 'optimal' && this.vae.params.logS2 && MODEL_TYPE_INFO[spec.model.type].decoderVariance === 'global';
    if (usesOptimal) this.varianceEma = { sum: new Float32Array(this.vae.params.logS2!.size), weight: 0 };
    // Average over about the steps between two passes, so each pass sees the average of its own interval.
    const stepsPerPass = Math.ceil(train.n / Math.min(spec.training.batchSize, train.n)) * spec.diagnostics.every;
    this.average = new WeightAverage(tf, this.trainable, Math.min(2000, Math.max(32, stepsPerPass)));
    this.denseStep = usesOptimal
      ? undefined
      : DenseStep.for(tf, this.vae, o.engine.kernels?.onMemory, this.trainable, Math.min(spec.training.batchSize, train.n));
  }

  async run(): Promise<LoopOutcome> {
    const { spec, train, events } = this.o;
    const B = Math.min(spec.training.batchSize, train.n);
    const stepsPerEpoch = Math.ceil(train.n / B);
    await this.restore();

    let last: MetricsRecord | undefined;
    if (this.startEpoch === 0 && !this.resumed) {
      last = this.passOrExplain(0, 0, NaN);
      // A good checkpoint from the start: a run that diverges or dies in its first epoch can still be resumed.
      await this.checkpoint(0);
      if (this.o.shouldStop()) return { status: 'stopped', epochsDone: 0, steps: 0, last };
    }

    const batchBuf = new Float32Array(B * train.dim);
    const seedBase = spec.training.seed * 1_000_003;
    for (let epoch = this.startEpoch + 1; epoch <= this.o.epochs; epoch++) {
      setLearningRate(this.optimizer, learningRateAt(spec, epoch, this.o.epochs));
      const order = new Rng(seedBase + epoch).shuffle(Uint32Array.from({ length: train.n }, (_, i) => i));
      const epochStart = performance.now();
      // A run stopped within this epoch goes on from the batch after the last one it trained.
      const within = epoch === this.startEpoch + 1 ? this.startWithin : { batchesDone: 0, lossSum: 0 };
      const skipped = Math.min(train.n, within.batchesDone * B);
      let lossSum = within.lossSum;
      let lastReport = 0;
      for (let b = within.batchesDone; b < stepsPerEpoch; b++) {
        const from = b * B;
        const to = Math.min(train.n, from + B);
        const rows = gatherRows(train.values, train.dim, order, from, to, batchBuf);
        const loss = this.stepOrExplain(rows, to - from, seedBase + this.step, epoch);
        this.step++;
        this.average.update(this.step);
        if (!Number.isFinite(loss)) {
          const message = `training diverged at epoch ${epoch}, step ${this.step}: the loss became ${loss}. Every metric written so far and the last good checkpoint are kept. ${divergenceAdvice(spec, train)}`;
          events.log('error', message);
          return { status: 'diverged', epochsDone: epoch - 1, steps: this.step, last, message };
        }
        lossSum += loss * (to - from);
        const now = performance.now();
        if (now - lastReport > 250 || b === stepsPerEpoch - 1) {
          lastReport = now;
          const done = to;
          const rate = (done - skipped) / ((now - epochStart) / 1000);
          const remaining = (this.o.epochs - epoch) * train.n + (train.n - done);
          events.progress({ epoch, epochFraction: done / train.n, step: this.step, samplesPerSec: rate, etaSeconds: remaining / rate, loss });
        }
        await yieldToEventLoop();
        if (this.o.shouldStop()) {
          // The weights are b + 1 batches into this epoch (all of them after its last batch, whose
          // pass is then still to make): the checkpoint says so, and a resume goes on from there.
          await this.checkpoint(epoch - 1, { batchesDone: b + 1, lossSum });
          return { status: 'stopped', epochsDone: epoch - 1, steps: this.step, last };
        }
      }
      const trainSeconds = (performance.now() - epochStart) / 1000;
      const samplesPerSec = skipped < train.n ? (train.n - skipped) / trainSeconds : NaN;
      if (epoch % spec.diagnostics.every === 0 || epoch === this.o.epochs) {
        try {
          last = this.passOrExplain(epoch, lossSum / train.n, samplesPerSec);
        } catch (e) {
          // The epoch's training is kept as a run stopped after its last batch: a resume makes only the pass.
          await this.checkpoint(epoch - 1, { batchesDone: stepsPerEpoch, lossSum }).catch(() => undefined);
          throw e;
        }
      }
      if (epoch % spec.training.checkpointEvery === 0 || epoch === this.o.epochs) await this.checkpoint(epoch);
    }
    return { status: 'completed', epochsDone: this.o.epochs, steps: this.step, last };
  }

  /** A step, its engine running out of memory said as what to change in the spec rather than as the engine's trap. */
  private stepOrExplain(rows: Float32Array, n: number, seed: number, epoch: number): number {
    try {
      return this.trainStep(rows, n, seed);
    } catch (e) {
      if (!isOutOfMemory(e)) throw e;
      const { spec, engine } = this.o;
      throw new UserError(
        `the training step at epoch ${epoch}, step ${this.step + 1} ran out of the ${engine.name} engine's memory (${(e as Error).message}) on a batch of ${n} points of dimension ${this.vae.dim}. ` +
          `Every metric written so far and the last checkpoint are kept. Lower training.batchSize (now ${spec.training.batchSize}), or use narrower hidden layers (model.encoder, model.decoder).`,
        { file: this.o.specPath, field: 'training.batchSize' },
      );
    }
  }

  /** One Adam step on a batch; returns the loss (minus the ELBO). */
  private trainStep(rows: Float32Array, n: number, seed: number): number {
    const { tf } = this.o.engine;
    const H = this.o.spec.model.latentDim;
    const ema = this.varianceEma;
    if (this.denseStep) {
      const eps = stepNoise(tf, n, H, seed);
      const { loss, grads } = this.denseStep.gradients(rows, n, eps.dataSync() as Float32Array);
      eps.dispose();
      this.optimizer.applyGradients(grads);
      return loss;
    }
    let sqErr: Tensor1D | undefined;
    const lossTensor = tf.tidy(() => {
      const x = tf.tensor2d(rows, [n, this.o.train.dim]);
      const eps = stepNoise(tf, n, H, seed);
      return this.optimizer.minimize(
        () => {
          const r = this.vae.objective(x, eps, ema !== undefined);
          if (r.sqErr) sqErr = tf.keep(r.sqErr);
          return r.loss;
        },
        true,
        this.trainable,
      )!;
    });
    const loss = lossTensor.dataSync()[0]!;
    lossTensor.dispose();
    if (ema && sqErr) {
      this.updateOptimalVariance(ema, sqErr.dataSync() as Float32Array);
      sqErr.dispose();
    }
    return loss;
  }

  /**
   * Hold s^2 at its closed-form optimum s*^2 = E[(x - mu)^2], estimated as an exponentially
   * weighted mean over the last ~20 batches (thousands of points, not one small batch).
   */
  private updateOptimalVariance(ema: { sum: Float32Array; weight: number }, batch: Float32Array): void {
    const alpha = 0.05;
    ema.weight = (1 - alpha) * ema.weight + alpha;
    for (let i = 0; i < ema.sum.length; i++) ema.sum[i] = (1 - alpha) * ema.sum[i]! + alpha * batch[i]!;
    const { tf } = this.o.engine;
    const est = Float32Array.from(ema.sum, (s) => Math.log(Math.max(s / ema.weight, 1e-12)));
    tf.tidy(() => this.vae.params.logS2!.assign(tf.tensor1d(est)));
  }

  /**
   * The ELBO the averaged weights would have on the diagnostics points. Only the difference to
   * the current weights matters (what a smaller step would gain), so both are evaluated on the
   * same few points with the same noise, where their Monte-Carlo errors nearly cancel, and the
   * difference is added to the pass's own ELBO: a quarter of the points, at 4096, cost a quarter
   * of a pass where evaluating the average on all of them cost a whole one. The current weights'
   * ELBO on those points is read off the pass itself (`elboOfFirstPoints`).
   */
  private averagedWeightsElbo(pass: PassStatistics, elbo: number, seed: number): number {
    const { engine, spec } = this.o;
    const n = Math.min(this.diagN, AVERAGED_ELBO_POINTS);
    const points = { values: this.diagValues.subarray(0, n * this.vae.dim), n, samples: spec.diagnostics.mcSamples, seed };
    const averaged = this.average.withAveragedWeights(() => this.withPackedWeights(() => diagnose(engine.tf, this.vae, points).elbo));
    return elbo + (averaged - elboOfFirstPoints(pass, n));
  }

  /** `fn` with the model's dense weights packed once for all its products (the weights hold still in a pass). */
  private withPackedWeights<T>(fn: () => T): T {
    const kernels = this.o.engine.kernels;
    return kernels ? kernels.withPackedWeights(this.vae.denseWeights(), fn) : fn();
  }

  /** The pass, its engine running out of memory said as what to change in the spec rather than as the engine's trap. */
  private passOrExplain(epoch: number, trainLoss: number, samplesPerSec: number): MetricsRecord {
    try {
      return this.diagnosticsPass(epoch, trainLoss, samplesPerSec);
    } catch (e) {
      if (!isOutOfMemory(e)) throw e;
      const { spec, engine } = this.o;
      const d = spec.diagnostics;
      const kept =
        epoch === 0
          ? 'Nothing was trained yet'
          : `Every metric written so far is kept, and the weights after epoch ${epoch} in the checkpoint (resume the run to make the pass again)`;
      throw new UserError(
        `the diagnostics pass after epoch ${epoch} ran out of the ${engine.name} engine's memory (${(e as Error).message}) on ${this.diagN} points of dimension ${this.vae.dim} ` +
          `with ${d.mcSamples} samples each. ${kept}. Lower diagnostics.mcSamples (now ${d.mcSamples}) or diagnostics.subset (now ${this.diagN} points), or use narrower hidden layers.`,
        { file: this.o.specPath, field: 'diagnostics.mcSamples' },
      );
    }
  }

  private diagnosticsPass(epoch: number, trainLoss: number, samplesPerSec: number): MetricsRecord {
    return this.withPackedWeights(() => this.passRecord(epoch, trainLoss, samplesPerSec));
  }

  private passRecord(epoch: number, trainLoss: number, samplesPerSec: number): MetricsRecord {
    const { spec, events, engine, validation } = this.o;
    const t0 = performance.now();
    const seed = spec.training.seed * 7919 + epoch * 104729 + 17;
    const H = spec.model.latentDim;
    const encodings = { nu: new Float32Array(this.diagN * H), logT2: new Float32Array(this.diagN * H) };
    const stats = gatherStatistics(engine.tf, this.vae, { values: this.diagValues, n: this.diagN, samples: spec.diagnostics.mcSamples, seed }, encodings);
    const d = decomposeStatistics(this.vae, stats);
    let validationElbo: number | undefined;
    if (validation && validation.n > 0) {
      const vn = Math.min(validation.n, spec.diagnostics.subset ?? DEFAULT_DIAGNOSTIC_SUBSET);
      validationElbo = diagnose(engine.tf, this.vae, {
        values: validation.values.subarray(0, vn * validation.dim),
        n: vn,
        samples: spec.diagnostics.mcSamples,
        seed: seed + 1,
      }).elbo;
    }
    const latents = encoderEvidence(encodings, this.diagN, H, seed + 2);
    const meanField = meanFieldEvidence(engine.tf, this.vae, this.diagValues, this.diagN, encodings.nu);
    const averagedElbo = epoch > 0 ? this.averagedWeightsElbo(stats, d.elbo, seed) : undefined;
    const learningRate = learningRateAt(spec, Math.max(epoch, 1), this.o.epochs);
    const pass = { ...d, epoch, averagedElbo, learningRate, latentMeanVariance: latents.latentMeanVariance, ...meanField };
    const verdict = this.unreadable.admit(pass) ? this.judge.push(pass) : undefined;
    const said = this.unreadable.verdictAfter(pass, verdict);
    const { collapsedLatents, ...rest } = d;
    const record: MetricsRecord = {
      epoch,
      step: this.step,
      ...rest,
      collapsedLatents,
      ...latents,
      ...meanField,
      averagedElbo,
      averagingSteps: averagedElbo === undefined ? undefined : this.average.horizonSteps,
      learningRate,
      elboSlope: verdict?.evidence?.slopePerEpoch,
      elboSlopeStdErr: verdict?.evidence?.slopeStdErrPerEpoch,
      samplesPerSec,
      wallSeconds: (performance.now() - this.wallStart) / 1000,
      trainLoss,
      validationElbo,
      priorVariance:
        MODEL_TYPE_INFO[spec.model.type].diagnostics.includes('priorVariance') && this.vae.params.logA2
          ? Array.from(this.vae.params.logA2.dataSync(), Math.exp)
          : undefined,
      convergence: said.state,
      convergenceReason: said.reason,
      diagnosticsSeconds: (performance.now() - t0) / 1000,
      points: this.diagN,
      mcSamples: spec.diagnostics.mcSamples,
    };
    events.diagnostics(record);
    if (this.drawable && events.images) events.images(this.images());
    return record;
  }

  /** A few originals, their reconstructions (decoder mean at z = nu) and samples from the prior, in [0, 1]. */
  private images(count = 8): Omit<ImagesEvent, 'type'> {
    const { tf } = this.o.engine;
    const ds = this.o.train;
    const k = Math.min(count, this.diagN);
    const [rec, smp] = tf.tidy(() => {
      const x = tf.tensor2d(this.diagValues.subarray(0, k * ds.dim), [k, ds.dim]);
      const recon = this.vae.decode(this.vae.encode(x).nu).mu;
      const z = tf.mul(tf.randomNormal([k, this.o.spec.model.latentDim], 0, 1, 'float32', this.step + 3), tf.exp(tf.mul(this.vae.priorLogVar(), 0.5)));
      return [recon, this.vae.decode(z as Tensor2D).mu];
    });
    const toUnit = displayScale(unscaleValues(this.diagValues.slice(0, k * ds.dim), ds.dim, ds.scaling), ds);
    const toDisplay = (flat: Float32Array) =>
      Array.from({ length: k }, (_, i) => Array.from(unscaleValues(flat.slice(i * ds.dim, (i + 1) * ds.dim), ds.dim, ds.scaling), toUnit));
    const out = {
      shape: ds.imageShape ?? [ds.dim],
      // The data sets hold images channels last (NPY files made channels first are reordered on reading).
      layout: 'hwc' as const,
      originals: toDisplay(this.diagValues),
      reconstructions: toDisplay(rec.dataSync() as Float32Array),
      samples: toDisplay(smp.dataSync() as Float32Array),
    };
    rec.dispose();
    smp.dispose();
    return out;
  }

  /** A checkpoint after `epoch` whole epochs and, for a run stopped within the next one, `within` it. */
  private async checkpoint(epoch: number, within?: { batchesDone: number; lossSum: number }): Promise<void> {
    if (!this.o.checkpointPath) return;
    const ema = this.varianceEma;
    await saveCheckpoint(this.o.checkpointPath, this.vae, this.optimizer, {
      epoch,
      step: this.step,
      within,
      varianceEstimate: ema ? [ema.weight, ...ema.sum] : undefined,
      average: this.average.state(),
      data: (this.data ??= dataFingerprint(this.o.train, this.o.validation)),
    });
  }

  /**
   * A resumed run's weights, optimizer state and history, from its checkpoint (once; run() calls
   * it too). The session calls it before it rewrites run.json and summary.json, so a checkpoint
   * that does not fit the model is refused with the run folder as it was.
   *
   * What the steps carry from one to the next, and so what a resume restores: the weights, Adam's
   * moments and step count (its bias corrections follow from it), the step count behind each step's
   * noise seed, the running estimate of s^2 (varianceUpdate "optimal"), and for a run stopped within
   * an epoch how many of that epoch's batches it trained (the epoch's order is seeded by its number,
   * so the rest of it is the same batches) and their loss sum. A run stopped and resumed therefore
   * takes the steps, and makes the passes, of the run never stopped. So is the running average of
   * recent weights behind the passes' averagedElbo, which the verdict reads (a copy of the trainable
   * variables in the checkpoint). Only the clock (samplesPerSec, wallSeconds) restarts.
   */
  async restore(): Promise<void> {
    const file = this.o.resumeFrom;
    if (file === undefined || this.restored) return;
    this.restored = true;
    if (!existsSync(file)) {
      // Killed before its first checkpoint: the seeded initial model is the one it started from.
      this.o.events.log('info', `no checkpoint in the run yet (${shownPath(file)}); starting again from epoch 0`);
      return;
    }
    const cp = this.o.resumeCheckpoint ?? readCheckpoint(file);
    const { spec, train } = this.o;
    const stepsPerEpoch = Math.ceil(train.n / Math.min(spec.training.batchSize, train.n));
    const batchesDone = cp.batchesDone ?? 0;
    if (batchesDone > stepsPerEpoch)
      throw new UserError(
        `${shownPath(file)} was taken ${batchesDone} batches into epoch ${cp.epoch + 1}, but these data make ${stepsPerEpoch} batches an epoch: the data or the batch size changed since`,
        { file },
      );
    const average = averageOf(cp, this.vae, file);
    await restoreCheckpoint(this.o.engine.tf, cp, this.vae, this.optimizer, file);
    this.resumed = true;
    if (average) this.average.restore(average.updates, average.values);
    else this.average.reset();
    this.startEpoch = cp.epoch;
    this.step = cp.step;
    this.startWithin = { batchesDone, lossSum: batchesDone > 0 ? cp.lossSum! : 0 };
    // Passes after the checkpoint will be made again; the ones before it stay part of the trend.
    for (const r of this.o.previousRecords ?? []) {
      if (r.epoch <= cp.epoch && this.unreadable.admit(r)) this.judge.push(convergencePointOf(r));
    }
    if (this.varianceEma && cp.varianceEstimate) {
      const [weight, ...sum] = cp.varianceEstimate;
      if (sum.length !== this.varianceEma.sum.length)
        throw new UserError(
          `${shownPath(file)}: "varianceEstimate" holds ${sum.length} decoder variance${sum.length === 1 ? '' : 's'}, where this model has ${this.varianceEma.sum.length}: the file is damaged or was written for another network`,
          { file },
        );
      this.varianceEma = { weight: weight!, sum: Float32Array.from(sum) };
    }
    const at = batchesDone > 0 ? `${batchesDone} of ${stepsPerEpoch} batches into epoch ${cp.epoch + 1}` : `epoch ${cp.epoch}`;
    // An earlier version's checkpoint has no weight average: the passes' averagedElbo then averages the steps since the resume only.
    const restarted = average ? '' : '; its checkpoint holds no weight average (an earlier version wrote it), so averagedElbo starts over';
    this.o.events.log('info', `resumed from ${shownPath(file)} at ${at} (step ${cp.step})${restarted}`);
  }

  /**
   * Free the model, the optimizer's state, the weight average and the step's buffers, each on its
   * own. It never throws: the session calls it in a `finally`, where a throw would take the place
   * of the error that ended the run, and after a failure in the engine (its memory exhausted, a
   * kernel that trapped) freeing can fail as well. What could not be freed is logged, as one line.
   */
  dispose(): void {
    const parts: [string, () => void][] = [
      ['the model', () => this.vae.dispose()],
      ["the optimizer's state", () => this.optimizer.dispose()],
      ['the weight average', () => this.average.dispose()],
      ["the training step's buffers", () => this.denseStep?.dispose()],
    ];
    const failed: string[] = [];
    let first: unknown;
    for (const [what, free] of parts) {
      try {
        free();
      } catch (e) {
        failed.push(what);
        first ??= e;
      }
    }
    if (failed.length === 0) return;
    const reason = first instanceof Error ? `${first.name}: ${first.message}` : String(first);
    try {
      this.o.events.log('warn', `could not free ${failed.join(', ')} on the ${this.o.engine.name} engine after the run (${reason})`);
    } catch {
      // Nowhere to say it: the run's own outcome has been reported already, or is being.
    }
  }
}

/**
 * The noise eps of the training step with this seed. tfjs treats a seed of 0 as none and draws
 * from Math.random, so the first step of a run with training.seed 0 (the default) had different
 * noise every time; -1 stands in for it (step seeds are never negative).
 */
export function stepNoise(tf: Tf, rows: number, latentDim: number, seed: number): Tensor2D {
  return tf.randomNormal([rows, latentDim], 0, 1, 'float32', seed === 0 ? -1 : seed) as Tensor2D;
}

/** The learning rate for an epoch (1-based) under the spec's schedule. */
export function learningRateAt(spec: VaeSpec, epoch: number, epochs: number): number {
  const lr = spec.training.learningRate;
  if (spec.training.schedule === 'constant' || epochs <= 1) return lr;
  const progress = (epoch - 1) / (epochs - 1);
  const floor = 0.01 * lr;
  return floor + 0.5 * (lr - floor) * (1 + Math.cos(Math.PI * progress));
}

/** tfjs optimizers keep their rate in a protected field that every step reads. */
function setLearningRate(optimizer: Optimizer, lr: number): void {
  Reflect.set(optimizer, 'learningRate', lr);
}

/**
 * Data values to the [0, 1] of images.json, one map for every image of a pass (as the Python
 * companion draws them): 8-bit sources by /255, data already in [0, 1] as they are, others by the
 * shown originals' range. A map per image would stretch a reconstruction that barely varies, as a
 * collapsed posterior's does, to full contrast.
 */
function displayScale(originals: Float32Array, ds: ScaledDataset): (x: number) => number {
  const clamp = (x: number) => Math.min(1, Math.max(0, x));
  if (ds.sourceType === 'uint8') return (x) => clamp(x / 255);
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of originals) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  if (lo >= 0 && hi <= 1) return clamp;
  return hi > lo ? (x) => clamp((x - lo) / (hi - lo)) : () => 0.5;
}

/** How the wasm engine fails when its heap cannot grow: a trap on the address past its end, or an abort from its allocator. */
export function isOutOfMemory(e: unknown): boolean {
  if (e instanceof RangeError) return /memory|allocation/i.test(e.message);
  return e instanceof WebAssembly.RuntimeError && /out of bounds|out of memory|OOM/i.test(e.message);
}

/** Data far from unit scale make the first steps overflow whatever the step size: say so before the step size. */
const LARGE_DATA_VALUE = 1e4;

function divergenceAdvice(spec: VaeSpec, train: ScaledDataset): string {
  let largest = 0;
  for (const v of train.values) largest = Math.max(largest, Math.abs(v));
  const step = `Try a smaller training.learningRate (now ${spec.training.learningRate}) or a larger model.initialVariance.`;
  if (!(largest > LARGE_DATA_VALUE)) return step;
  // train.values are after data.scale: this large, they were not scaled.
  return `The data reach ${largest.toPrecision(3)} in absolute value: scale them to about unit size (data.scale "standardize"), then train again. ${step}`;
}
