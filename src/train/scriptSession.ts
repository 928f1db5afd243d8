/**
 * A run of the user's own training script (a spec with `trainer.command`, core/scriptSpec.ts):
 * make the run folder, start the command with the folder in VAE_LENS_RUN_DIR, pass its output on
 * as log lines, follow what it writes (records, images, its run.json) as the trainer protocol's
 * events, and on Stop send SIGINT, then SIGKILL after the grace period. The same events drive the
 * editor (through the trainer process) and `vae-lens train` (in-process), as for the built-in trainer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUserError, shellWord, shownPath, UserError } from '../core/errors';
import { PROTOCOL_VERSION, type StartRequest } from '../core/protocol';
import {
  addRecord,
  parseRunJson,
  RUN_FILES,
  RUN_FORMAT_VERSION,
  RUN_STATUSES,
  type MetricsRecord,
  type RunMeta,
  type RunStatus,
  type RunSummary,
} from '../core/runFormat';
import { hasRunStatus, READ_LIMITS, runImagesOf } from '../core/run/files';
import { runMetaOf, runSummaryOf } from '../core/run/read';
import { readRegularFileSync } from '../core/safeRead';
import { processStart, thisHost } from '../core/run/liveness';
import { RunJudge, runSettingsOf } from '../core/run/settings';
import { MetricsTail } from '../core/run/tail';
import { POINTS_ENV, RUN_DIR_ENV, SAMPLES_ENV, SPEC_ENV, type ParsedScriptSpec } from '../core/scriptSpec';
import { pathSpellingHint } from '../core/pathHints';
import { killProcessTree, signalQuietly } from '../core/processTree';
import { requestRunsDir } from '../core/specParts/outputPaths';
import { RunWriter } from './runWriter';
import { ABORTED_MESSAGE, type EventSink, type SessionControl } from './sessionHost';

const POLL_MS = 300;
/** How long the script's output is still read after it exited, for processes it left holding it open. */
const OUTPUT_DRAIN_MS = 1000;
/** `started` waits for the script's own run.json (model, data, epochs), at most this long. */
const ANNOUNCE_AFTER_MS = 8000;
/** Output lines kept for the message of a failed run. */
const TAIL_LINES = 12;
/** `vae-lens train --epochs N` reaches the script as this variable (the script decides what it means). */
export const EPOCHS_ENV = 'VAE_LENS_EPOCHS';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: NodeJS.ErrnoException;
}

/** The package shipped beside dist/ (repository and .vsix): importable by the script without pip. */
function bundledPythonPath(): string | undefined {
  const dir = path.join(__dirname, '..', 'python');
  return fs.existsSync(path.join(dir, 'vae_lens', '__init__.py')) ? dir : undefined;
}

export async function runScriptSession(req: StartRequest, parsed: ParsedScriptSpec, emit: EventSink, control: SessionControl): Promise<RunStatus> {
  const spec = parsed.spec;
  const specPath = path.resolve(req.specPath);
  for (const w of parsed.warnings) emit({ type: 'log', level: 'warn', message: `${w.location.field ?? ''}: ${w.message}` });
  const cwd = spec.trainer.cwd ? path.resolve(path.dirname(specPath), spec.trainer.cwd) : path.dirname(specPath);
  if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory())
    throw new UserError(`trainer.cwd: ${shownPath(cwd)} is not a folder${spec.trainer.cwd ? pathSpellingHint(spec.trainer.cwd, path.dirname(specPath)) : ''}`, {
      file: specPath,
      field: 'trainer.cwd',
    });
  const runs = requestRunsDir(req, spec, specPath);
  const writer = RunWriter.create(runs.dir, spec.name, parsed.text, new Date(), runs.from);
  const [program, ...args] = spec.trainer.command as [string, ...string[]];
  const t0 = performance.now();
  let meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    name: spec.name,
    specPath,
    runsDir: path.dirname(writer.dir),
    startedAt: new Date().toISOString(),
    backend: `script (${path.basename(program)})`,
    modelType: 'script',
    latentDim: 0,
    epochs: req.epochs ?? 0,
    dataset: { n: 0, dim: 0, source: spec.trainer.command.join(' ') },
    trainer: 'script',
    tolerance: spec.diagnostics.tolerance,
    window: spec.diagnostics.window,
  };
  writer.writeMeta(meta);
  writer.writeSummary({ status: 'running', epochsDone: 0, steps: 0, wallSeconds: 0 });

  const pythonPath = [process.env.PYTHONPATH, bundledPythonPath()].filter((p): p is string => !!p).join(path.delimiter);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...spec.trainer.env,
    [RUN_DIR_ENV]: writer.dir,
    [SPEC_ENV]: specPath,
    PYTHONUNBUFFERED: '1',
    ...(pythonPath ? { PYTHONPATH: pythonPath } : {}),
    ...(req.epochs !== undefined ? { [EPOCHS_ENV]: String(req.epochs) } : {}),
    ...(spec.diagnostics.mcSamples !== undefined ? { [SAMPLES_ENV]: String(spec.diagnostics.mcSamples) } : {}),
    ...(spec.diagnostics.subset !== undefined ? { [POINTS_ENV]: String(spec.diagnostics.subset) } : {}),
  };
  emit({ type: 'log', level: 'info', message: `running ${spec.trainer.command.map(shellWord).join(' ')} in ${shownPath(cwd)}` });
  // Its own process group: a Ctrl-C in the terminal reaches `vae-lens train`, which passes one SIGINT on.
  const child = spawn(program, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
  const exited = new Promise<Exit>((resolve) => {
    child.on('error', (e: NodeJS.ErrnoException) => resolve({ code: null, signal: null, spawnError: e }));
    // 'exit', not 'close': a process the script started may hold its output open long after it ended.
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const outputClosed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const killOnExit = () => killScript(child, { wait: true });
  process.on('exit', killOnExit);
  const output = new OutputTail(emit);
  output.pipe(child.stdout);
  output.pipe(child.stderr);
  if (child.pid !== undefined) {
    meta = { ...meta, pid: child.pid, pidStart: processStart(child.pid), host: thisHost() };
    writer.writeMeta(meta);
  }
  const follower = new RunFollower(writer.dir, meta, emit);
  let stopSentAt: number | undefined;
  let result: Exit | undefined;
  // A SIGTERM after Stop (the editor's trainer process escalating, or a second signal in a terminal) must not
  // leave the script running in its own process group: kill it now, so the run folder still gets its summary.
  const onTerm = () => stopSentAt !== undefined && killScript(child);
  process.on('SIGTERM', onTerm);
  // Whatever ends this session early (a spawn that failed, an error while following) ends the script
  // with it and leaves a summary that says failed, not one that says running for ever.
  let summaryWritten = false;
  control.abort = () => {
    control.abort = undefined;
    killScript(child);
    summaryWritten = true;
    writeEndSummary(writer, t0, follower, 'stopped', ABORTED_MESSAGE);
  };
  try {
    while (!result) {
      result = await Promise.race([exited, sleep(POLL_MS).then(() => undefined)]);
      await follower.poll(performance.now() - t0 > ANNOUNCE_AFTER_MS || result !== undefined);
      if (control.stopRequested && stopSentAt === undefined && !result) {
        stopSentAt = performance.now();
        const how =
          process.platform === 'win32'
            ? 'ending the script and what it started (Windows has no SIGINT to send)'
            : `SIGINT sent to the script (pid ${child.pid}); killed after ${spec.trainer.stopGraceSeconds}s`;
        emit({ type: 'log', level: 'info', message: `stopping: ${how}` });
        interrupt(child);
      }
      if (stopSentAt !== undefined && !result && performance.now() - stopSentAt > spec.trainer.stopGraceSeconds * 1000) {
        emit({ type: 'log', level: 'warn', message: `the script did not exit within ${spec.trainer.stopGraceSeconds}s of SIGINT; killing it` });
        killScript(child);
        stopSentAt = Infinity; // once
      }
    }
    // After Stop nothing the script started may outlive the run. Otherwise what it left running is its
    // own business, but its output is read only for a moment longer, or the run would wait for it.
    if (stopSentAt !== undefined) killScript(child);
    await Promise.race([outputClosed, sleep(OUTPUT_DRAIN_MS)]);
    child.stdout.destroy();
    child.stderr.destroy();
    await follower.poll(true);

    if (result.spawnError) {
      const e = result.spawnError;
      const why = e.code === 'ENOENT' ? `${shownPath(program)} was not found (is it installed and on PATH?)` : `${e.code ?? e.message}`;
      throw new UserError(`cannot start the training script: ${why}`, { file: specPath, field: 'trainer.command' });
    }
    const { status, message } = outcome(result, stopSentAt !== undefined, follower, output);
    const base: RunSummary = follower.scriptSummary() ?? { status: 'running', epochsDone: 0, steps: 0, wallSeconds: 0 };
    const last = follower.last ?? base.last;
    writer.writeSummary({
      ...base,
      status,
      message,
      endedAt: new Date().toISOString(),
      wallSeconds: Math.max(base.wallSeconds, (performance.now() - t0) / 1000),
      ...(last ? { last, epochsDone: last.epoch, steps: last.step, convergence: last.convergence, convergenceReason: last.convergenceReason } : {}),
    });
    summaryWritten = true;
    control.abort = undefined;
    writer.close();
    // A failure's full text (with the script's last lines) is the error; `done` carries its first line.
    if (status === 'failed') emit({ type: 'error', message: message ?? 'the training script failed', userError: false, runDir: writer.dir });
    emit({ type: 'done', status, runDir: writer.dir, message: status === 'failed' ? message?.split('\n')[0] : message });
    return status;
  } catch (e) {
    killScript(child);
    if (!summaryWritten) writeFailedSummary(writer, t0, follower, e);
    throw e;
  } finally {
    control.abort = undefined;
    process.off('exit', killOnExit);
    process.off('SIGTERM', onTerm);
  }
}

/** The summary of a session that ended on an error, before the script's outcome was known; never a second error. */
function writeFailedSummary(writer: RunWriter, t0: number, follower: RunFollower, e: unknown): void {
  const message = isUserError(e) ? e.message : `internal error while following the script: ${(e as Error).message ?? String(e)}`;
  writeEndSummary(writer, t0, follower, 'failed', message);
}

/** The summary of a session ended before the script's outcome was known, and the folder unlocked; never an error. */
function writeEndSummary(writer: RunWriter, t0: number, follower: RunFollower, status: RunStatus, message: string): void {
  const last = follower.last;
  try {
    writer.writeSummary({
      status,
      message,
      endedAt: new Date().toISOString(),
      epochsDone: last?.epoch ?? 0,
      steps: last?.step ?? 0,
      wallSeconds: (performance.now() - t0) / 1000,
      ...(last ? { last } : {}),
    });
  } catch {
    // A full disk: the summary that says running stays, and the error is still reported.
  } finally {
    writer.close();
  }
}

/** The run's status from how the script ended, what it said in summary.json, and whether it wrote records. */
function outcome(exit: Exit, stopSent: boolean, follower: RunFollower, output: OutputTail): { status: RunStatus; message?: string } {
  const scriptStatus = follower.scriptStatus();
  const how = exit.signal ? `was ended by ${exit.signal}` : `exited with code ${exit.code}`;
  if (stopSent) return { status: scriptStatus === 'completed' ? 'completed' : 'stopped', message: `the script ${how} after Stop` };
  if (exit.code !== 0) return { status: 'failed', message: `the training script ${how}${output.describe()}` };
  if (follower.records === 0)
    return {
      status: 'failed',
      message: `the training script ended without writing a diagnostics record (does it call vae_lens.Diagnostics(...).diagnose after an epoch?)${output.describe()}`,
    };
  if (scriptStatus === 'failed' || scriptStatus === 'diverged') return { status: scriptStatus, message: follower.scriptMessage() };
  if (scriptStatus === 'stopped') return { status: 'stopped', message: follower.scriptMessage() };
  return { status: 'completed' };
}

/** Stop's first word to the script: SIGINT, as a Ctrl-C would send, to the script alone (torchrun passes it on to its ranks). */
function interrupt(child: ChildProcess): void {
  // Windows has no SIGINT to send: Node would end the script abruptly and leave its workers running.
  if (process.platform === 'win32') killScript(child);
  else if (child.pid !== undefined) signalQuietly(child.pid, 'SIGINT');
}

/** The script and every process it started: it leads its own process group (spawned detached). */
function killScript(child: ChildProcess, how: { wait?: boolean } = {}): void {
  if (child.pid !== undefined) killProcessTree(child.pid, { group: true, ...how });
}

/** Follows the run folder the script writes: records, images, and the script's own run.json. */
class RunFollower {
  private readonly tail: MetricsTail;
  private imagesMtime = 0;
  private announced = false;
  /** Every record so far, for the convergence rule. */
  private readonly history: MetricsRecord[] = [];
  private readonly judge = new RunJudge();
  private shownEpochs: number;
  private shownBackend: string;
  records = 0;
  last: MetricsRecord | undefined;

  constructor(
    private readonly dir: string,
    private meta: RunMeta,
    private readonly emit: EventSink,
  ) {
    this.tail = new MetricsTail(path.join(dir, RUN_FILES.metrics));
    this.shownEpochs = meta.epochs;
    this.shownBackend = meta.backend;
  }

  /** `announce`: say `started` now even if the script has not written its run.json yet. */
  async poll(announce = false): Promise<void> {
    // As the viewers read it: a field the script left out, or wrote as another kind, keeps the session's value.
    const file = path.join(this.dir, RUN_FILES.meta);
    const m = runMetaOf(readJson(file), file);
    if (m) this.meta = { ...this.meta, ...m };
    const scriptWrote = this.meta.trainer !== 'script';
    const records = await this.tail.readNew();
    const first = !this.announced && (scriptWrote || announce || records.length > 0);
    // Once announced, a run.json that now says what the script trains is announced again (the progress shows epoch k of N).
    const changed = this.announced && ((this.meta.epochs !== this.shownEpochs && this.meta.epochs > 0) || this.meta.backend !== this.shownBackend);
    if (first || changed) {
      this.announced = true;
      this.shownEpochs = this.meta.epochs;
      this.shownBackend = this.meta.backend;
      this.emit({
        type: 'started',
        protocolVersion: PROTOCOL_VERSION,
        runDir: this.dir,
        backend: this.meta.backend,
        dataset: this.meta.dataset,
        epochs: this.meta.epochs,
        stepsPerEpoch: 0,
      });
    }
    for (const written of records) {
      this.records++;
      // The script writes no verdict: judge with the one rule (core/convergence.ts), as the viewers do.
      const replaced = addRecord(this.history, written);
      const verdict = written.convergence === undefined ? this.judge.next(this.history, runSettingsOf(this.meta, undefined, written), replaced) : undefined;
      const record: MetricsRecord = verdict ? { ...written, convergence: verdict.state, convergenceReason: verdict.reason } : written;
      this.last = record;
      this.emit({ type: 'diagnostics', record });
      const epochs = this.meta.epochs;
      // A restart's clock (torchrun's) starts again at 0 where the run's epochs go on: its pace is over its own epochs.
      const from = this.meta.sessions?.at(-1)?.fromEpoch ?? 0;
      const perEpoch = record.epoch > from ? finite(record.wallSeconds) / (record.epoch - from) : 0;
      this.emit({
        type: 'progress',
        epoch: epochs > 0 ? Math.min(record.epoch + 1, epochs) : record.epoch + 1,
        epochFraction: epochs > 0 && record.epoch >= epochs ? 1 : 0,
        step: record.step,
        samplesPerSec: finite(record.samplesPerSec),
        etaSeconds: epochs > 0 ? Math.max(0, epochs - record.epoch) * perEpoch : 0,
        loss: finite(record.trainLoss),
      });
    }
    this.pollImages();
  }

  private pollImages(): void {
    const file = path.join(this.dir, RUN_FILES.images);
    let mtime: number;
    try {
      mtime = fs.statSync(file).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.imagesMtime) return;
    const raw = readJson(file, READ_LIMITS.images);
    // Not JSON (yet): a writer that does not replace the file whole may be halfway through it.
    if (raw === undefined) return;
    this.imagesMtime = mtime;
    const { images, problem } = runImagesOf(raw);
    if (images) this.emit({ type: 'images', ...images });
    else this.emit({ type: 'log', level: 'warn', message: `${RUN_FILES.images} was not shown: ${problem}` });
  }

  /** The script's own summary.json, as the viewers read it (a count it left out is the records'). */
  scriptSummary(): RunSummary | undefined {
    const file = path.join(this.dir, RUN_FILES.summary);
    return runSummaryOf(readJson(file), file, undefined, this.last);
  }

  /** The status the script's summary.json gives, when it is one this version knows. */
  scriptStatus(): RunStatus | undefined {
    const raw = readJson(path.join(this.dir, RUN_FILES.summary));
    return hasRunStatus(raw) && (RUN_STATUSES as readonly string[]).includes(raw.status) ? (raw.status as RunStatus) : undefined;
  }

  scriptMessage(): string | undefined {
    return this.scriptSummary()?.message;
  }
}

/** Passes the script's output on line by line, keeping the last lines for a failure message. */
class OutputTail {
  private readonly lines: string[] = [];

  constructor(private readonly emit: EventSink) {}

  pipe(stream: NodeJS.ReadableStream | null): void {
    if (!stream) return;
    let buffered = '';
    stream.setEncoding('utf8');
    const take = (line: string) => {
      // Progress bars redraw with \r: keep what the line finally says.
      const text = line.replace(/\r$/, '').split('\r').pop() ?? '';
      if (!text.trim()) return;
      this.lines.push(text);
      if (this.lines.length > TAIL_LINES) this.lines.shift();
      this.emit({ type: 'log', level: 'info', message: text });
    };
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      parts.forEach(take);
    });
    stream.on('end', () => {
      if (buffered) take(buffered);
      buffered = '';
    });
  }

  describe(): string {
    return this.lines.length > 0 ? `; its last output:\n${this.lines.join('\n')}` : ' (it printed nothing)';
  }
}

/**
 * A JSON file of the script's run folder, read as the viewers read it (readRegularFileSync): a
 * byte-order mark before it is not part of it, Python's bare NaN is a null, and a FIFO or an oversized
 * file is not waited on.
 */
function readJson(file: string, limit: number = READ_LIMITS.small): unknown {
  const r = readRegularFileSync(file, limit);
  if (!r.ok) return undefined;
  return parseRunJson(r.text);
}

const finite = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
