/**
 * Each boundary's protocol: every message kind round-trips through its guard (as it crosses an
 * IPC channel or postMessage, i.e. through JSON), a message with a required field missing or
 * retyped, an unknown field or an unknown kind is refused with a problem that names the field,
 * and a trainer of another protocol version answers with an error instead of training.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Guard } from '../../src/core/guard';
import { fromPanel, toPanel } from '../../src/core/panelProtocol';
import { fromTrainer, PROTOCOL_VERSION, toTrainer } from '../../src/core/protocol';
import { FROM_PANEL, FROM_TRAINER, TO_PANEL, TO_TRAINER } from './protocol-samples';
import { forkTrainer, tinySpec, tempDir } from './reliability-processes';

const BOUNDARIES: [string, Guard<unknown> & { tags: readonly string[] }, Record<string, Record<string, unknown>>][] = [
  ['editor -> trainer', toTrainer, TO_TRAINER],
  ['trainer -> editor', fromTrainer, FROM_TRAINER],
  ['host -> panel', toPanel, TO_PANEL],
  ['panel -> host', fromPanel, FROM_PANEL],
];

for (const [name, guard, samples] of BOUNDARIES) {
  test(`${name}: every message kind round-trips through its guard`, () => {
    assert.deepEqual(Object.keys(samples).sort(), [...guard.tags].sort(), 'a sample for every message kind');
    for (const [kind, message] of Object.entries(samples)) {
      const wire: unknown = JSON.parse(JSON.stringify(message));
      assert.equal(guard.problem(wire, ''), undefined, kind);
      assert.deepEqual(wire, message);
    }
  });

  test(`${name}: a malformed or unknown message is refused, and the problem names the field`, () => {
    assert.match(guard.problem({ type: 'no-such-kind' }, 'message') ?? '', /"type" must be one of/);
    assert.ok(guard.problem(null, '') !== undefined && guard.problem([], '') !== undefined && guard.problem('start', '') !== undefined);
    for (const [kind, message] of Object.entries(samples)) {
      assert.match(guard.problem({ ...message, unexpected: 1 }, '') ?? '', /unknown field "unexpected"/, kind);
      for (const field of Object.keys(message).filter((k) => k !== 'type')) {
        const missing = { ...message };
        delete missing[field];
        const retyped = { ...message, [field]: Symbol.for('not data') };
        const problemRetyped = guard.problem(retyped, '');
        assert.ok(problemRetyped?.startsWith(field), `${kind}.${field} retyped: ${problemRetyped}`);
        const problemMissing = guard.problem(missing, '');
        // Optional fields may be left out; required ones are named when they are.
        if (problemMissing !== undefined) assert.ok(problemMissing.startsWith(field), `${kind}.${field} missing: ${problemMissing}`);
      }
    }
  });
}

test('progress messages must carry the loss (the guard once forgot it)', () => {
  const { loss: _loss, ...withoutLoss } = FROM_TRAINER.progress!;
  assert.match(fromTrainer.problem(withoutLoss, 'message') ?? '', /^message\.loss: expected a number/);
});

test('a trainer of another protocol version refuses to start and says why', async () => {
  const dir = tempDir('protocol-version');
  const specPath = join(dir, 'tiny.vae.json');
  writeFileSync(specPath, tinySpec('tiny'));
  const t = forkTrainer({ type: 'start', protocolVersion: PROTOCOL_VERSION + 1, specPath } as never);
  const error = await t.waitFor((e) => e.type === 'error', 'the version error');
  assert.ok(error.type === 'error' && /protocol/.test(error.message), JSON.stringify(error));
  const exit = await t.exited;
  assert.equal(exit.code, 1);
  assert.ok(!t.events.some((e) => e.type === 'started'), 'nothing was trained');
});
