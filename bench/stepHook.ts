/**
 * The benchmark's window on TrainingLoop's steps: it wraps the loop's private trainStep to
 * see every step's batch, noise seed and loss (the loop itself reports the loss only a few
 * times a second). Bench-only; the trainer does not use it.
 */
import type { TrainingLoop } from '../src/train/loop';

export interface StepSeen {
  rows: Float32Array;
  n: number;
  seed: number;
  loss: number;
}

interface TrainStep {
  trainStep(rows: Float32Array, n: number, seed: number): number;
}

/** Call `before` ahead of each step and `after` with its loss. */
export function watchSteps(loop: TrainingLoop, after: (s: StepSeen) => void, before?: (s: Omit<StepSeen, 'loss'>) => void): void {
  const hook = loop as unknown as TrainStep;
  const original = hook.trainStep.bind(loop);
  hook.trainStep = (rows, n, seed) => {
    before?.({ rows, n, seed });
    const loss = original(rows, n, seed);
    after({ rows, n, seed, loss });
    return loss;
  };
}
