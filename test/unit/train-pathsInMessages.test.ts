/**
 * Paths made elsewhere (a folder with a space, a quote, a tab or newline pasted into its name, an
 * escape sequence, non-ASCII letters) through every message of the run lock, checkpoints, resume,
 * the run writer and the report: a path reads as it is when it is printable, escaped when it holds a
 * control character (never raw: a terminal would cut the line at it or obey it), and a command shown
 * to paste runs on the path meant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellWord, shownPath } from '../../src/core/errors';
import { describeWriteError } from '../../src/core/safeWrite';
import { startRequest, type FromTrainer } from '../../src/core/protocol';
import { RunLock } from '../../src/train/runLock';
import { readCheckpoint } from '../../src/train/checkpoint';
import { RunWriter } from '../../src/train/runWriter';
import { runSession } from '../../src/train/session';
import { writeReport } from '../../src/cli/report';
import { pathForDisplay } from '../../src/cli/format';
import { RAW_CONTROL, tempDir, userErrorMessage } from './data-testkit';

const NAMES = ['run x', 'run "q" \'s\'', 'run\nx', 'run\tx', 'rün ✓ 実験', 'run\u001b[31mred', 'run\rx', 'run\u2028x', 'run\u0085x', '-run $HOME `x`'];

/** The message names `p` as shownPath shows it, and carries no raw control character. */
function names(message: string, p: string, what: string): void {
  assert.doesNotMatch(message, RAW_CONTROL, `${what}: a raw control character in ${JSON.stringify(message)}`);
  assert.ok(message.includes(shownPath(p)), `${what}: ${JSON.stringify(message)} does not name ${JSON.stringify(shownPath(p))}`);
}

for (const name of NAMES) {
  test(`a run folder named ${JSON.stringify(name)} reads right in the messages of the lock, checkpoints, resume, writer and report`, async () => {
    const root = tempDir();
    const dir = join(root, name);
    mkdirSync(dir);
    // The lock: held by a live trainer here, by one on another machine (whose name is the file's), a folder in its place.
    writeFileSync(join(dir, 'run.lock'), '2147483\n');
    names(await userErrorMessage(() => RunLock.acquire(dir, () => true)), dir, 'live lock');
    writeFileSync(join(dir, 'run.lock'), `2147483\nhost${name}\n`);
    const remote = await userErrorMessage(() => RunLock.acquire(dir, () => true));
    names(remote, dir, 'remote lock');
    names(remote, `host${name}`.split('\n')[0]!.trim(), 'remote lock host');
    const lockDir = join(root, `${name}-2`);
    mkdirSync(join(lockDir, 'run.lock'), { recursive: true });
    names(await userErrorMessage(() => RunLock.acquire(lockDir)), join(lockDir, 'run.lock'), 'lock folder');
    // Checkpoints: missing, not JSON, not a checkpoint.
    const cp = join(dir, `latest ${name}.json`);
    names(await userErrorMessage(() => readCheckpoint(cp)), cp, 'missing checkpoint');
    writeFileSync(cp, '{');
    names(await userErrorMessage(() => readCheckpoint(cp)), cp, 'checkpoint not JSON');
    writeFileSync(cp, '{}');
    names(await userErrorMessage(() => readCheckpoint(cp)), cp, 'not a checkpoint');
    // The run writer: a folder that is no run, a runs folder that is a file, a failed write.
    names(await userErrorMessage(() => RunWriter.reopen(dir)), dir, 'reopen');
    const file = join(root, `${name}.txt`);
    writeFileSync(file, '');
    names(await userErrorMessage(() => RunWriter.checkRunsDir(file)), file, 'runs folder a file');
    names(await userErrorMessage(() => RunWriter.checkRunsDir(join(file, 'runs'))), file, 'runs folder under a file');
    const full = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    names(await userErrorMessage(() => Promise.reject(describeWriteError(full, join(dir, 'metrics.jsonl')))), join(dir, 'metrics.jsonl'), 'write failure');
    // Resume: no such folder, a file, a folder with no run.json.
    const specPath = join(root, 'a.vae.json');
    writeFileSync(specPath, JSON.stringify({ data: { synthetic: 'circle', n: 16 }, model: { latentDim: 1 }, training: { epochs: 1, backend: 'cpu' } }));
    for (const resume of [join(root, `${name}-missing`), file, dir]) {
      const events: FromTrainer[] = [];
      await runSession(startRequest({ specPath, requestedBy: 'cli', resume }), (e) => events.push(e), { stopRequested: false });
      const error = events.find((e): e is Extract<FromTrainer, { type: 'error' }> => e.type === 'error');
      assert.ok(error, `resume ${JSON.stringify(resume)}: no error`);
      names(error.message, resume, 'resume');
    }
    // The report: a run folder not found, a file, a folder without run.json.
    for (const run of [join(root, `${name}-missing`), file, dir]) names(await userErrorMessage(() => writeReport([run], {})), run, 'report');
  });
}

test('a path shown as a shell word is read back by a shell as that path (generated)', () => {
  const words = [...NAMES, 'plain/run-1', "it's", '\\back\\slash', 'a\u007fb', 'x\u0000'.slice(0, 1), ''];
  for (const p of words.filter((w) => w !== '')) {
    const word = shellWord(p);
    assert.doesNotMatch(word, RAW_CONTROL, JSON.stringify(p));
    const r = spawnSync('bash', ['-c', `printf %s ${word}`], { encoding: 'utf8' });
    assert.equal(r.stdout, p, `${JSON.stringify(p)} as ${word}`);
  }
});

test('the run folder the CLI prints is shown escaped when its name holds a control character', () => {
  for (const name of NAMES) {
    const shown = pathForDisplay(join('/work', name), '/work');
    assert.doesNotMatch(shown, RAW_CONTROL, JSON.stringify(name));
    assert.equal(shown, shownPath(name));
  }
});
