/**
 * The trainer process (dist/trainer.js). The editor forks it with an IPC channel; it takes
 * one StartRequest, trains, reports through the protocol, and exits. A StopRequest ends
 * training after the current step, with everything written.
 */
import { isToTrainer, PROTOCOL_VERSION, toTrainerProblem, type FromTrainer } from '../core/protocol';
import { runSession } from './session';
import type { SessionControl } from './sessionHost';

const control: SessionControl = { stopRequested: false };
let started = false;

function send(event: FromTrainer): void {
  // With a callback, a channel that closed under us (window reload) is an error passed here rather
  // than an 'error' event that kills the process with EPIPE before it can finish the run folder.
  if (process.send && process.connected) process.send(event, undefined, undefined, () => undefined);
}

process.on('message', (msg: unknown) => {
  const version = typeof msg === 'object' && msg !== null ? (msg as { protocolVersion?: unknown }).protocolVersion : undefined;
  if (version !== undefined && version !== PROTOCOL_VERSION) {
    // An editor and a trainer bundle from different versions of the extension: say so and leave.
    send({
      type: 'error',
      userError: false,
      message: `the editor speaks trainer protocol ${String(version)}, this trainer ${PROTOCOL_VERSION}: reload the window`,
    });
    setTimeout(() => process.exit(1), 50);
    return;
  }
  if (!isToTrainer(msg)) {
    send({ type: 'log', level: 'warn', message: `ignored a malformed message from the editor (${toTrainerProblem(msg)})` });
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
