/**
 * Checkpoints: every variable and the Adam state, as little-endian float32 in base64,
 * with the epoch and step they were taken at, and for a run stopped within an epoch how far into
 * the next epoch it was. Written atomically (runWriter.writeJsonAtomic), so `latest.json` is
 * always a whole, good checkpoint.
 */
import { createHash } from 'node:crypto';
import type { Optimizer } from '@tensorflow/tfjs-core';
import { MAX_STRING_CHARS } from '../core/allocation';
import { shownPath, UserError } from '../core/errors';
import { readRegularFileSync } from '../core/safeRead';
import { jsonSyntaxProblem } from '../core/specParts/jsonc';
import { restoreAdamProducts } from './adam';
import type { ScaledDataset } from '../data/dataset';
import type { Tf } from './tf';
import type { Vae } from './model';
import { writeJsonAtomic } from './runWriter';

export const CHECKPOINT_VERSION = 1;

interface StoredTensor {
  shape: number[];
  data: string;
}

export interface Checkpoint {
  version: number;
  /** Whole epochs trained. */
  epoch: number;
  /** Optimizer steps taken, those of `batchesDone` included. */
  step: number;
  /**
   * Batches of epoch `epoch + 1` trained too (a run stopped within it), in that epoch's seeded
   * order; absent (older checkpoints, and any taken at the end of an epoch) means none.
   */
  batchesDone?: number;
  /** The loss summed over those batches' points, for that epoch's trainLoss; with batchesDone. */
  lossSum?: number;
  modelType: string;
  dim: number;
  latentDim: number;
  variables: Record<string, StoredTensor>;
  /** Adam's state in its own order (iterations, first moments, second moments); it matches variables by position. */
  optimizer: (StoredTensor & { name: string })[];
  /** Running estimate behind varianceUpdate "optimal". */
  varianceEstimate?: number[];
  /**
   * The running average of recent weights behind the passes' averagedElbo (train/evidence.ts): how
   * many updates it has taken and its value of each trainable variable. Checkpoints of earlier
   * versions have none; their resume starts the average over.
   */
  average?: { updates: number; variables: Record<string, StoredTensor> };
  /** The data it was trained on (absent in checkpoints of earlier versions). */
  data?: DataFingerprint;
}

/**
 * The training data as the model saw them: their size, and a hash of the values after data.scale,
 * in order, and of the validation split's. A resume checks it, since data of the same dimension
 * but other values (a file edited, rows added or reordered) would train on as if nothing changed.
 */
export interface DataFingerprint {
  n: number;
  dim: number;
  sha256: string;
}

export function dataFingerprint(train: ScaledDataset, validation?: ScaledDataset): DataFingerprint {
  const hash = createHash('sha256');
  for (const d of [train, validation]) if (d) hash.update(new Uint8Array(d.values.buffer, d.values.byteOffset, d.n * d.dim * 4));
  return { n: train.n, dim: train.dim, sha256: hash.digest('hex') };
}

/** The weight average as the loop keeps it: its values in the order of the model's trainable variables. */
export interface AverageState {
  updates: number;
  values: Float32Array[];
}

const encode = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
/** Line breaks and spaces are allowed (Python's base64.encodebytes writes them); nothing else outside the alphabet. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const compact = (s: string): string => s.replace(/\s+/g, '');
/** Bytes the base64 text holds, or undefined when it is not base64 (Buffer would skip the bad characters). */
function base64Bytes(s: string): number | undefined {
  const c = compact(s);
  return BASE64.test(c) ? (c.length / 4) * 3 - (c.endsWith('==') ? 2 : c.endsWith('=') ? 1 : 0) : undefined;
}
function decode(s: string): Float32Array {
  const b = Buffer.from(compact(s), 'base64');
  const copy = new Uint8Array(b); // aligned copy
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

export async function saveCheckpoint(
  file: string,
  vae: Vae,
  optimizer: Optimizer,
  at: {
    epoch: number;
    step: number;
    within?: { batchesDone: number; lossSum: number };
    varianceEstimate?: number[];
    average?: AverageState;
    data?: DataFingerprint;
  },
): Promise<void> {
  const variables: Record<string, StoredTensor> = {};
  for (const [name, v] of vae.namedVariables()) variables[name] = { shape: v.shape, data: encode(v.dataSync() as Float32Array) };
  const weights = await optimizer.getWeights();
  // tfjs makes the step count a new int32 scalar at every call: stored as float32 like every entry, then freed.
  const opt = weights.map((w, i) => ({
    name: w.name,
    shape: w.tensor.shape,
    data: encode(i === 0 && w.name === ITERATIONS ? Float32Array.from(w.tensor.dataSync()) : (w.tensor.dataSync() as Float32Array)),
  }));
  if (weights[0]?.name === ITERATIONS) weights[0].tensor.dispose();
  const within = at.within && at.within.batchesDone > 0 ? at.within : undefined;
  const cp: Checkpoint = {
    version: CHECKPOINT_VERSION,
    epoch: at.epoch,
    step: at.step,
    ...(within ? { batchesDone: within.batchesDone, lossSum: within.lossSum } : {}),
    modelType: vae.spec.type,
    dim: vae.dim,
    latentDim: vae.spec.latentDim,
    variables,
    optimizer: opt,
    varianceEstimate: at.varianceEstimate,
    ...(at.average ? { average: storedAverage(vae, at.average) } : {}),
    ...(at.data ? { data: at.data } : {}),
  };
  writeJsonAtomic(file, cp);
}

const trainableEntries = (vae: Vae) => [...vae.namedVariables()].filter(([, v]) => v.trainable);

function storedAverage(vae: Vae, average: AverageState): NonNullable<Checkpoint['average']> {
  const variables: Record<string, StoredTensor> = {};
  trainableEntries(vae).forEach(([name, v], i) => (variables[name] = { shape: v.shape, data: encode(average.values[i]!) }));
  return { updates: average.updates, variables };
}

/** The checkpoint's weight average for this model, or undefined when it has none (an earlier version's). */
export function averageOf(cp: Checkpoint, vae: Vae, file = 'checkpoint'): AverageState | undefined {
  if (cp.average === undefined) return undefined;
  const stored = cp.average.variables;
  const values = trainableEntries(vae).map(([name, v]) => {
    const s = Object.hasOwn(stored, name) ? stored[name] : undefined;
    if (!s || s.shape.join('x') !== v.shape.join('x'))
      throw new UserError(
        `${shownPath(file)}: its weight average has no variable ${name} of shape [${v.shape.join(', ')}]${s ? ` (it has [${s.shape.join(', ')}])` : ''}: the file is damaged or was written for another network`,
        { file },
      );
    return finite(decode(s.data), `the weight average of ${name}`, file);
  });
  return { updates: cp.average.updates, values };
}

export function readCheckpoint(file: string): Checkpoint {
  const r = readRegularFileSync(file, MAX_STRING_CHARS);
  if (!r.ok) throw new UserError(`cannot read the checkpoint ${shownPath(file)}: ${r.detail}`, { file });
  let cp: unknown;
  try {
    cp = JSON.parse(r.text);
  } catch (e) {
    throw new UserError(`cannot read the checkpoint ${shownPath(file)}: ${jsonSyntaxProblem(r.text) ?? (e as Error).message}`, { file });
  }
  const v = isObj(cp) ? cp.version : undefined;
  if (Number.isInteger(v) && (v as number) > CHECKPOINT_VERSION)
    throw new UserError(
      `${shownPath(file)} is checkpoint version ${v as number}, written by a newer version of VAE Lens; this one reads version ${CHECKPOINT_VERSION}. Use the version that wrote it`,
      { file },
    );
  const problem = checkpointProblem(cp);
  if (problem) throw new UserError(`${shownPath(file)} is not a VAE Lens checkpoint: ${problem}`, { file });
  return cp as Checkpoint;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A stored tensor: a shape of whole numbers and base64 data holding exactly that many float32. */
function tensorProblem(t: unknown, name: string): string | undefined {
  if (!isObj(t) || !Array.isArray(t.shape) || typeof t.data !== 'string') return `${name} needs "shape" (an array) and "data" (base64)`;
  if (!t.shape.every((n) => Number.isInteger(n) && (n as number) >= 0)) return `${name} has the shape ${JSON.stringify(t.shape)}; dimensions are whole numbers`;
  const count = (t.shape as number[]).reduce((a, b) => a * b, 1);
  const bytes = base64Bytes(t.data);
  if (bytes === undefined) return `${name}: its "data" is not base64 (a character outside A-Z, a-z, 0-9, +, / and = padding): the file is damaged`;
  if (bytes !== 4 * count)
    return `${name} has shape [${(t.shape as number[]).join(', ')}] (${count} numbers) but its data holds ${bytes % 4 === 0 ? bytes / 4 : `${bytes} bytes, not whole float32 numbers`}: the file is damaged`;
  return undefined;
}

/** A whole number from `least` and below 2^53, beyond which a double no longer tells a count from the next. */
function countOutside(name: string, v: unknown, least: 0 | 1): string | undefined {
  if ((v as number) >= least && (v as number) <= Number.MAX_SAFE_INTEGER) return undefined;
  return `"${name}" must be a whole number, ${least} or more and below 2^53, not ${JSON.stringify(v)}: the file is damaged`;
}

function checkpointProblem(cp: unknown): string | undefined {
  if (!isObj(cp)) return `it holds ${Array.isArray(cp) ? 'a list' : JSON.stringify(cp)?.slice(0, 40)}, not an object`;
  if (cp.version === undefined) return 'it has no "version"';
  if (cp.version !== CHECKPOINT_VERSION)
    return `its "version" is ${JSON.stringify(cp.version)?.slice(0, 40)}, where this version of VAE Lens reads ${CHECKPOINT_VERSION}`;
  for (const k of ['epoch', 'step', 'dim', 'latentDim'] as const) if (!Number.isInteger(cp[k])) return `"${k}" must be a whole number`;
  // A resume continues from these and eval sizes its buffers by them: a damaged count must not get that far.
  const countProblem =
    countOutside('epoch', cp.epoch, 0) ?? countOutside('step', cp.step, 0) ?? countOutside('dim', cp.dim, 1) ?? countOutside('latentDim', cp.latentDim, 1);
  if (countProblem) return countProblem;
  if (cp.batchesDone !== undefined && !(Number.isInteger(cp.batchesDone) && (cp.batchesDone as number) >= 0))
    return `"batchesDone" must be a whole number of batches, 0 or more, not ${JSON.stringify(cp.batchesDone)}`;
  if ((cp.batchesDone as number | undefined) && !Number.isFinite(cp.lossSum))
    return `"lossSum" must be a finite number where "batchesDone" is given, not ${JSON.stringify(cp.lossSum)}`;
  if (typeof cp.modelType !== 'string') return '"modelType" must be a string';
  if (!isObj(cp.variables)) return '"variables" must be an object';
  for (const [name, t] of Object.entries(cp.variables)) {
    const p = tensorProblem(t, `variable ${name}`);
    if (p) return p;
  }
  if (cp.average !== undefined) {
    const a = cp.average;
    if (!isObj(a) || !isObj(a.variables)) return '"average" must be an object with "updates" and "variables"';
    if (!(Number.isInteger(a.updates) && (a.updates as number) >= 0))
      return `"average.updates" must be a whole number, 0 or more, not ${JSON.stringify(a.updates)}`;
    for (const [name, t] of Object.entries(a.variables)) {
      const p = tensorProblem(t, `the weight average's variable ${name}`);
      if (p) return p;
    }
  }
  if (cp.varianceEstimate !== undefined) {
    const v = cp.varianceEstimate;
    // [weight, ...sums]: the running mean's weight (0 before the first step, up to 1) and its squared-error sums.
    if (!Array.isArray(v) || v.length < 2 || !v.every((x) => Number.isFinite(x) && (x as number) >= 0) || (v[0] as number) > 1)
      return `"varianceEstimate" must be [weight, ...sums] of finite numbers, 0 or more, its weight at most 1, not ${JSON.stringify(v).slice(0, 60)}`;
  }
  if (cp.data !== undefined) {
    const d = cp.data;
    if (!isObj(d) || !Number.isInteger(d.n) || !Number.isInteger(d.dim) || typeof d.sha256 !== 'string')
      return '"data" must be an object with "n" and "dim" (whole numbers) and "sha256" (a string)';
    const dataProblem = countOutside('data.n', d.n, 1) ?? countOutside('data.dim', d.dim, 1);
    if (dataProblem) return dataProblem;
  }
  if (!Array.isArray(cp.optimizer)) return '"optimizer" must be an array';
  for (const [i, t] of cp.optimizer.entries()) {
    const p = tensorProblem(t, `optimizer entry ${i}`) ?? (typeof (t as { name?: unknown }).name === 'string' ? undefined : `optimizer entry ${i} has no name`);
    if (p) return p;
  }
  return undefined;
}

/** Load weights (and optimizer state, when given) into a freshly built model. */
export async function restoreCheckpoint(tf: Tf, cp: Checkpoint, vae: Vae, optimizer?: Optimizer, file = 'checkpoint'): Promise<void> {
  if (cp.dim !== vae.dim || cp.latentDim !== vae.spec.latentDim || cp.modelType !== vae.spec.type)
    throw new UserError(
      `${shownPath(file)} was made for ${cp.modelType} with D=${cp.dim}, H=${cp.latentDim}; the spec now asks for ${vae.spec.type} with D=${vae.dim}, H=${vae.spec.latentDim}`,
      { file },
    );
  for (const [name, v] of vae.namedVariables()) {
    const s = Object.hasOwn(cp.variables, name) ? cp.variables[name] : undefined;
    if (!s || s.shape.join('x') !== v.shape.join('x'))
      throw new UserError(
        `${shownPath(file)} has no variable ${name} of shape [${v.shape.join(', ')}]${s ? ` (it has [${s.shape.join(', ')}])` : ''}: the network changed since it was written`,
        { file },
      );
    const value = tf.tensor(finite(decode(s.data), `variable ${name}`, file), s.shape);
    // The variable takes a reference of its own to the data, not the tensor: free the tensor.
    v.assign(value);
    value.dispose();
  }
  // Adam before its first step holds its step count alone, 0: a checkpoint of then (a run stopped in its
  // first second) restores as the fresh optimizer it was.
  if (optimizer && !isUnstartedAdam(cp.optimizer)) {
    const problem = optimizerStateProblem(cp.optimizer, vae.trainableVariables());
    if (problem)
      throw new UserError(
        `${shownPath(file)}: its optimizer state does not fit the model (${problem}); the file is damaged or was written for another network`,
        { file },
      );
    if (cp.optimizer.length === 0) return;
    const steps = stepCount(finite(decode(cp.optimizer[0]!.data), 'optimizer entry 0', file), file);
    const weights = cp.optimizer.map((s, i) => ({
      name: s.name,
      tensor: i === 0 ? tf.scalar(steps) : tf.tensor(finite(decode(s.data), `optimizer entry ${i}`, file), s.shape),
    }));
    try {
      await optimizer.setWeights(weights);
      restoreAdamProducts(tf, optimizer, steps);
    } finally {
      // setWeights reads the count from the first and makes the moments variables of the others'
      // data, which take no ownership of the tensors: free them, the variables keep the data.
      tf.dispose(weights.map((w) => w.tensor));
    }
  }
}

/** The name tfjs gives Adam's step count, the optimizer state's first entry. */
const ITERATIONS = 'iter';

function isUnstartedAdam(entries: Checkpoint['optimizer']): boolean {
  return entries.length === 1 && entries[0]!.name === ITERATIONS && entries[0]!.shape.length === 0 && decode(entries[0]!.data)[0] === 0;
}

/**
 * Adam's step count from the first optimizer entry: a float32 whole number, as every tensor of a
 * checkpoint is float32. Earlier versions wrote the int32 tfjs hands out as it was, whose bits
 * read as float32 are a tiny fraction (a count of 28 reads 3.9e-44, which restored Adam's bias
 * correction as at its first step): those are read as the int32 they are.
 */
function stepCount(entry: Float32Array, file: string): number {
  const f = entry[0]!;
  if (Number.isInteger(f) && f >= 0) return f;
  const i = new Int32Array(entry.buffer, entry.byteOffset, 1)[0]!;
  if (f > 0 && f < 1 && i > 0) return i;
  throw new UserError(`${shownPath(file)}: optimizer entry 0 holds ${f}, where Adam's step count is a whole number, 0 or more: the file is damaged`, { file });
}

/** Weights with a NaN or an infinity would give dashes for every figure of eval, or a run that diverges at once: refuse them by name. */
function finite(values: Float32Array, what: string, file: string): Float32Array {
  const at = values.findIndex((v) => !Number.isFinite(v));
  if (at >= 0)
    throw new UserError(
      `${shownPath(file)}: ${what} holds ${values[at]} at position ${at}; these weights cannot be evaluated or trained on (the file is damaged, or the run diverged in the steps before it was written)`,
      { file },
    );
  return values;
}

/**
 * Adam's state is the step count, then a first and a second moment for each trainable variable in
 * the order the step updates them (none before the first step). tfjs takes any list, and a wrong
 * one fails later inside the engine, so it is checked here.
 */
function optimizerStateProblem(entries: Checkpoint['optimizer'], trainable: readonly { shape: readonly number[] }[]): string | undefined {
  if (entries.length === 0) return undefined;
  const K = trainable.length;
  if (entries.length !== 1 + 2 * K) return `${entries.length} entries, where ${K} variables take ${1 + 2 * K}: the step count and two moments each`;
  if (entries[0]!.shape.length !== 0) return `entry 0 has shape [${entries[0]!.shape.join(', ')}], where the step count is a scalar`;
  for (let i = 0; i < 2 * K; i++) {
    const want = trainable[i % K]!.shape;
    const got = entries[1 + i]!.shape;
    if (got.join('x') !== want.join('x'))
      return `entry ${1 + i} (${i < K ? 'first' : 'second'} moment of variable ${i % K}) has shape [${got.join(', ')}], where its variable has [${want.join(', ')}]`;
  }
  return undefined;
}
