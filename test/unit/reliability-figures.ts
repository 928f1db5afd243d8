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

export type Figure = ParserFigure | FaultFigure | CheckFigure;

export function reportFigure(figure: Figure): void {
  console.log(`${FIGURE_MARKER} ${JSON.stringify(figure)}`);
}
