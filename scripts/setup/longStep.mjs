// Runs a long set-up command with its output in a log file, printing a progress line every few
// seconds (how long so far, and the command's latest line) so a CI log never looks hung.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

const seconds = (t0) => ((Date.now() - t0) / 1000).toFixed(0);

/** The last non-empty lines of a log file (for the progress line and for error messages); with
 * `only`, the last of the lines it matches. */
export function tail(file, lines = 1, only = undefined) {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  return text
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter((l) => l && (!only || only.test(l)))
    .slice(-lines)
    .join('\n');
}

/**
 * @param {{ label: string, command: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv,
 *           cwd?: string, log: (line: string) => void, everySeconds: number, phase?: RegExp }} o
 * `phase` picks the lines that say which part of a long command is running (shown in the progress line).
 * @returns {Promise<{ code: number, seconds: number }>}
 */
export function runLongStep(o) {
  mkdirSync(dirname(o.logFile), { recursive: true });
  const out = createWriteStream(o.logFile);
  const t0 = Date.now();
  o.log(`${o.label} ...`);
  return new Promise((resolve) => {
    const child = spawn(o.command, o.args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const timer = setInterval(() => {
      const last = tail(o.logFile).slice(0, 100);
      const phase = o.phase ? tail(o.logFile, 1, o.phase) : '';
      o.log(`${o.label}: still running, ${seconds(t0)} s${phase ? `, ${phase}` : ''}${last && last !== phase ? ` (last output: ${last})` : ''}`);
    }, o.everySeconds * 1000);
    const finish = (code) => {
      clearInterval(timer);
      out.end(() => resolve({ code, seconds: (Date.now() - t0) / 1000 }));
    };
    child.on('error', (e) => {
      out.write(`${e.message}\n`);
      finish(127);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}
