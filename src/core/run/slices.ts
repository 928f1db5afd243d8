/** How long a step-by-step computation holds the thread before giving it back (inSlices). */
const SLICE_MS = 10;

/**
 * Runs `steps` (a generator that pauses between small steps) to its result, giving the thread back
 * every SLICE_MS: on the editor's thread, work of seconds (a long metrics.jsonl, a script's run
 * judged pass by pass) must not freeze the editor.
 */
export async function inSlices<T>(steps: Generator<void, T, void>): Promise<T> {
  let since = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - since > SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      since = performance.now();
    }
  }
}

/** Runs `steps` to its result at once, without pauses: for a caller off the editor's thread (the CLI, the trainer). */
export function runToEnd<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
