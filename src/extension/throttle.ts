/**
 * Runs a function at most once per interval: the first call of a burst schedules it, later calls
 * within the interval join that run. Unlike a debounce (which restarts its timer on every call),
 * a stream of calls faster than the interval still runs it every interval: a trainer reporting
 * every few milliseconds must keep the status bar, the CodeLens and the runs view moving.
 */
export class Throttle {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => void,
  ) {}

  schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, this.intervalMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
