/**
 * One training run from a spec file to a finished run folder. Both front ends use it:
 * the CLI in-process, the editor through the trainer process (worker.ts). It reports
 * through the protocol's event types, whatever carries them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUserError, shownPath, UserError, type SourceLocation } from '../core/errors';
import { readHeadSync, readRegularFileSync } from '../core/safeRead';
import { encodingOf, UTF16_SNIFF_BYTES } from '../core/text';
import { PROTOCOL_VERSION, requestOptionName, type StartRequest } from '../core/protocol';
import { array, is } from '../core/guard';
import {
  parseMetricsJsonl,
  RUN_FILES,
  RUN_FORMAT_VERSION,
  sessionInfo,
  type MetricsRecord,
  type RunMeta,
  type SessionInfo,
  type RunStatus,
  type RunSummary,
} from '../core/runFormat';
import { READ_LIMITS, readRunJson } from '../core/run/files';
import { nearbyRunsHint } from '../core/run/nearbyRuns';
import { processStart, thisHost } from '../core/run/liveness';
import { MAX_SPEC_BYTES, parseSpec, parseSpecDocument, type ParsedSpec, type SpecDocument, type VaeSpec } from '../core/spec';
import { locateInSpec } from '../core/specParts/jsonc';
import { requestRunsDir } from '../core/specParts/outputPaths';
import type { ScaledDataset } from '../data/dataset';
import { loadData } from '../data/load';
import { chooseEngine } from './backend';
import { dataFingerprint, readCheckpoint, type Checkpoint } from './checkpoint';
import { learningRateAt, TrainingLoop } from './loop';
import { checkModelFits, planModel } from './modelSize';
import { RunWriter } from './runWriter';
import { runScriptSession } from './scriptSession';
import { ThreadFailure } from './threadPool';
import { threadCount } from './threads';
import { ABORTED_MESSAGE, type EventSink, type SessionControl } from './sessionHost';

export function readSpecFile(specPath: string): ParsedSpec {
  return parseSpec(readSpecText(specPath), specPath);
}

/** A model spec or a script spec (trainer.command). */
export function readSpecDocumentFile(specPath: string): SpecDocument {
  return parseSpecDocument(readSpecText(specPath), specPath);
}

function readSpecText(specPath: string): string {
  // Not a plain read: a FIFO named *.vae.json would block it forever, a huge file fill memory.
  const r = readRegularFileSync(specPath, MAX_SPEC_BYTES);
  if (!r.ok) {
    if (r.reason === 'missing') {
      // The ending left out or cut short: "swiss-roll", "swiss-roll.vae", "swiss-roll.json".
      const stem = specPath.replace(/(\.vae)?(\.json)?$/, '').replace(/\.$/, '');
      const meant = `${stem}.vae.json`;
      const hint = meant !== specPath && readRegularFileSync(meant, MAX_SPEC_BYTES).ok ? ` (did you mean ${shownPath(meant)}?)` : '';
      throw new UserError(`spec file not found: ${shownPath(specPath)}${hint}`, { file: specPath });
    }
    if (r.reason === 'too-large') {
      const size = r.detail.replace(/^it is ([^,]+),.*$/, '$1');
      throw new UserError(`${shownPath(specPath)} is ${size}; a spec is a small JSON file (at most 1 MiB). Is it the right file?`, { file: specPath });
    }
    throw new UserError(`cannot read the spec ${shownPath(specPath)}: ${r.detail}`, { file: specPath });
  }
  if (DATA_FILE_NAME.test(path.basename(specPath))) {
    const name = path.basename(specPath);
    const example = `{ "data": { "path": ${JSON.stringify(name)} }, "model": { "latentDim": 2 } }`;
    throw new UserError(
      `${shownPath(specPath)} is a data file, not a spec: train takes a *.vae.json spec that names the data in data.path, such as ${example} saved beside it as ${name.replace(/\..*$/, '')}.vae.json`,
      { file: specPath },
    );
  }
  return r.text;
}

/** Names of the data files VAE Lens reads, and of those it names as another tool's format: never a spec. */
const DATA_FILE_NAME = /(\.(csv|tsv|txt|npy|npz|gz|idx|jsonl|ndjson|parquet|feather|h5|hdf5|xlsx|xls|ods|pkl|pickle|mat|zip|tar)|-ubyte)$/i;

/** Run training to the end (or a stop); never throws: every outcome is reported through `emit`. */
export async function runSession(req: StartRequest, emit: EventSink, control: SessionControl): Promise<RunStatus> {
  let writer: RunWriter | undefined;
  /** Whether this session has written run.json: before that, a resumed run's files are as they were and stay so. */
  let wroteMeta = false;
  let summary: RunSummary = { status: 'running', epochsDone: 0, steps: 0, wallSeconds: 0 };
  const t0 = performance.now();
  /** The spec as parsed, to place problems found after parsing (a data file, a layer) at their field. */
  let specText: { file: string; text: string } | undefined;
  const finish = (status: RunStatus, message?: string) => {
    control.abort = undefined;
    summary = { ...summary, status, message, endedAt: new Date().toISOString(), wallSeconds: (performance.now() - t0) / 1000 };
    try {
      if (wroteMeta) writer?.writeSummary(summary);
    } catch (e) {
      // A full disk can refuse the summary too: the old one stays whole, and the outcome is still reported.
      emit({ type: 'log', level: 'warn', message: `the run's summary was not updated: ${(e as Error).message}` });
    } finally {
      writer?.close();
    }
  };
  try {
    const specPath = path.resolve(req.specPath);
    const resumeDir = req.resume ? path.resolve(req.resume) : undefined;
    // Parsed once: the editor's checked text when it sent one, else the file. A resumed run continues
    // with the spec it was started with (its snapshot).
    const doc = resumeDir
      ? ({ kind: 'model', parsed: readSnapshot(checkRunFolder(resumeDir)) } as const)
      : req.specText !== undefined
        ? parseSpecDocument(req.specText, specPath)
        : readSpecDocumentFile(specPath);
    // A spec that names trainer.command runs the user's script (train/scriptSession.ts).
    if (doc.kind === 'script') return await runScriptSession(req, doc.parsed, emit, control);
    const parsed = doc.parsed;
    const { spec } = parsed;
    // A resumed run's text is its snapshot, whose lines need not be the spec file's now.
    if (!resumeDir) specText = { file: specPath, text: parsed.text };
    for (const w of parsed.warnings) emit({ type: 'log', level: 'warn', message: `${w.location.field ?? ''}: ${w.message}` });

    const runs = requestRunsDir(req, spec, specPath);
    // A runs folder that cannot be one is said before the engine and the data take their time.
    if (!resumeDir) RunWriter.checkRunsDir(runs.dir, runs.from);
    const backendOption = requestOptionName(req, 'backend');
    const engine = await chooseEngine(
      req.backend ?? spec.training.backend,
      req.tfjsNodeSearchPaths ?? [process.cwd()],
      req.backend !== undefined
        ? { name: backendOption, location: { field: backendOption } }
        : { name: 'training.backend', location: { file: specPath, field: 'training.backend' } },
    );
    if (engine.warning) emit({ type: 'log', level: 'warn', message: engine.warning });
    const threads = engine.kernels ? threadCount(req.threads, spec.training.threads, req.reserveCores) : undefined;
    if (engine.kernels && threads !== undefined) await engine.kernels.setThreads(threads);
    else if ((req.threads ?? spec.training.threads) !== undefined)
      emit({
        type: 'log',
        level: 'warn',
        message: `the thread count (training.threads, --threads, vaeLens.threads) applies to the wasm engine only: ignored on the ${engine.name} engine`,
      });
    emit({ type: 'log', level: 'info', message: `engine: ${engine.name} (${engine.detail}${threads ? `, ${threads} thread${threads > 1 ? 's' : ''}` : ''})` });

    const data = await loadData(spec.data, specPath, { workspaceRoots: req.workspaceRoots, allowOutsideWorkspace: req.allowOutsideWorkspace });
    for (const note of data.notes ?? []) emit({ type: 'log', level: 'info', message: `${shownPath(data.train.source)}: ${note}` });
    checkModelFits(spec.model, data.train.dim, specPath, data.train.imageShape, Math.min(spec.training.batchSize, data.train.n));
    for (const w of planModel(spec.model, data.train.dim, data.train.imageShape, specPath).warnings)
      emit({ type: 'log', level: 'warn', message: `${shownPath(specPath)}: ${w.message}` });
    const epochs = req.epochs ?? spec.training.epochs;
    // Refuse a resume the checkpoint cannot serve before run.json and summary.json are rewritten.
    const resumeCheckpoint = resumeDir ? checkResumable(resumeDir, spec, data, { epochs, fromFlag: req.epochs !== undefined }, specPath) : undefined;
    if (resumeDir && resumeCheckpoint)
      for (const note of resumeNotes(previousMeta(resumeDir), spec, resumeCheckpoint, { epochs, source: data.train.source }, checkpointFile(resumeDir)))
        emit({ type: 'log', level: 'warn', message: note });
    writer = resumeDir ? RunWriter.reopen(resumeDir) : RunWriter.create(runs.dir, spec.name, parsed.text, new Date(), runs.from);
    const meta: RunMeta = {
      formatVersion: RUN_FORMAT_VERSION,
      name: spec.name,
      specPath,
      runsDir: path.dirname(writer.dir),
      startedAt: new Date().toISOString(),
      backend: engine.name,
      engineDetail: engine.detail,
      modelType: spec.model.type,
      latentDim: spec.model.latentDim,
      epochs,
      dataset: {
        n: data.train.n,
        dim: data.train.dim,
        imageShape: data.train.imageShape,
        source: data.train.source,
        validationN: data.validation?.n,
      },
      resumedFrom: resumeDir,
      pid: process.pid,
      pidStart: processStart(process.pid),
      host: thisHost(),
      threads,
    };
    const { startedAt, backend, engineDetail, pid, pidStart, host } = meta;
    const session = { startedAt, backend, engineDetail, threads, pid, pidStart, host, fromEpoch: resumeCheckpoint?.epoch ?? 0 };
    meta.sessions = [...(resumeDir ? previousMeta(resumeDir).sessions : []), session];
    const w = writer;
    control.abort = () => {
      summary = { ...summary, lastCheckpoint: fs.existsSync(w.checkpointPath()) ? w.checkpointPath() : undefined };
      finish('stopped', ABORTED_MESSAGE);
    };
    const start = () => {
      w.writeMeta(meta);
      wroteMeta = true;
      w.writeSummary(summary);
      emit({
        type: 'started',
        protocolVersion: PROTOCOL_VERSION,
        runDir: w.dir,
        backend: engine.name,
        dataset: meta.dataset,
        epochs,
        stepsPerEpoch: Math.ceil(data.train.n / spec.training.batchSize),
      });
    };
    // A new folder has nothing to lose; a resumed one is rewritten only once its checkpoint is restored.
    if (!resumeDir) start();
    const loop = new TrainingLoop({
      spec,
      engine,
      train: data.train,
      validation: data.validation,
      epochs,
      shouldStop: () => control.stopRequested,
      checkpointPath: w.checkpointPath(),
      resumeFrom: resumeDir ? w.checkpointPath() : undefined,
      resumeCheckpoint,
      previousRecords: resumeDir ? readPreviousRecords(resumeDir) : undefined,
      specPath: specText?.file,
      events: {
        progress: (p) => emit({ type: 'progress', ...p }),
        diagnostics: (record: MetricsRecord) => {
          w.appendMetrics(record);
          summary = {
            ...summary,
            last: record,
            epochsDone: record.epoch,
            steps: record.step,
            convergence: record.convergence,
            convergenceReason: record.convergenceReason,
          };
          emit({ type: 'diagnostics', record });
        },
        images: (images) => {
          w.writeImages(images);
          emit({ type: 'images', ...images });
        },
        log: (level, message) => emit({ type: 'log', level, message }),
      },
    });
    try {
      if (resumeDir) {
        await loop.restore();
        start();
      }
      const outcome = await loop.run();
      const lastCheckpoint = fs.existsSync(w.checkpointPath()) ? w.checkpointPath() : undefined;
      summary = { ...summary, epochsDone: outcome.epochsDone, steps: outcome.steps, lastCheckpoint };
      const message = outcome.status === 'diverged' ? outcome.message : undefined;
      finish(outcome.status, message);
      emit({ type: 'done', status: outcome.status, runDir: w.dir, message });
      return outcome.status;
    } finally {
      loop.dispose();
    }
  } catch (caught) {
    const e = specText && isUserError(caught) ? locatedInSpec(caught, specText) : caught;
    const user = isUserError(e);
    // A kernel thread's failure is the machine's, not a bug to debug from a stack: say what happened.
    const message = user ? e.message : e instanceof ThreadFailure ? `training failed: ${e.message}` : `internal error: ${(e as Error).stack ?? String(e)}`;
    finish('failed', message);
    emit({ type: 'error', message, location: user ? (e as UserError).location : undefined, userError: user, runDir: writer?.dir });
    if (user && (e as UserError).more.length > 0)
      for (const m of (e as UserError).more) emit({ type: 'error', message: m.message, location: m.location, userError: true, runDir: writer?.dir });
    return 'failed';
  }
}

/** The error with its locations in the spec (a data.path not found, a layer that does not fit) given a line and column. */
function locatedInSpec(e: UserError, spec: { file: string; text: string }): UserError {
  const at = (l: SourceLocation) => (l.file === spec.file ? locateInSpec(spec.text, l) : l);
  return new UserError(
    e.message,
    at(e.location),
    e.more.map((m) => ({ message: m.message, location: at(m.location) })),
  );
}

function readPreviousRecords(runDir: string): MetricsRecord[] {
  const r = readRegularFileSync(path.join(runDir, RUN_FILES.metrics), READ_LIMITS.metrics);
  return r.ok ? parseMetricsJsonl(r.text).records : [];
}

/** The folder to resume, once it is known to be a run folder: what it is instead, before its snapshot is read. */
function checkRunFolder(runDir: string): string {
  const refuse = (why: string, file = runDir) => new UserError(`cannot resume ${shownPath(runDir)}: ${why}`, { file });
  let stat;
  try {
    stat = fs.statSync(runDir);
  } catch {
    throw refuse('there is no such folder');
  }
  if (!stat.isDirectory()) throw refuse(`it is a file; --resume takes a run folder (the one holding run.json and checkpoints/)${nearbyRunsHint(runDir)}`);
  if (!fs.existsSync(path.join(runDir, RUN_FILES.meta))) throw refuse(`it is not a run folder (it has no ${RUN_FILES.meta})${nearbyRunsHint(runDir)}`);
  const before = previousMeta(runDir);
  // Other writers (the Python companion, a script of the user's) keep no checkpoint of this trainer's kind.
  if (before.trainer !== undefined)
    throw refuse(otherTrainer(`its ${RUN_FILES.meta} says it was written by ${before.trainer}`), path.join(runDir, RUN_FILES.meta));
  if (!fs.existsSync(path.join(runDir, RUN_FILES.spec)))
    throw refuse(`its spec snapshot ${RUN_FILES.spec} is missing, so what it trained is not known; start a new run`, path.join(runDir, RUN_FILES.spec));
  // Resuming rewrites run.json and appends records in this version's format: a newer one's run would be downgraded.
  const version = before.formatVersion;
  if (version !== undefined && version > RUN_FORMAT_VERSION)
    throw refuse(
      `it was written in run format ${version} by a newer version of VAE Lens; this one writes format ${RUN_FORMAT_VERSION} and would rewrite it in that. Resume it with the version that started it`,
      path.join(runDir, RUN_FILES.meta),
    );
  const metrics = path.join(runDir, RUN_FILES.metrics);
  const head = readHeadSync(metrics, UTF16_SNIFF_BYTES);
  if (head !== undefined && encodingOf(head) !== 'utf8')
    throw refuse(
      `its ${RUN_FILES.metrics} is saved as UTF-16 (an editor or another tool saved it so); resuming appends records in UTF-8, which would spoil the file. Save it as UTF-8 and resume again`,
      metrics,
    );
  return runDir;
}

const otherTrainer = (who: string) =>
  `${who}, not VAE Lens's own trainer, whose checkpoints --resume continues; resume it as its own training script does, or start a new run`;

/** The run's spec snapshot, a model spec: a training script's run is continued by the script, not resumed. */
function readSnapshot(runDir: string): ParsedSpec {
  const file = path.join(runDir, RUN_FILES.spec);
  const doc = readSpecDocumentFile(file);
  if (doc.kind === 'script')
    throw new UserError(`cannot resume ${shownPath(runDir)}: ${otherTrainer(`it ran a training script (trainer.command in its ${RUN_FILES.spec})`)}`, { file });
  return doc.parsed;
}

/** The one session a run.json from before sessions were recorded describes with its own fields (the first, unless it was resumed). */
function sessionOf(meta: Partial<Record<keyof RunMeta, unknown>>): SessionInfo | undefined {
  const { startedAt, backend, engineDetail, threads, pid, host } = meta;
  const session = { startedAt, backend, engineDetail, threads, pid, host, fromEpoch: meta.resumedFrom === undefined ? 0 : undefined };
  return is(sessionInfo, session) ? (JSON.parse(JSON.stringify(session)) as SessionInfo) : undefined;
}

/** What a resume reads of the run's run.json before rewriting it, each where it can be read (what else is wrong with the file is for later checks to say). */
function previousMeta(runDir: string): { formatVersion?: number; epochs?: number; source?: string; trainer?: string; sessions: SessionInfo[] } {
  const r = readRegularFileSync(path.join(runDir, RUN_FILES.meta), READ_LIMITS.small);
  if (!r.ok) return { sessions: [] };
  const read = readRunJson(r.text);
  const v = 'value' in read && typeof read.value === 'object' && read.value !== null ? (read.value as Partial<Record<keyof RunMeta, unknown>>) : {};
  const dataset = typeof v.dataset === 'object' && v.dataset !== null ? (v.dataset as { source?: unknown }) : {};
  return {
    formatVersion: typeof v.formatVersion === 'number' ? v.formatVersion : undefined,
    epochs: Number.isInteger(v.epochs) ? (v.epochs as number) : undefined,
    source: typeof dataset.source === 'string' ? dataset.source : undefined,
    trainer: typeof v.trainer === 'string' ? v.trainer : undefined,
    // A run.json from before sessions were recorded describes its one session itself.
    sessions: is(array(sessionInfo), v.sessions) ? v.sessions : [sessionOf(v)].filter((x): x is SessionInfo => x !== undefined),
  };
}

/**
 * What a resume that is allowed changes, said before it trains: its data read from another place
 * (their values are checked to be the same), and a cosine schedule spread over more or fewer
 * epochs than it was, whose rate then jumps where the run goes on. A checkpoint of a version from
 * before the data fingerprint cannot have its data checked, which is said too.
 */
function resumeNotes(
  before: { epochs?: number; source?: string },
  spec: VaeSpec,
  cp: Checkpoint,
  now: { epochs: number; source: string },
  cpFile: string,
): string[] {
  const notes: string[] = [];
  if (!cp.data)
    notes.push(
      `${shownPath(cpFile)} holds no fingerprint of its data (an earlier version wrote it), so this resume cannot check that ${shownPath(now.source)} ` +
        'gives the values it was trained on; if they changed, start a new run. Its next checkpoint records them',
    );
  if (before.source !== undefined && before.source !== now.source)
    notes.push(
      `the run's data are now read from ${shownPath(now.source)} (it was trained on ${shownPath(before.source)}${cp.data ? ', the same values' : ''})`,
    );
  const planned = before.epochs ?? spec.training.epochs;
  const next = cp.epoch + 1;
  const rate = (lr: number) => Number(lr.toPrecision(3));
  const [was, will] = [rate(learningRateAt(spec, Math.min(next, planned), planned)), rate(learningRateAt(spec, next, now.epochs))];
  if (spec.training.schedule === 'cosine' && planned !== now.epochs && was !== will)
    notes.push(
      `training.schedule "cosine" spans the epochs planned, now ${now.epochs} where the run was planned for ${planned}: epoch ${next} trains at the learning rate ${will}, ` +
        `where the schedule it was trained on gave ${was}${next > planned ? ` (its last epoch's)` : ''}`,
    );
  return notes;
}

const checkpointFile = (runDir: string) => path.join(runDir, RUN_FILES.checkpoints, 'latest.json');

/**
 * The run's checkpoint (when it has one yet) must fit the model and data of this resume, and leave
 * epochs to train. A run that has passes after epoch 0 but no checkpoint has lost its weights:
 * starting it again from epoch 0 would bury its history under a new one.
 */
function checkResumable(
  runDir: string,
  spec: VaeSpec,
  data: { train: ScaledDataset; validation?: ScaledDataset },
  asked: { epochs: number; fromFlag: boolean },
  specPath: string,
): Checkpoint | undefined {
  const dim = data.train.dim;
  const file = checkpointFile(runDir);
  if (!fs.existsSync(file)) {
    const trained = readPreviousRecords(runDir).reduce((a, r) => Math.max(a, r.epoch), 0);
    if (trained > 0)
      throw new UserError(
        `cannot resume ${shownPath(runDir)}: it has passes up to epoch ${trained} but no checkpoint (${path.relative(runDir, file)} is missing), so its weights are lost. ` +
          'Its records are kept as they are; start a new run to train again.',
        { file },
      );
    return undefined;
  }
  const cp = readCheckpoint(file);
  if (asked.epochs <= cp.epoch)
    throw new UserError(
      `cannot resume ${shownPath(runDir)}: its checkpoint is at epoch ${cp.epoch} and the run is asked for ${asked.epochs} epochs${asked.fromFlag ? ' (--epochs)' : ''}, so there is nothing left to train. ` +
        `Give more epochs (--epochs, above ${cp.epoch}) to continue it.`,
      // Without the flag the number is the run's own spec snapshot's.
      asked.fromFlag ? { file: runDir } : { file: path.join(runDir, RUN_FILES.spec), field: 'training.epochs' },
    );
  if (cp.dim !== dim || cp.latentDim !== spec.model.latentDim || cp.modelType !== spec.model.type)
    throw new UserError(
      `cannot resume ${shownPath(runDir)}: it was trained as ${cp.modelType} on data of dimension ${cp.dim} with ${cp.latentDim} latents, ` +
        `but the data now has dimension ${dim} (${spec.model.type}, ${spec.model.latentDim} latents). Resume with the data it was trained on, or start a new run.`,
      { file: specPath, field: 'data' },
    );
  const now = cp.data && dataFingerprint(data.train, data.validation);
  if (cp.data && now && now.sha256 !== cp.data.sha256)
    throw new UserError(
      `cannot resume ${shownPath(runDir)}: its data changed since it was trained on ${cp.data.n} rows of dimension ${cp.data.dim}: ` +
        `${shownPath(data.train.source)} now gives ${now.n === cp.data.n ? `${now.n} rows of other values` : `${now.n} rows`} (after data.scale and the validation split). ` +
        'Resume with the data it was trained on, or start a new run.',
      { file: specPath, field: 'data' },
    );
  return cp;
}
