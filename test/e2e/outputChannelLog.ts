// VS Code writes every output channel to a file under the session's log folder
// (`<logs>/<session>/exthostN/output_logging_<time>/<n>-<channel name>.log` in code-server,
// `.../window1/exthost/output_logging_...` on desktop). The extension logs its own timings there
// (src/extension/extension.ts and timings.ts); these helpers find and parse those lines.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Files holding the channel, oldest first (a window reload starts a new extension host and file). */
export function outputChannelFiles(logsDir: string, channel: string): string[] {
  if (!existsSync(logsDir)) return [];
  const suffix = `-${channel}.log`;
  return readdirSync(logsDir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(logsDir, f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

export function readOutputChannel(logsDir: string, channel: string): string {
  return outputChannelFiles(logsDir, channel)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

/** "activated in 12.3 ms (...)": one value per activation, in milliseconds. */
export function parseActivationTimes(log: string): number[] {
  return [...log.matchAll(/\bactivated in (\d+(?:\.\d+)?) ms\b/g)].map((m) => Number(m[1]));
}

export interface TrainingTimingsLine {
  /** The spec as the log line's [prefix] names it: its path in the workspace folder. */
  spec: string;
  /** Undefined when the run ended before its first diagnostics point. */
  firstPointSeconds?: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

const TIMINGS_LINE =
  /\[([^\]]+)\] timings: (?:first chart point (\d+(?:\.\d+)?) s after Train VAE|no diagnostics point); extension-host event-loop delay during training p50 (\d+(?:\.\d+)?) ms, p99 (\d+(?:\.\d+)?) ms, max (\d+(?:\.\d+)?) ms/g;

/** "[name] timings: first chart point 1.23 s after Train VAE; ... p50 10.1 ms, p99 12.3 ms, max 20.0 ms". */
export function parseTrainingTimings(log: string): TrainingTimingsLine[] {
  return [...log.matchAll(TIMINGS_LINE)].map((m) => ({
    spec: m[1],
    firstPointSeconds: m[2] === undefined ? undefined : Number(m[2]),
    loopP50Ms: Number(m[3]),
    loopP99Ms: Number(m[4]),
    loopMaxMs: Number(m[5]),
  }));
}
