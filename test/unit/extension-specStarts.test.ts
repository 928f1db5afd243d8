/**
 * Starts of one spec one at a time (src/extension/training/specStarts.ts), driven the way trainSpec
 * drives them: save, read the text, stop the run it replaces, start. The scenario is retrain on save
 * with auto-save during a slow stop, where two saves used to wait on the same stop: the first then
 * trained its older text and the second was told "already training".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OwnSaves, SpecStarts, type Superseded } from '../../src/extension/training/specStarts';

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A spec on disk, its one trainer, and a stop that finishes when the test says so. */
function world() {
  const w = {
    disk: 'v0',
    running: undefined as string | undefined,
    started: [] as string[],
    alreadyTraining: 0,
    stops: [] as (() => void)[],
    async stop() {
      await new Promise<void>((r) => w.stops.push(r));
      w.running = undefined;
    },
    /** trainSpec's steps, with its checkpoints. */
    async start(superseded: Superseded): Promise<string | undefined> {
      await tick(); // doc.save()
      if (superseded()) return undefined;
      const text = w.disk;
      await tick(); // reading and checking the spec
      if (w.running !== undefined) {
        await w.stop();
        if (superseded()) return undefined;
      }
      if (w.running !== undefined) {
        w.alreadyTraining++;
        return undefined;
      }
      w.running = text;
      w.started.push(text);
      return text;
    },
  };
  return w;
}

test('two saves during a slow stop: the older gives way, the newer trains the newer text, nobody hears "already training"', async () => {
  const w = world();
  w.running = 'v0';
  const starts = new SpecStarts();
  w.disk = 'v1';
  const first = starts.run('spec', (s) => w.start(s));
  await tick();
  await tick();
  await tick();
  assert.equal(w.stops.length, 1, 'the first save is stopping the old run');
  w.disk = 'v2';
  const second = starts.run('spec', (s) => w.start(s));
  await tick();
  assert.equal(w.stops.length, 1, 'the second waits for the first instead of waiting on the same stop');
  w.stops[0]!();
  assert.deepEqual(await first, { superseded: false, value: undefined }, 'the first stopped the old run, then gave way');
  assert.deepEqual(await second, { superseded: false, value: 'v2' });
  assert.deepEqual(w.started, ['v2'], 'v1 never trained');
  assert.equal(w.alreadyTraining, 0);
  assert.equal(starts.busy('spec'), false);
});

test('of several requests waiting behind a start, only the newest runs', async () => {
  const starts = new SpecStarts();
  const ran: number[] = [];
  let release!: () => void;
  const first = starts.run('spec', async () => {
    ran.push(1);
    await new Promise<void>((r) => (release = r));
    return 1;
  });
  const waiting = [2, 3, 4].map((n) =>
    starts.run('spec', () => {
      ran.push(n);
      return Promise.resolve(n);
    }),
  );
  await tick();
  assert.deepEqual(ran, [1]);
  assert.equal(starts.busy('spec'), true);
  release();
  assert.deepEqual(await first, { superseded: false, value: 1 });
  assert.deepEqual(await Promise.all(waiting), [{ superseded: true }, { superseded: true }, { superseded: false, value: 4 }]);
  assert.deepEqual(ran, [1, 4]);
});

test('starts of different specs do not wait for each other; a failed start does not block the next', async () => {
  const starts = new SpecStarts();
  let release!: () => void;
  const slow = starts.run('a', () => new Promise<string>((r) => (release = () => r('a'))));
  assert.deepEqual(await starts.run('b', () => Promise.resolve('b')), { superseded: false, value: 'b' });
  release();
  assert.deepEqual(await slow, { superseded: false, value: 'a' });
  await assert.rejects(
    starts.run('a', () => Promise.reject(new Error('fork failed'))),
    /fork failed/,
  );
  assert.deepEqual(await starts.run('a', () => Promise.resolve('again')), { superseded: false, value: 'again' });
  assert.equal(starts.busy('a'), false);
});

test('the save a start makes is its own: retrain on save does not start the spec a second time for it', () => {
  const own = new OwnSaves();
  own.begin('spec', 7);
  assert.equal(own.take('spec', 8), true, 'during the save, whatever the version (format on save edits before saving)');
  assert.equal(own.take('spec', 8), false, 'recognised once');
  own.end('spec', true);
  assert.equal(own.take('spec', 8), false, "the user's next save is theirs");

  own.begin('spec', 9);
  own.end('spec', true);
  assert.equal(own.take('spec', 9), true, 'an event that arrives just after the save returned, at the version saved');
  own.begin('spec', 10);
  own.end('spec', true);
  assert.equal(own.take('spec', 11), false, 'an edit and a save since are the user’s');

  own.begin('spec', 12);
  own.end('spec', false);
  assert.equal(own.take('spec', 12), false, 'a save that did not happen leaves nothing behind');
  assert.equal(own.take('other', 12), false);
});

test('a start waiting on an unanswered question gives way to a newer request, which then runs', async () => {
  // "Already training: Stop and Restart?" hides into the notification centre unanswered: its promise
  // never settles. A newer start of the spec (retrain on save) must not queue behind it for ever.
  const starts = new SpecStarts();
  const never = new Promise<string>(() => {});
  const asked = starts.run('a', async (superseded) => {
    const answer = await Promise.race([never, superseded.overtaken.then(() => undefined)]);
    return answer ?? 'gave way';
  });
  await tick();
  let ran = false;
  const newer = starts.run('a', async () => {
    ran = true;
    return 'trained';
  });
  assert.deepEqual(await asked, { superseded: false, value: 'gave way' });
  assert.deepEqual(await newer, { superseded: false, value: 'trained' });
  assert.equal(ran, true);
  assert.equal(starts.busy('a'), false, 'the spec is free again');
});
