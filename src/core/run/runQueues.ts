/** Work on a run folder one piece after another: two reads of one file at once would fold the same passes in twice. */
export class RunQueues {
  private readonly queues = new Map<string, Promise<unknown>>();

  /** `work` once the run's work queued before it has settled. */
  run<T>(runDir: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(runDir) ?? Promise.resolve();
    const done = before.then(work, work);
    const settled = done.catch(() => undefined);
    this.queues.set(runDir, settled);
    void settled.then(() => {
      if (this.queues.get(runDir) === settled) this.queues.delete(runDir);
    });
    return done;
  }
}
