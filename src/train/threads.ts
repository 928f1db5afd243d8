/**
 * How many threads a run's kernels use: the request's count (CLI --threads, the vaeLens.threads
 * setting), else the spec's training.threads, else the machine's cores less those the caller
 * keeps free (the editor keeps one, so its window stays responsive while a run trains).
 */
import * as os from 'node:os';

export function threadCount(requested: number | undefined, spec: number | undefined, reserveCores = 0, cores = os.availableParallelism()): number {
  const chosen = requested ?? spec ?? cores - reserveCores;
  return Math.max(1, Math.floor(chosen));
}
