// Records every text one status bar item shows while a test does other things, so a quick run
// cannot slip through "training" between two waits.
import type { Workbench } from './workbench';

export interface StatusChange {
  text: string;
  /** Milliseconds since the recorder started. */
  atMs: number;
}

export class StatusBarRecorder {
  readonly changes: StatusChange[] = [];
  private running = true;
  private readonly loop: Promise<void>;
  private readonly started = Date.now();

  constructor(
    private readonly wb: Workbench,
    private readonly item: RegExp,
    private readonly pollMs = 150,
  ) {
    this.loop = this.poll();
  }

  private async poll(): Promise<void> {
    while (this.running) {
      await this.sample();
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  private async sample(): Promise<void> {
    const text = await this.wb.statusBarText(this.item).catch(() => undefined);
    if (text !== undefined && text !== this.changes.at(-1)?.text) this.changes.push({ text, atMs: Date.now() - this.started });
  }

  texts(): string[] {
    return this.changes.map((c) => c.text);
  }

  /** Stops polling; one last sample, so a text the caller has just seen is among the changes. */
  async stop(): Promise<StatusChange[]> {
    this.running = false;
    await this.loop;
    await this.sample();
    return this.changes;
  }
}
