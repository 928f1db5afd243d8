/**
 * How many threads a run's kernels use: the request's count (CLI --threads, the vaeLens.threads
 * setting) as given; else the spec's training.threads, at most the machine's cores (a spec
 * travels between machines, and more threads than cores only queue for them); else the cores
 * less those the caller keeps free (the editor keeps one, so its window stays responsive).
 */
import * as os from 'node:os';

export function threadCount(requested: number | undefined, spec: number | undefined, reserveCores = 0, cores = os.availableParallelism()): number {
  const chosen = requested ?? (spec !== undefined ? Math.min(spec, cores) : cores - reserveCores);
  return Math.max(1, Math.floor(chosen));
}
