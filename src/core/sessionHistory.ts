/**
 * A run's sessions (the first process that trained it and each resume, from run.json's `sessions`) as
 * the readers show them: which epochs each trained, where, on what, and how long an epoch took it.
 * Pure and free of Node, for the CLI, the extension host and the webview.
 */
import type { MetricsRecord, SessionInfo } from './runFormat';

export interface SessionSpan {
  /** 1 for the first session. */
  number: number;
  startedAt: string;
  backend: string;
  threads?: number;
  host?: string;
  /** The epoch it started from (its checkpoint's), when known. */
  fromEpoch?: number;
  /** The last epoch of its passes the run keeps; absent when it kept none (or its start is not known). */
  toEpoch?: number;
  /** Wall-clock seconds per epoch over its passes (each session's clock starts at 0). */
  secondsPerEpoch?: number;
}

type Pass = Pick<MetricsRecord, 'epoch' | 'wallSeconds'>;

/**
 * The sessions with the passes each made: session i's are those after its start epoch (the first's
 * include the pass before training) up to the next session's start, whose resume redid the rest.
 */
export function sessionSpans(sessions: readonly SessionInfo[] | undefined, records: readonly Pass[]): SessionSpan[] {
  if (!sessions) return [];
  const inOrder = inEpochOrder(records);
  return sessions.map((s, i) => {
    const span: SessionSpan = { number: i + 1, startedAt: s.startedAt, backend: s.backend, threads: s.threads, host: s.host, fromEpoch: s.fromEpoch };
    const from = s.fromEpoch;
    if (from === undefined) return span;
    const until = sessions[i + 1]?.fromEpoch ?? Infinity;
    const own = inOrder
      ? records.slice(passesBefore(records, from, i === 0), passesBefore(records, until, false))
      : records.filter((r) => (i === 0 ? r.epoch >= from : r.epoch > from) && r.epoch <= until);
    const last = own[own.length - 1];
    if (!last) return span;
    span.toEpoch = last.epoch;
    // The first session's pass at its start epoch (before training) starts its clock; a resume's starts at 0.
    const base = own[0]!.epoch === from ? own[0]! : { epoch: from, wallSeconds: 0 };
    const epochs = last.epoch - base.epoch;
    const seconds = (last.wallSeconds ?? NaN) - (base.wallSeconds ?? NaN);
    if (epochs > 0 && Number.isFinite(seconds) && seconds >= 0) span.secondsPerEpoch = seconds / epochs;
    return span;
  });
}

/**
 * Whether the passes' epochs never fall: a run's history is so (a resume replaces the passes after
 * its checkpoint), and each session's passes can then be found by bisection rather than by looking at
 * every pass for every session, which for 20000 passes and 1000 sessions took 0.4 s a redraw.
 */
export function inEpochOrder(records: readonly Pick<MetricsRecord, 'epoch'>[]): boolean {
  for (let i = 1; i < records.length; i++) if (!(records[i]!.epoch >= records[i - 1]!.epoch)) return false;
  return true;
}

/** How many of the passes (in epoch order) come before `epoch`: with `atOrAfter`, those below it; without, those at or below it. */
export function passesBefore(records: readonly Pick<MetricsRecord, 'epoch'>[], epoch: number, atOrAfter: boolean): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const e = records[mid]!.epoch;
    if (atOrAfter ? e >= epoch : e > epoch) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const fmtSeconds = (s: number) => (s >= 100 ? `${Math.round(s)} s` : s >= 1 ? `${s.toPrecision(3)} s` : `${(s * 1000).toPrecision(3)} ms`);

/** "2026-12-02T01:54:43.034Z" as "2026-12-02 01:54 UTC"; other text as it is. */
function fmtStart(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/.exec(iso);
  return m && iso.endsWith('Z') ? `${m[1]} ${m[2]} UTC` : iso;
}

/** One session in a line: "2. wasm, 2 threads, on host-b: epochs 3 to 5, 40.1 ms/epoch (started 2026-12-02 01:54 UTC)". */
export function sessionLine(s: SessionSpan, withHost: boolean): string {
  const engine = [s.backend, s.threads ? `${s.threads} thread${s.threads === 1 ? '' : 's'}` : '', withHost && s.host ? `on ${s.host}` : '']
    .filter(Boolean)
    .join(', ');
  const epochs =
    s.fromEpoch === undefined
      ? 'epochs not recorded'
      : s.toEpoch === undefined
        ? `from epoch ${s.fromEpoch}, no passes kept`
        : `epochs ${s.fromEpoch} to ${s.toEpoch}`;
  const pace = s.secondsPerEpoch === undefined ? '' : `, ${fmtSeconds(s.secondsPerEpoch)}/epoch`;
  return `${s.number}. ${engine}: ${epochs}${pace} (started ${fmtStart(s.startedAt)})`;
}

/** The lines of a run's sessions, or none for a run trained in one session (its engine is said elsewhere). */
export function sessionLines(sessions: readonly SessionInfo[] | undefined, records: readonly Pass[]): string[] {
  return spanLines(sessionSpans(sessions, records));
}

/** sessionLines of the spans sessionSpans made. */
export function spanLines(spans: readonly SessionSpan[]): string[] {
  if (spans.length < 2) return [];
  // The machine is named where the sessions ran on more than one.
  const withHost = new Set(spans.map((s) => s.host ?? '')).size > 1;
  return spans.map((s) => sessionLine(s, withHost));
}

/** The epochs a run was resumed at (a mark on its charts), of the sessions after the first whose start is known. */
export function resumeEpochs(sessions: readonly SessionInfo[] | undefined): number[] {
  return (sessions ?? []).slice(1).flatMap((s) => (s.fromEpoch === undefined ? [] : [s.fromEpoch]));
}

/**
 * A resumed run in a few words, for a tooltip that dates the run by run.json's startedAt (the last
 * session's): how often it was resumed, on which engines, and when it first started. None for one session.
 */
export function resumedText(sessions: readonly SessionInfo[] | undefined): string | undefined {
  if (!sessions || sessions.length < 2) return undefined;
  const engines = sessions.map((s) => s.backend).filter((b, i, all) => i === 0 || b !== all[i - 1]);
  const times = sessions.length - 1;
  return `resumed ${times} time${times === 1 ? '' : 's'}${engines.length > 1 ? ` (${engines.join(' → ')})` : ''}; first started ${fmtStart(sessions[0]!.startedAt)}`;
}

/** The sessions a header shows before and after the fold of a long history. */
export const SESSIONS_KEPT_EACH_END = 3;

export interface FoldedLines {
  first: string[];
  /** The lines between, shown on request; empty when the history is short enough to read whole. */
  folded: string[];
  last: string[];
}

/** What the fold's disclosure says: which sessions it holds. */
export function foldedSessionsText(f: FoldedLines): string {
  const from = f.first.length + 1;
  return `Sessions ${from} to ${from + f.folded.length - 1} (${f.folded.length} more)`;
}

/**
 * A long history of sessions as its first and last few lines with the rest folded between them: a run
 * resumed hundreds of times otherwise pushes the charts a page down. A fold hides at least three lines.
 */
export function foldSessionLines(lines: readonly string[], keep = SESSIONS_KEPT_EACH_END): FoldedLines {
  if (lines.length < 2 * keep + 3) return { first: [...lines], folded: [], last: [] };
  return { first: lines.slice(0, keep), folded: lines.slice(keep, lines.length - keep), last: lines.slice(lines.length - keep) };
}
