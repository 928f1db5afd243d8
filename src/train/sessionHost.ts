/** What a training session gets from the process that runs it: where its events go, and whether a stop was asked for. */
import type { FromTrainer } from '../core/protocol';

export type EventSink = (event: FromTrainer) => void;

export interface SessionControl {
  stopRequested: boolean;
}
