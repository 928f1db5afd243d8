// Reads the run folders the extension's trainer writes into the workspace (docs/run-format.md),
// independently of the product's own reader, so a bug there cannot hide from these tests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Workbench } from './workbench';

/** The metrics fields the e2e tests compare with the charts (null where the writer stored NaN). */
export interface MetricsLine {
  epoch: number;
  elbo: number | null;
  entropySum: number | null;
  gap: number | null;
  /** The evidence beside the gap that the tests look for in the tooltip and the summary. */
  meanFieldGap?: number | null;
}

export interface RunFolder {
  dir: string;
  meta?: { name: string; epochs: number; pid?: number; backend: string; threads?: number };
  summary?: { status: string; convergence?: string; convergenceReason?: string; epochsDone: number; wallSeconds: number; steps?: number };
  records: MetricsLine[];
}

const readJson = <T>(file: string): T | undefined => {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined; // Mid-write (the writer renames into place, but be safe).
  }
};

/** Run folders under `<workspace>/.vae-lens/runs` (the default runsDir next to a top-level spec), oldest first. */
export function runDirs(workspaceDir: string): string[] {
  const root = join(workspaceDir, '.vae-lens', 'runs');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(root, e.name))
    .sort();
}

export function readRunFolder(dir: string): RunFolder {
  const metricsFile = join(dir, 'metrics.jsonl');
  const lines = existsSync(metricsFile) ? readFileSync(metricsFile, 'utf8').split('\n') : [];
  const records: MetricsLine[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as MetricsLine);
    } catch {
      // A last line still being written.
    }
  }
  return {
    dir,
    meta: readJson<RunFolder['meta']>(join(dir, 'run.json')),
    summary: readJson<RunFolder['summary']>(join(dir, 'summary.json')),
    records,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the workspace's run folders until one satisfies `accept`. */
export async function waitForRun(workspaceDir: string, accept: (run: RunFolder) => boolean, timeoutMs: number, what: string): Promise<RunFolder> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = runDirs(workspaceDir).map(readRunFolder);
    const hit = runs.find(accept);
    if (hit) return hit;
    if (Date.now() > deadline) {
      const seen = runs.map((r) => `${r.dir}: ${r.summary?.status ?? 'no summary'}, ${r.records.length} records`).join('; ');
      throw new Error(`e2e: no run folder ${what} within ${timeoutMs} ms; runs: ${seen || '(none)'}`);
    }
    await sleep(250);
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive but not ours (never the case for our own trainer).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Train VAE on the open spec of `epochs` epochs, as a user starts it from the palette, and wait until
 * the status bar counts its epochs and its run folder has a trainer pid and two records; returns the
 * run and that pid (checked alive).
 */
export async function trainUntilRunning(wb: Workbench, epochs: number): Promise<{ running: RunFolder; pid: number }> {
  await wb.runCommand('VAE Lens: Train VAE');
  await wb.waitForStatusBar(new RegExp(`^VAE epoch \\d+/${epochs} `), 120_000);
  const running = await waitForRun(wb.workspaceDir, (r) => r.meta?.pid !== undefined && r.records.length >= 2, 120_000, 'with a trainer pid and two records');
  const pid = running.meta!.pid!;
  if (!isProcessAlive(pid)) throw new Error(`trainer ${pid} is not running while the status bar says training`);
  return { running, pid };
}
