/** A minimal typed event emitter with VS Code's Disposable shape, for modules that must not import vscode. */
export interface Subscription {
  dispose(): void;
}

export class Emitter<T> {
  private readonly listeners = new Set<(e: T) => void>();

  on(listener: (e: T) => void): Subscription {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  fire(event: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        // One faulty listener must not starve the others (or kill the trainer's message loop).
        console.error('VAE Lens: event listener failed', err);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
