/** Fake trainer scripts for the extension's tests: they speak the trainer protocol, and train nothing. */
import { PROTOCOL_VERSION } from '../../src/core/protocol';

/** A trainer that says it started (in a run folder named after its pid) and trains until it is asked to stop. */
export const TRAINER_UNTIL_STOPPED = String.raw`
process.on('message', (m) => {
  if (m.type === 'start') {
    process.send({ type: 'started', protocolVersion: ${PROTOCOL_VERSION}, runDir: '/tmp/run-' + process.pid, backend: 'cpu', dataset: { n: 10, dim: 2, source: 'fake' }, epochs: 5, stepsPerEpoch: 2 });
    setInterval(() => {}, 1000);
  }
  if (m.type === 'stop') {
    process.send({ type: 'done', status: 'stopped', runDir: '/tmp/run-' + process.pid });
    setTimeout(() => process.exit(0), 10);
  }
});
`;
