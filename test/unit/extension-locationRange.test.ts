import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locationToRange, positionAt, lineStarts } from '../../src/extension/specs/locationRange';
import { parseSpec } from '../../src/core/spec';
import { isUserError } from '../../src/core/errors';

const text = '{\n  "model": {\n    "latentDim": "two"\n  }\n}\n';

test('positionAt maps offsets to 0-based line and character, clamped to the text', () => {
  const starts = lineStarts(text);
  assert.deepEqual(positionAt(starts, text, 0), { line: 0, character: 0 });
  assert.deepEqual(positionAt(starts, text, text.indexOf('"latentDim"')), { line: 2, character: 4 });
  assert.deepEqual(positionAt(starts, text, 10_000), { line: 5, character: 0 });
});

test('an offset/length location covers exactly the offending value', () => {
  const off = text.indexOf('"two"');
  const r = locationToRange({ offset: off, length: 5, line: 99, column: 99 }, text);
  assert.deepEqual(r, { start: { line: 2, character: 17 }, end: { line: 2, character: 22 } });
});

test('a zero-length location still underlines one character', () => {
  const r = locationToRange({ offset: 1, length: 0 }, text);
  assert.deepEqual(r, { start: { line: 0, character: 1 }, end: { line: 1, character: 0 } });
});

test('a line/column location underlines the word that starts there', () => {
  const r = locationToRange({ line: 3, column: 18 }, text);
  assert.deepEqual(r, { start: { line: 2, character: 17 }, end: { line: 2, character: 22 } });
});

test('a line without column marks the whole line; out-of-range lines are clamped', () => {
  assert.deepEqual(locationToRange({ line: 2 }, text), { start: { line: 1, character: 0 }, end: { line: 1, character: 12 } });
  assert.equal(locationToRange({ line: 500, column: 3 }, text).start.line, 5);
});

test('no location marks the first line', () => {
  assert.deepEqual(locationToRange({}, text), { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } });
});

test('every problem parseSpec reports maps to the text it names', () => {
  const bad = '{\n  "data": { "synthetic": "swiss_rol" },\n  "model": { "latentDim": 0, "typo": 1 }\n}\n';
  try {
    parseSpec(bad, 'x.vae.json');
    assert.fail('expected a UserError');
  } catch (e) {
    assert.ok(isUserError(e));
    const all = [{ message: e.message, location: e.location }, ...e.more];
    assert.ok(all.length >= 3, `expected three problems, got ${all.length}`);
    const covered = all.map((p) => {
      const r = locationToRange(p.location, bad);
      const lines = bad.split('\n');
      assert.equal(r.start.line, r.end.line);
      return lines[r.start.line]!.slice(r.start.character, r.end.character);
    });
    assert.ok(covered.includes('"swiss_rol"'), covered.join(' | '));
    assert.ok(covered.includes('0'), covered.join(' | '));
    assert.ok(covered.includes('"typo"'), covered.join(' | '));
  }
});
