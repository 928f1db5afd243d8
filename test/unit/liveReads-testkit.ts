/** Runs written live, and counting what a piece of work reads from files: for tests of what a look at a run costs. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJsonLine } from '../../src/core/runFormat';
import { sampleRecord } from './record-testkit';

export { bytesReadDuring } from '../../bench/readCounter';

/** A run folder of `passes` records as the Python companion writes them (no verdict), with `meta`'s fields in run.json. */
export function companionRun(passes: number, meta: Record<string, unknown>): { dir: string; file: string; line: (epoch: number) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-follow-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: new Date().toISOString(), ...meta }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 0, steps: 0, wallSeconds: 0 }));
  const latents = Array.from({ length: 8 }, (_, h) => 1 + h / 100);
  const line = (epoch: number) => toJsonLine(sampleRecord(epoch, { elbo: -3 + Math.log(epoch), latentSecondMoment: latents, klPerLatent: latents }));
  const file = join(dir, 'metrics.jsonl');
  writeFileSync(file, Array.from({ length: passes }, (_, i) => line(i + 1)).join(''));
  return { dir, file, line };
}
