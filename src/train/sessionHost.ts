/** What a training session gets from the process that runs it: where its events go, and whether a stop was asked for. */
import type { FromTrainer } from '../core/protocol';

export type EventSink = (event: FromTrainer) => void;

export interface SessionControl {
  stopRequested: boolean;
  /**
   * Set by the session while it holds a run folder: marks the folder stopped and unlocks it at once, for
   * a process about to exit without waiting for the step to end (a second Ctrl-C). Synchronous.
   */
  abort?: () => void;
}

/** The summary's message of a run aborted so. */
export const ABORTED_MESSAGE = 'aborted by a second stop signal (Ctrl-C twice) without waiting for the step to end';
