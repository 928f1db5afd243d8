/**
 * The editor's side of the trainer protocol: one trainer process per spec (a spec runs
 * at most once at a time; several specs may train at once). Everything the trainers say
 * is re-emitted with the process it came from, so the panel, the status bar, the
 * progress notification and the runs view can each listen for what they need.
 */
import * as fs from 'node:fs';
import type { FromTrainer, StartRequest } from '../../core/protocol';
import { Emitter, type Subscription } from '../emitter';
import { samePath } from '../../core/run/paths';
import { TrainerProcess, type TrainerPriority } from './trainerProcess';

export interface TrainerEvent {
  trainer: TrainerProcess;
  event: FromTrainer;
}

export interface TrainerClientOptions {
  trainerPath: string;
  log: (line: string) => void;
  stopGraceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export class AlreadyTrainingError extends Error {
  constructor(readonly specPath: string) {
    super(`${specPath} is already training`);
  }
}

/** What stopAll gives a trainer between SIGTERM and SIGKILL (within the 5 s the extension host grants deactivate). */
const TERM_GRACE_MS = 500;

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
  });

interface FileIdentity {
  dev: number;
  ino: number;
}

function fileIdentity(file: string): FileIdentity | undefined {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? { dev: st.dev, ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}

const sameFile = (a: FileIdentity | undefined, b: FileIdentity): boolean => a !== undefined && a.dev === b.dev && a.ino === b.ino;

export class TrainerClient {
  private readonly trainers = new Map<string, TrainerProcess>();
  /** The file each trainer's spec was when it started, to know it again renamed or moved (the same file keeps its identity). */
  private readonly specFiles = new Map<TrainerProcess, FileIdentity>();
  private readonly events = new Emitter<TrainerEvent>();
  private readonly changes = new Emitter<void>();

  constructor(private readonly opts: TrainerClientOptions) {}

  /** Every message of every trainer (already validated). */
  onEvent(listener: (e: TrainerEvent) => void): Subscription {
    return this.events.on(listener);
  }

  /** A trainer started or exited. */
  onDidChangeTrainers(listener: () => void): Subscription {
    return this.changes.on(listener);
  }

  /** `name` is how the trainer's log lines name the spec (its file name unless told). */
  start(
    request: StartRequest,
    priority: TrainerPriority = 'below-normal',
    name = request.specPath.replace(/\\/g, '/').split('/').pop() ?? request.specPath,
  ): TrainerProcess {
    if (this.forSpec(request.specPath)) throw new AlreadyTrainingError(request.specPath);
    const trainer = new TrainerProcess({
      trainerPath: this.opts.trainerPath,
      request,
      log: (line) => this.opts.log(`[${name}] ${line}`),
      stopGraceMs: this.opts.stopGraceMs,
      env: this.opts.env,
      priority,
    });
    this.trainers.set(request.specPath, trainer);
    const identity = fileIdentity(request.specPath);
    if (identity) this.specFiles.set(trainer, identity);
    trainer.onEvent((event) => this.events.fire({ trainer, event }));
    void trainer.whenExited().then(() => {
      if (this.trainers.get(request.specPath) === trainer) this.trainers.delete(request.specPath);
      this.specFiles.delete(trainer);
      this.changes.fire();
    });
    this.changes.fire();
    return trainer;
  }

  /** The trainer of this spec: started for this path, or for a path the same file had before it was renamed or moved. */
  forSpec(specPath: string): TrainerProcess | undefined {
    for (const [p, t] of this.trainers) if (samePath(p, specPath)) return t;
    const moved = [...this.trainers].filter(([p, t]) => this.specFiles.has(t) && !sameFile(fileIdentity(p), this.specFiles.get(t)!));
    if (moved.length === 0) return undefined;
    const here = fileIdentity(specPath);
    for (const [, t] of moved) if (sameFile(here, this.specFiles.get(t)!)) return t;
    return undefined;
  }

  forRun(runDir: string): TrainerProcess | undefined {
    for (const t of this.trainers.values()) if (t.runDir && samePath(t.runDir, runDir)) return t;
    return undefined;
  }

  all(): TrainerProcess[] {
    return [...this.trainers.values()];
  }

  get isTraining(): boolean {
    return this.trainers.size > 0;
  }

  async stop(specPath: string): Promise<void> {
    await this.forSpec(specPath)?.stop();
  }

  /**
   * Stop every trainer; those that do not finish within `maxWaitMs` get SIGTERM and, TERM_GRACE_MS
   * later, SIGKILL. The extension's deactivate: the trainers write their summaries and checkpoints
   * before the extension host exits. The SIGTERM is for a trainer running the user's script, which
   * lives in a process group of its own: on it the trainer kills the script's group (already sent
   * SIGINT by the stop), which a SIGKILL of the trainer alone would leave running.
   */
  async stopAll(maxWaitMs: number): Promise<void> {
    const all = this.all();
    if (all.length === 0) return;
    const stopped = Promise.all(all.map((t) => t.stop()));
    await Promise.race([stopped, delay(maxWaitMs)]);
    const left = all.filter((t) => !t.exited);
    if (left.length === 0) return;
    for (const t of left) t.terminate();
    await Promise.race([Promise.all(left.map((t) => t.whenExited())), delay(TERM_GRACE_MS)]);
    for (const t of left) t.kill();
  }

  /** Release the listeners; trainers still running are asked to stop, never killed (that is stopAll's, after its wait). */
  dispose(): void {
    for (const t of this.trainers.values()) t.dispose();
    this.trainers.clear();
    this.events.dispose();
    this.changes.dispose();
  }
}
