/**
 * The trainer process (dist/trainer.js). The editor forks it with an IPC channel; it takes
 * one StartRequest, trains, reports through the protocol, and exits. A StopRequest ends
 * training after the current step, with everything written.
 */
import { isToTrainer, type FromTrainer } from '../core/protocol';
import { runSession, type SessionControl } from './session';

const control: SessionControl = { stopRequested: false };
let started = false;

function send(event: FromTrainer): void {
  // With a callback, a channel that closed under us (window reload) is an error passed here rather
  // than an 'error' event that kills the process with EPIPE before it can finish the run folder.
  if (process.send && process.connected) process.send(event, undefined, undefined, () => undefined);
}

process.on('message', (msg: unknown) => {
  if (!isToTrainer(msg)) {
    send({ type: 'log', level: 'warn', message: 'ignored a malformed message from the editor' });
    return;
  }
  if (msg.type === 'stop') {
    control.stopRequested = true;
    return;
  }
  if (started) {
    send({ type: 'log', level: 'warn', message: 'this trainer is already running; start another process for another run' });
    return;
  }
  started = true;
  void runSession(msg, send, control).then((status) => {
    // Let the IPC channel drain before leaving.
    setTimeout(() => process.exit(status === 'failed' ? 1 : 0), 50);
  });
});

// The editor went away: stop at the next step and leave the run folder complete.
process.on('disconnect', () => {
  control.stopRequested = true;
});
process.on('SIGTERM', () => {
  control.stopRequested = true;
});
