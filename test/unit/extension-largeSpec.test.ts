/**
 * A *.vae.json that is not a spec but some other tool's big JSON: the editor says what is wrong, at
 * once, instead of parsing and checking megabytes in the extension host on opening it and after each
 * edit (the trainer refuses a spec over 1 MiB anyway).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/core/errors';
import { parseSpecDocument } from '../../src/core/spec';
import { checkSpecText } from '../../src/extension/specs/specChecks';
import { specChangedSince } from '../../src/core/specChange';

const opts = { trusted: true, workspaceRoots: [], allowOutsideWorkspace: false };
const MiB = 1 << 20;
/** A spec padded with a long name to `bytes` bytes of UTF-8, the padding `unit` repeated ("é" is two bytes). */
const specOf = (bytes: number, unit = 'x') => {
  const head = '{ "data": { "synthetic": "swiss_roll" }, "model": { "latentDim": 2 }, "name": "';
  const tail = '" }';
  const room = bytes - Buffer.byteLength(head + tail);
  const per = Buffer.byteLength(unit);
  return head + unit.repeat(Math.floor(room / per)) + 'x'.repeat(room % per) + tail;
};

test('a spec up to 1 MiB is read; one byte more is refused with its size, in ASCII and in multi-byte text', () => {
  for (const unit of ['x', 'é', '模', '😀']) {
    assert.equal(parseSpecDocument(specOf(MiB, unit), 'big.vae.json').kind, 'model');
    assert.throws(
      () => parseSpecDocument(specOf(MiB + 1, unit), 'big.vae.json'),
      (e) => isUserError(e) && /over 1 MiB; a spec is a small JSON file/.test(e.message) && e.location.file === 'big.vae.json' && e.location.line === 1,
    );
  }
});

test("another tool's 10 MB JSON named *.vae.json gets one problem, quickly, and editing it costs no parse", () => {
  const rows = Array.from({ length: 300_000 }, (_, i) => `{"id": ${i}, "v": ${i}}`).join(',\n');
  for (const text of [`[${rows}]`, `{ "records": [${rows}] }`]) {
    const t0 = performance.now();
    const problems = checkSpecText(text, '/ws/export.vae.json', opts);
    const edited = specChangedSince(text + ' ', text);
    const ms = performance.now() - t0;
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /over 1 MiB.*Is it the right file\?/);
    assert.deepEqual(problems[0]!.range.start, { line: 0, character: 0 });
    assert.equal(edited, true);
    assert.ok(ms < 1500, `${ms.toFixed(0)} ms`);
  }
});
