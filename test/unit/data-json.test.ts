import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonData, readJsonFile } from '../../src/data/json';
import { assertWellFormed, expectUserError, rows, tempDir } from './data-testkit';

const json = (text: string, maxRows?: number) => parseJsonData(Buffer.from(text), 'd.json', { maxRows });

test('json: array of rows from a file', () => {
  const path = join(tempDir(), 'd.json');
  const data = [
    [0.1, -2, 3e5],
    [4, 5.5, -6e-7],
  ];
  writeFileSync(path, JSON.stringify(data, null, 2));
  const ds = readJsonFile(path);
  assertWellFormed(ds);
  assert.equal(ds.n, 2);
  assert.equal(ds.dim, 3);
  assert.deepEqual(
    rows(ds),
    data.map((r) => r.map(Math.fround)),
  );
  assert.equal(ds.source, path);
});

test('json: array of numbers is N x 1; whitespace and BOM allowed; maxRows', () => {
  const ds = json('\ufeff [ 1 , 2.5,\n -3 ] \n');
  assert.equal(ds.dim, 1);
  assert.deepEqual(Array.from(ds.values), [1, 2.5, -3]);
  assert.deepEqual(Array.from(json('[[1],[2],[3]]', 2).values), [1, 2]);
  assert.equal(json('[[1],[2],[3]]', 2).n, 2);
});

test('json: many rows grow the buffer correctly', () => {
  const data = Array.from({ length: 3000 }, (_, i) => [i, -i]);
  const ds = json(JSON.stringify(data));
  assert.equal(ds.n, 3000);
  assert.equal(ds.values.length, 6000);
  assert.deepEqual(rows(ds)[2999], [2999, -2999]);
});

test('json: ragged rows and bad values are located by row and line', () => {
  expectUserError(() => json('[[1,2],\n [3]]'), /row 2 has 1 values but row 1 \(line 1\) has 2/, { file: 'd.json', row: 2, line: 2, column: 2 });
  expectUserError(() => json('[[1,2],\n[3,null]]'), /row 2, value 2 should be a number but is null/, { row: 2, line: 2, column: 4 });
  expectUserError(() => json('[[1,"2"]]'), /row 1, value 2 should be a number but is a string/, { row: 1, column: 5 });
  expectUserError(() => json('[1, NaN]'), /element 2 should be a number but is NaN.*finite/, { row: 2 });
  expectUserError(() => json('[[1e39]]'), /beyond the float32 range/);
  expectUserError(() => json('[[1.2.3]]'), /"1\.2\.3", not a valid number/);
  expectUserError(() => json('[[1],2]'), /row 2 should be an array of numbers like row 1, but is "2"/, { row: 2 });
  expectUserError(() => json('[1,[2]]'), /row 2 is an array, but row 1 is a single number/, { row: 2 });
  expectUserError(() => json('[[1], []]'), /row 2 is empty/, { row: 2 });
});

test('json: wrong top level, empty, unclosed, trailing garbage', () => {
  expectUserError(() => json('{"data": [[1]]}'), /expected a JSON array of rows.*found an object/, { line: 1, column: 1 });
  expectUserError(() => json(''), /found the end of the file/);
  expectUserError(() => json('[]'), /array is empty/);
  expectUserError(() => json('[[1,2],[3,4]'), /not closed/, { offset: 0 });
  expectUserError(() => json('[[1,2] [3,4]]'), /expected ',' or '\]' after row 1/, { column: 8 });
  expectUserError(() => json('[[1]] x'), /unexpected "x" after the end/, { column: 7 });
});
