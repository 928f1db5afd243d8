// What the e2e tests measure, collected in test-results/e2e-measurements.json (each test file
// merges its own keys), which scripts/write-extension-performance.mjs renders into
// docs/extension-performance.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { resultsDir } from './paths';

/** When and under what load a value was measured (other engineers run benchmarks on these machines). */
export interface MeasuredAt {
  at: string;
  loadAverage1m: number;
  cpus: number;
  /** Which VS Code ran the test: code-server or desktop. */
  target: string;
}

/** One Train VAE on the shipped swiss-roll example, timed from the test and by the extension. */
/** `loadAverage1m` here is the load when the command ran. */
export interface TrainRunMeasurement extends MeasuredAt {
  /** Which run of the session: the first one also pays for the session's first webview. */
  label: string;
  spec: string;
  /** From opening the palette (F1, typing the title, the click) to the first point in the panel's ELBO chart. */
  panelFirstPointFromPaletteSeconds: number;
  /** From the palette closing on the picked command to the first point in the panel's ELBO chart. */
  panelFirstPointFromCommandSeconds: number;
  /** true: the two above are by the webview's own clock; false: as the test's polling saw it. */
  inPageClock: boolean;
  /** When the test's polling (through Playwright) first saw the point, after the command. */
  seenByDriverSeconds: number;
  /** The extension's own measurement: Train VAE to the first diagnostics event in the extension host. */
  extensionFirstPointSeconds?: number;
  /** The panel's document, from its own performance timeline: seconds after the command. */
  webview?: { documentStartSeconds: number; scriptLoadedSeconds?: number; domContentLoadedSeconds?: number };
  /** The extension host's event-loop delay while the run trained, as the extension logged it. */
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number };
  epochs: number;
  wallSeconds: number;
  status: string;
  convergence?: string;
}

export interface E2eMeasurements {
  vsix?: MeasuredAt & { file: string; bytes: number };
  /** The extension's own "activated in X ms" lines, one per activation seen (start, reload). */
  activation?: MeasuredAt & { ms: number[] };
  trainRuns?: TrainRunMeasurement[];
  /** The MLP VAE trained from the editor with vaeLens.threads at every core (features-threads.e2e.ts). */
  allCoresRun?: MeasuredAt & {
    spec: string;
    threads: number;
    eventLoop: { p50Ms: number; p99Ms: number; maxMs: number };
    wallSeconds: number;
    steps: number;
    status: string;
  };
  /** Stop Training until the status bar no longer says training. */
  stop?: MeasuredAt & { statusLeftTrainingSeconds: number; summaryStatus: string };
  /** Written by scripts/run-e2e.mjs after the test runner exits (compiling and packaging not included). */
  e2eSuite?: { seconds: number; files: string[]; passed: boolean; command: string; target: string };
}

export const MEASUREMENTS_FILE = 'e2e-measurements.json';

export function measuredNow(target: string): MeasuredAt {
  return { at: new Date().toISOString(), loadAverage1m: Number(loadavg()[0].toFixed(2)), cpus: cpus().length, target };
}

export function recordMeasurements(values: E2eMeasurements): void {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, MEASUREMENTS_FILE);
  const current = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as E2eMeasurements) : {};
  writeFileSync(file, `${JSON.stringify({ ...current, ...values }, null, 2)}\n`);
}
