import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJsonLine, type MetricsRecord } from '../../src/core/runFormat';
import { placeholderRecord } from './protocol-samples';
import { ExternalRunFollower } from '../../src/extension/panel/runFollower';

const rec = (epoch: number, extra: Partial<MetricsRecord> = {}): MetricsRecord => ({ ...placeholderRecord(epoch), ...extra });
const until = async (cond: () => boolean, ms = 3000) => {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('a run written by another process is followed until its summary says it ended', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-ext-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: new Date().toISOString(), pid: process.pid }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 1, steps: 1, wallSeconds: 1 }));
  writeFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(0)) + toJsonLine(rec(1)));
  const seen: number[] = [];
  let finished: string | undefined;
  const follower = new ExternalRunFollower(
    {
      records: (_d, rs) => void seen.push(...rs.map((r) => r.epoch)),
      restarted: () => undefined,
      finished: (_d, status) => (finished = status),
      problem: () => undefined,
    },
    20,
  );
  try {
    assert.deepEqual(
      (await follower.follow(dir)).map((r) => r.epoch),
      [0, 1],
    );
    appendFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(2)));
    await until(() => seen.length === 1);
    assert.deepEqual(seen, [2]);
    assert.equal(finished, undefined);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: 2, steps: 2, wallSeconds: 2 }));
    await until(() => finished !== undefined);
    assert.equal(finished, 'completed');
  } finally {
    follower.clear();
  }
});

const startRun = (records: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-ext-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'r', specPath: '/x.vae.json', startedAt: new Date().toISOString(), pid: process.pid }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'running', epochsDone: 1, steps: 1, wallSeconds: 1 }));
  writeFileSync(join(dir, 'metrics.jsonl'), records);
  return dir;
};

const followed = () => {
  const seen: number[] = [];
  const restarts: string[] = [];
  const ends: { status: string; message?: string }[] = [];
  const problems: string[] = [];
  const follower = new ExternalRunFollower(
    {
      records: (_d, rs) => void seen.push(...rs.map((r) => r.epoch)),
      restarted: (d) => restarts.push(d),
      finished: (_d, status, message) => ends.push({ status, message }),
      problem: (_d, p) => problems.push(p.message),
    },
    20,
  );
  return { follower, seen, restarts, ends, problems };
};

test('the last passes of a followed run are all shown, also one written without a final newline just before its end', async () => {
  const dir = startRun(toJsonLine(rec(0)));
  const { follower, seen, ends } = followed();
  try {
    await follower.follow(dir);
    // Written between two polls, as another writer ends its run: the last pass and the summary together.
    appendFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(1)) + toJsonLine(rec(2)).trimEnd());
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: 2, steps: 2, wallSeconds: 2 }));
    await until(() => ends.length > 0);
    assert.deepEqual(seen, [1, 2]);
    assert.equal(ends[0]!.status, 'completed');
  } finally {
    follower.clear();
  }
});

test('a followed run whose metrics.jsonl is started over (the writer restarted it in the same folder) is reported as restarted', async () => {
  const dir = startRun(toJsonLine(rec(0)) + toJsonLine(rec(1)) + toJsonLine(rec(2)));
  const { follower, restarts } = followed();
  try {
    await follower.follow(dir);
    writeFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(0, { elbo: -2 })) + toJsonLine(rec(1)) + toJsonLine(rec(2)) + toJsonLine(rec(3)));
    await until(() => restarts.length > 0);
    assert.deepEqual(restarts, [dir]);
  } finally {
    follower.clear();
  }
});

for (const how of ['deleted', 'renamed'] as const) {
  test(`a followed run folder ${how} while followed ends the following with a message that says the folder is gone`, async () => {
    const dir = startRun(toJsonLine(rec(0)));
    const { follower, ends } = followed();
    try {
      await follower.follow(dir);
      if (how === 'deleted') rmSync(dir, { recursive: true });
      else renameSync(dir, `${dir}-moved`);
      await until(() => ends.length > 0);
      assert.equal(ends[0]!.status, 'stopped');
      assert.match(ends[0]!.message ?? '', new RegExp(`${dir.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')} is gone \\(deleted, renamed or moved\\)`));
    } finally {
      follower.clear();
    }
  });
}

// run.json edited by hand while another process writes the run: its writer still lives, and the mistake is the file's.
const runJsonMistakes: { what: string; text: string; says: RegExp }[] = [
  { what: 'a missing comma', text: '{\n  "name": "r"\n  "specPath": "/x.vae.json"\n}\n', says: /run\.json is not valid JSON \(line 3, column 3/ },
  { what: 'a cut-short file', text: '{\n  "name": "r",\n', says: /run\.json is not valid JSON \(line \d+, column \d+: the file ends before/ },
  { what: 'specPath removed', text: JSON.stringify({ name: 'r', startedAt: new Date().toISOString() }), says: /needs "name", "specPath" and "startedAt"/ },
  { what: 'an empty file', text: '', says: /run\.json is not valid JSON \(the file is empty\)/ },
];

for (const m of runJsonMistakes) {
  test(`a followed run whose run.json is edited with ${m.what} is still followed, and the mistake is said with its file and line`, async () => {
    const dir = startRun(toJsonLine(rec(0)));
    const { follower, seen, ends, problems } = followed();
    try {
      await follower.follow(dir);
      writeFileSync(join(dir, 'run.json'), m.text);
      await until(() => problems.length > 0);
      appendFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(1)));
      await until(() => seen.length > 0);
      // A few more polls: the run is not called interrupted, and the same mistake is said once.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(ends.length, 0, `the run was ended by a mistake in its run.json: ${JSON.stringify(ends)}`);
      assert.deepEqual(seen, [1]);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.ok(problems[0]!.startsWith(`${join(dir, 'run.json')}: `), problems[0]);
      assert.match(problems[0]!, m.says);
      // Its summary's word still ends the run.
      writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'completed', epochsDone: 1, steps: 1, wallSeconds: 1 }));
      await until(() => ends.length > 0);
      assert.equal(ends[0]!.status, 'completed');
    } finally {
      follower.clear();
    }
  });
}

test('a followed run whose run.json alone is deleted names run.json as gone, not its folder', async () => {
  const dir = startRun(toJsonLine(rec(0)));
  const { follower, ends } = followed();
  try {
    await follower.follow(dir);
    rmSync(join(dir, 'run.json'));
    await until(() => ends.length > 0);
    assert.equal(ends[0]!.status, 'stopped');
    assert.ok(ends[0]!.message?.startsWith(`${join(dir, 'run.json')} is gone`), ends[0]!.message);
  } finally {
    follower.clear();
  }
});

// A line of metrics.jsonl written or edited by hand with a mistake while the run is followed: said with its file and line number in the whole file.
const badLines: { what: string; line: (epoch: number) => string; says: RegExp }[] = [
  { what: 'not JSON', line: (e) => `{"epoch": ${e}, "elbo": -3,,}`, says: /not valid JSON/ },
  { what: 'a field of another kind', line: (e) => JSON.stringify({ ...rec(e), elbo: 'high' }), says: /elbo/ },
  { what: 'a required field left out', line: (e) => JSON.stringify({ ...rec(e), epoch: undefined }), says: /epoch/ },
  { what: 'an array', line: () => '[1, 2, 3]', says: /./ },
];

for (const b of badLines) {
  test(`a bad line (${b.what}) written to a followed metrics.jsonl is said with its file and line number, and the good ones around it shown`, async () => {
    const dir = startRun(toJsonLine(rec(0)) + toJsonLine(rec(1)) + toJsonLine(rec(2)));
    const { follower, seen, problems } = followed();
    try {
      await follower.follow(dir);
      appendFileSync(join(dir, 'metrics.jsonl'), toJsonLine(rec(3)));
      await until(() => seen.length === 1);
      appendFileSync(join(dir, 'metrics.jsonl'), `${b.line(4)}\n` + toJsonLine(rec(5)));
      await until(() => problems.length > 0 && seen.length === 2);
      assert.deepEqual(seen, [3, 5]);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.ok(problems[0]!.startsWith(`${join(dir, 'metrics.jsonl')}:5: `), problems[0]);
      assert.match(problems[0]!, b.says);
    } finally {
      follower.clear();
    }
  });
}
