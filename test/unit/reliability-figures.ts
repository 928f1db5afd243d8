/**
 * The machine-readable side of the reliability tests: each figure is one stdout line,
 * `RELIABILITY_FIGURE {json}`, which scripts/reliability-report.mjs collects into RELIABILITY.md.
 * The test runner passes test output through (as TAP comments or plain lines), so a grep finds them.
 */

export const FIGURE_MARKER = 'RELIABILITY_FIGURE';

/** Inputs fed to one parser or loader and how each ended. */
export interface ParserFigure {
  kind: 'parser';
  name: string;
  inputs: number;
  accepted: number;
  userErrors: number;
  crashes: number;
  /** Milliseconds of the slowest input; null where not measured. */
  slowest: number | null;
  seed: number;
}

/** Faults of one kind injected into a real training process, and what survived them. */
export interface FaultFigure {
  kind: 'fault';
  name: string;
  injected: number;
  survived: number;
  /** Metrics records present before the fault and gone after it. */
  recordsLost: number;
  /** Records checked (present before the fault). */
  recordsChecked: number;
  seed?: number;
}

/** A yes/no guarantee checked over a number of cases (messages, CSP, trust...). */
export interface CheckFigure {
  kind: 'check';
  name: string;
  cases: number;
  passed: number;
}

/** The classes of hostile input and faults (issue 14) a figure belongs to, for RELIABILITY.md's table of classes. */
export const HOSTILE_CLASSES = {
  diskFull: '1. a full disk',
  prototypeKeys: '2. prototype keys',
  twoWriters: '3. two writers on one run',
  sizes: '4. sizes checked before allocating',
  runFolder: '5. eval and report on untrusted run folders',
  links: '6. writes through symbolic links',
  confinement: '7. Restricted Mode and confinement',
} as const;

export type HostileClass = keyof typeof HOSTILE_CLASSES;

export type Figure = (ParserFigure | FaultFigure | CheckFigure) & { group?: HostileClass };

export function reportFigure(figure: Figure): void {
  // The class's title travels with the figure: scripts/reliability-report.mjs tabulates by it.
  const withTitle = figure.group ? { ...figure, groupTitle: HOSTILE_CLASSES[figure.group] } : figure;
  console.log(`${FIGURE_MARKER} ${JSON.stringify(withTitle)}`);
}
