/** Whether a run is still being written: process liveness and the status a viewer should show. Node only. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { RunMeta, RunStatus, RunSummary } from '../runFormat';
import { formatDuration } from '../wording';

/** The machine a writer records in run.json's `host` and in run.lock: a pid means something only there. */
export function thisHost(): string {
  return os.hostname();
}

/** Whether a process id was recorded on another machine (a run on a shared file system), where we cannot look it up. */
export function isOtherHost(host: string | undefined): host is string {
  return host !== undefined && host !== thisHost();
}

/** Is a process with this id alive (ours or anyone's)? */
export function isProcessAlive(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A writer that cannot be looked up (no pid, or another machine's) is judged by its files instead: silent for
 * STALE_AFTER_INTERVALS times the longest interval between its passes, and at least STALE_MIN_MS (file times
 * of a shared file system, a clock a few minutes off), it is taken to have ended without a word. With no pass
 * yet, how long one takes is unknown (loading data, compiling): STALE_NO_PASS_MS.
 */
export const STALE_AFTER_INTERVALS = 10;
export const STALE_MIN_MS = 30 * 60_000;
export const STALE_NO_PASS_MS = 6 * 3600_000;

/** What a run's files say of its writer's pace: when any of them was last written, and the longest interval between passes. */
export interface WriterActivity {
  lastWriteMs: number;
  /** Undefined before the first pass. */
  passIntervalSeconds: number | undefined;
}

/** When a silent writer of this pace is taken to have ended (ms since the epoch). */
export function staleAtMs(a: WriterActivity): number {
  const wait = a.passIntervalSeconds === undefined ? STALE_NO_PASS_MS : Math.max(STALE_MIN_MS, STALE_AFTER_INTERVALS * a.passIntervalSeconds * 1000);
  return a.lastWriteMs + wait;
}

/** The longest interval between passes read so far, and what the next pass's interval is counted from. */
export interface PassIntervalFold {
  longest: number | undefined;
  /** The last time read (0 before the first pass: the first interval is its time since the start). */
  previous: number;
  passes: number;
}

export const NO_PASSES: PassIntervalFold = { longest: undefined, previous: 0, passes: 0 };

/** `fold` with the passes after those it read (their wallSeconds, in order). */
export function foldPassIntervals(fold: PassIntervalFold, wallSeconds: readonly (number | null)[]): PassIntervalFold {
  let { longest, previous } = fold;
  for (const w of wallSeconds) {
    if (w === null || !Number.isFinite(w)) continue;
    if (w > previous) longest = Math.max(longest ?? 0, w - previous);
    previous = w;
  }
  return { longest, previous, passes: fold.passes + wallSeconds.length };
}

/** The longest interval a fold read: 0 for passes without usable times, undefined before the first pass. */
export const longestOfFold = (fold: PassIntervalFold): number | undefined => fold.longest ?? (fold.passes > 0 ? 0 : undefined);

/**
 * The longest interval between passes (seconds) that the records' wallSeconds show, the first pass's
 * time since the start included; a clock that went back (a resume) or a missing time makes up none.
 */
export function longestPassInterval(wallSeconds: readonly (number | null)[]): number | undefined {
  return longestOfFold(foldPassIntervals(NO_PASSES, wallSeconds));
}

/**
 * A run's status as a viewer should show it. A summary that still says "running"
 * while no process writes the run any more means the run was interrupted. A run written on
 * another machine (a cluster's shared file system) is taken at its word: its process cannot be
 * seen from here, and a pid of this machine's would say nothing about it. So is one whose run.json
 * names no pid (another writer's), or cannot be read at all, which leaves nothing to look up; but given its files' `activity`, either
 * is called interrupted (with a question mark) once it has been silent far longer than its passes take.
 */
export function effectiveStatus(
  meta: RunMeta | undefined,
  summary: RunSummary | undefined,
  aliveElsewhere: (pid: number | undefined) => boolean,
  activity?: WriterActivity,
  nowMs = Date.now(),
): { status: RunStatus; message?: string } {
  const status = summary?.status ?? 'running';
  if (status !== 'running') return { status, message: summary?.message };
  if (!isCheckable(meta, summary)) {
    const stale = activity === undefined ? undefined : staleness(activity, nowMs);
    if (stale !== undefined) return { status: 'stopped', message: stale };
  }
  if (isOtherHost(meta?.host)) return { status: 'running', message: summary?.message ?? `being written on ${meta.host}, as far as its summary says` };
  // Another writer need not name its process (pid is optional): with none to look up, its summary's word stands.
  if (meta !== undefined && meta.pid === undefined && summary !== undefined)
    return { status: 'running', message: summary.message ?? 'being written, as far as its summary says (its run.json names no writer process to check)' };
  // A run.json that cannot be read (a mistake made by hand, a write cut short) names no writer either: a typo does not end a run.
  if (meta === undefined && summary !== undefined)
    return { status: 'running', message: summary.message ?? 'being written, as far as its summary says (its run.json cannot be read to check its writer)' };
  if (aliveElsewhere(meta?.pid)) return { status: 'running', message: summary?.message };
  return { status: 'stopped', message: 'interrupted: the trainer is no longer running' };
}

/** Whether the writer's process can be looked up here: a pid of this machine's. */
export function isCheckable(meta: RunMeta | undefined, summary: RunSummary | undefined): boolean {
  if (isOtherHost(meta?.host)) return false;
  // No usable run.json (or none naming a process) beside a summary: there is no process to look up.
  return !(summary !== undefined && meta?.pid === undefined);
}

function staleness(a: WriterActivity, nowMs: number): string | undefined {
  if (nowMs <= staleAtMs(a)) return undefined;
  const why =
    a.passIntervalSeconds === undefined
      ? `over ${formatDuration(STALE_NO_PASS_MS / 1000)} with no record yet`
      : `over ${STALE_AFTER_INTERVALS} times its longest interval between passes (${formatDuration(a.passIntervalSeconds)})`;
  return `interrupted? no record or summary written for ${formatDuration((nowMs - a.lastWriteMs) / 1000)}, ${why}; its writer's process cannot be checked from here`;
}

/** How much later than run.json's last write its writer may seem to have started: coarse file times (1-2 s), a boot time in whole seconds. */
const START_SLACK_MS = 5000;

/** What a run's files say of the process that writes it. */
export interface WriterRecord {
  pid: number | undefined;
  /** Its `processStart` as the writer read it (absent in older runs and other writers'). */
  pidStart?: string;
  /** When the file naming it was last written (ms since the epoch), where known. */
  writtenMs?: number;
}

/**
 * Whether the process a run's files name still lives. A pid is reused once its process ends, so a live
 * pid proves nothing alone. A writer that recorded its `processStart` is that process only while the
 * pid's start reads the same: no clock enters, so a wall clock stepped while it runs (a virtual machine
 * paused or restored from a snapshot, a time sync) cannot end it. Without one (or with an empty one),
 * the pid is another program's if its process started after the file was written, which trusts the
 * wall clock. Where a start cannot be read, the pid is taken at its word.
 */
export function isWriterAlive(writer: WriterRecord): boolean {
  const { pid, pidStart, writtenMs } = writer;
  if (!isProcessAlive(pid)) return false;
  if (pidStart) {
    const now = processStart(pid!);
    return now === undefined || now === pidStart;
  }
  const started = writtenMs === undefined ? undefined : processStartMs(pid!);
  return started === undefined || started <= writtenMs! + START_SLACK_MS;
}

/**
 * A process's start as its machine counts it, `BOOT_ID:TICKS` (Linux's boot id and the clock ticks from
 * that boot to the process's start): with the pid, it names one process, whatever any clock says.
 * Undefined where the system does not tell (not Linux, a /proc that cannot be read).
 */
export function processStart(pid: number): string | undefined {
  const ticks = startTicks(pid);
  const boot = bootId();
  return ticks === undefined || boot === undefined ? undefined : `${boot}:${ticks}`;
}

let ownBootId: string | null | undefined;

/** This boot's id; it changes only when the machine starts again, so it is read once. */
function bootId(): string | undefined {
  if (ownBootId === undefined) {
    try {
      ownBootId = process.platform === 'linux' ? fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() || null : null;
    } catch {
      ownBootId = null;
    }
  }
  return ownBootId ?? undefined;
}

/** Field 22 of /proc/PID/stat: the process's start, in clock ticks since boot. */
function startTicks(pid: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // After the command name in parentheses (which may hold spaces and parentheses), field 3 on.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isInteger(ticks) && ticks >= 0 ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** When a process started, in ms since the epoch, where the system says (Linux's /proc); else undefined. */
export function processStartMs(pid: number): number | undefined {
  const ticks = startTicks(pid);
  if (ticks === undefined) return undefined;
  try {
    const bootSeconds = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'))?.[1]);
    return Number.isFinite(bootSeconds) ? bootSeconds * 1000 + (ticks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ, which /proc counts in: 100 on every architecture Linux runs VS Code on. */
const CLOCK_TICKS_PER_SECOND = 100;
