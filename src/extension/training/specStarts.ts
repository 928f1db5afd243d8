/**
 * Starting a spec's training takes several awaits (saving the editor, reading the text, stopping the
 * run it replaces, asking the user). Two starts of one spec must not interleave across them: with
 * retrain on save and auto-save during a slow stop, the first save would train its older text and
 * the second would find "already training". So starts are serialised per spec, and a newer request
 * supersedes a pending one: only the newest reads the text and starts. No vscode here.
 */

export type StartOutcome<T> = { superseded: true } | { superseded: false; value: T };

/**
 * Asked by a running start at each point where it could go on with something out of date; its
 * `overtaken` settles when a newer request comes, for a start that waits on the user (a question left
 * unanswered would otherwise hold every later start of the spec).
 */
export interface Superseded {
  (): boolean;
  readonly overtaken: Promise<void>;
}

export class SpecStarts {
  private readonly specs = new Map<string, { latest: number; tail: Promise<unknown>; overtake: (() => void)[] }>();

  /**
   * Runs `start` once every earlier request for `key` has finished, unless a newer request came
   * meanwhile (then this one resolves `{ superseded: true }` without running). `start` gets a
   * function that says whether a newer request has come since, to give way at its own checkpoints.
   */
  run<T>(key: string, start: (superseded: Superseded) => Promise<T>): Promise<StartOutcome<T>> {
    const waiting = this.specs.get(key);
    const e = waiting ?? { latest: 0, tail: Promise.resolve(), overtake: [] };
    this.specs.set(key, e);
    const me = ++e.latest;
    for (const overtake of e.overtake.splice(0)) overtake();
    let overtake!: () => void;
    const overtaken = new Promise<void>((resolve) => (overtake = resolve));
    e.overtake.push(overtake);
    const superseded = Object.assign(() => e.latest !== me, { overtaken });
    const begin = async (): Promise<StartOutcome<T>> => (superseded() ? { superseded: true } : { superseded: false, value: await start(superseded) });
    // With nothing before it, a request starts at once (it is not pending, so nothing can supersede it before it begins).
    const result = waiting ? e.tail.then(begin) : begin();
    e.tail = result.then(
      () => this.release(key, e, me),
      () => this.release(key, e, me),
    );
    return result;
  }

  /** True while a request for `key` is running or waiting. */
  busy(key: string): boolean {
    return this.specs.has(key);
  }

  private release(key: string, e: { latest: number }, me: number): void {
    if (e.latest === me && this.specs.get(key) === e) this.specs.delete(key);
  }
}

/**
 * The saves a start makes itself (an unsaved spec is saved before it is trained): retrain on save must
 * not start a second run for them. A save event while the start's save is under way is its own (a
 * format-on-save edit may have moved the version on); one just after it is, if at the version saved.
 */
export class OwnSaves {
  private readonly saves = new Map<string, { version: number; inFlight: boolean }>();

  /** A start is about to save `key`, now at `version`. */
  begin(key: string, version: number): void {
    this.saves.set(key, { version, inFlight: true });
  }

  /** The start's save has returned; `saved` false: it did not happen, so no event is its own. */
  end(key: string, saved: boolean): void {
    const s = this.saves.get(key);
    if (!s) return;
    if (saved) s.inFlight = false;
    else this.saves.delete(key);
  }

  /** Whether this save event is the start's own (each start's save is recognised once). */
  take(key: string, version: number): boolean {
    const s = this.saves.get(key);
    if (!s || (!s.inFlight && s.version !== version)) return false;
    this.saves.delete(key);
    return true;
  }
}
