/**
 * The CLI's stdout and stderr may stop taking output: a reader that quits early (`vae-lens train
 * ... | head -1`, a pager closed), a terminal gone, a redirect onto a full disk. Node reports that
 * as an 'error' event on the stream, which unhandled ends the process with a stack trace, in the
 * middle of a run whose folder is then left locked and "running". Here it is an event of its own.
 */

export interface LostOutput {
  stream: 'stdout' | 'stderr';
  /** A reader that closed the pipe (EPIPE) chose to stop reading; anything else is a failure. */
  readerClosed: boolean;
  code: string;
}

let onLost: ((lost: LostOutput) => void) | undefined;
let guarded = false;

/** Catch write errors on stdout and stderr from now on, for the life of the process. */
export function guardOutput(): void {
  if (guarded) return;
  guarded = true;
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    let reported = false;
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (reported) return;
      reported = true;
      const code = e.code ?? 'unknown error';
      onLost?.({ stream: name, readerClosed: code === 'EPIPE', code });
    });
  }
}

/** What to do when an output stream is lost (a run stops cleanly); undefined to only ignore it. */
export function whenOutputLost(handler: ((lost: LostOutput) => void) | undefined): void {
  onLost = handler;
}
