/**
 * What the editor side measures about itself during a run, logged to the output channel:
 * time from "Train VAE" to the first diagnostics point, and the extension host's event-loop
 * delay while the trainer works (it trains in another process, so this should stay small).
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

export class TrainingTimings {
  private readonly t0 = performance.now();
  private firstPointMs: number | undefined;
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.loop.enable();
  }

  /** Call on every diagnostics event; only the first counts. */
  pointArrived(): void {
    this.firstPointMs ??= performance.now() - this.t0;
  }

  /** Stop measuring and describe the run, e.g. for the output channel. */
  finish(): string {
    this.loop.disable();
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    const first = this.firstPointMs === undefined ? 'no diagnostics point' : `first chart point ${(this.firstPointMs / 1000).toFixed(2)} s after Train VAE`;
    return `timings: ${first}; extension-host event-loop delay during training p50 ${ms(this.loop.percentile(50))} ms, p99 ${ms(this.loop.percentile(99))} ms, max ${ms(this.loop.max)} ms`;
  }
}
