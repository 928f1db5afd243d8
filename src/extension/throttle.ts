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

/**
 * A Throttle that carries the newest of the values offered in a burst to `deliver`: at most one
 * delivery per interval, and the last value of a burst is delivered late, never dropped.
 */
export class LatestThrottle<T> {
  private latest: { value: T } | undefined;
  private readonly throttle: Throttle;

  constructor(intervalMs: number, deliver: (value: T) => void) {
    this.throttle = new Throttle(intervalMs, () => {
      const offered = this.latest;
      this.latest = undefined;
      if (offered) deliver(offered.value);
    });
  }

  offer(value: T): void {
    this.latest = { value };
    this.throttle.schedule();
  }

  /** Drops a value not yet delivered. */
  dispose(): void {
    this.latest = undefined;
    this.throttle.dispose();
  }
}
