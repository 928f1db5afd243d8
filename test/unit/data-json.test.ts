import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonData, readJsonFile } from '../../src/data/json';
import fc from 'fast-check';
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
  expectUserError(() => json('[[1,2],\n [3]]'), /row 2 has 1 value but row 1 \(line 1\) has 2/, { file: 'd.json', row: 2, line: 2, column: 2 });
  expectUserError(() => json('[[1,2],\n[3,null]]'), /row 2, value 2 should be a number but is null/, { row: 2, line: 2, column: 4 });
  expectUserError(() => json('[[1,"2"]]'), /row 1, value 2 should be a number but is a string/, { row: 1, column: 5 });
  expectUserError(() => json('[1, NaN]'), /element 2 should be a number but is NaN.*finite/, { row: 2 });
  expectUserError(() => json('[[1e39]]'), /beyond the float32 range/);
  expectUserError(() => json('[[1.2.3]]'), /"1\.2\.3", not a valid number/);
  expectUserError(() => json('[[1],2]'), /row 2 should be an array like row 1 \(an array of 1 number\), but is "2"/, { row: 2 });
  expectUserError(() => json('[1,[2]]'), /row 2 is an array, but row 1 is a single number/, { row: 2 });
  expectUserError(() => json('[[1], []]'), /row 2 is empty/, { row: 2 });
});

test('json: wrong top level, empty, unclosed, trailing garbage', () => {
  expectUserError(() => json('{"data": [[1]]}'), /expected a JSON array of rows.*found an object/, { line: 1, column: 1 });
  expectUserError(() => json(''), /the file is empty \(0 bytes\)/);
  expectUserError(() => json(' \n\t'), /only white space/);
  expectUserError(() => json('[]'), /array is empty/);
  expectUserError(() => json('[[1,2],[3,4]'), /not closed/, { offset: 0 });
  expectUserError(() => json('[[1,2] [3,4]]'), /expected ',' or '\]' after row 1/, { column: 8 });
  expectUserError(() => json('[[1]] x'), /unexpected "x" after the end/, { column: 7 });
});

const matrixArb = (maxDim: number) =>
  fc
    .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: maxDim }))
    .chain(([n, d]) => fc.array(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: d, maxLength: d }), { minLength: n, maxLength: n }))
    .map((m) => m.map((r) => r.map((v) => v / 8)));

test('json: rows that are images (H x W or H x W x C arrays) are read with their shape (generated)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 3 }), fc.boolean(), (n, shape, pretty) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const flat = Array.from({ length: n }, (_, i) => Array.from({ length: size }, (_, j) => (i * size + j) / 4));
      const nest = (values: number[], dims: number[]): unknown =>
        dims.length === 1
          ? values
          : Array.from({ length: dims[0]! }, (_, k) => nest(values.slice((k * values.length) / dims[0]!, ((k + 1) * values.length) / dims[0]!), dims.slice(1)));
      const text = JSON.stringify(
        flat.map((r) => nest(r, shape)),
        null,
        pretty ? 1 : undefined,
      );
      const ds = json(text);
      assertWellFormed(ds);
      assert.equal(ds.dim, size);
      assert.deepEqual(ds.imageShape, shape);
      assert.deepEqual(rows(ds), flat);
    }),
    { seed: 20261201, numRuns: 150 },
  );
  expectUserError(
    () => json('[[[1,2],[3,4]], [[5,6],[7]]]'),
    /row 2, element \[1\] has 1 value but the arrays at this depth of row 1 \(line 1, a 2 x 2 array of numbers\) have 2/,
    { row: 2 },
  );
  expectUserError(() => json('[[[1,2],[3,4]], [5,6]]'), /row 2, element \[0\] should be an array, as in row 1 \(a 2 x 2 array of numbers\), but is "5"/, {
    row: 2,
  });
  expectUserError(() => json('[[1,2], [[5,6],[7,8]]]'), /row 2, value 1 is an array, but row 1 is an array of 2 numbers/, { row: 2 });
  expectUserError(() => json('[[[[[1]]]]]'), /nested more than 3 deep/);
});

test('json: a comma after the last row or value is named, at the comma (generated)', () => {
  fc.assert(
    fc.property(matrixArb(4), fc.nat(), fc.boolean(), (m, pick, inRow) => {
      const r = pick % m.length;
      const rowText = m.map((row, i) => `[${row.join(', ')}${inRow && i === r ? ',' : ''}]`);
      const text = `[\n${rowText.join(',\n')}${inRow ? '' : ','}\n]\n`;
      const comma = inRow ? text.indexOf(',]') : text.lastIndexOf(',');
      const err = expectUserError(
        () => json(text),
        inRow ? new RegExp(`row ${r + 1} has a comma after its last value`) : new RegExp(`a comma after the last row \\(row ${m.length}\\)`),
      );
      assert.equal(err.location.offset, comma);
    }),
    { seed: 20261202, numRuns: 150 },
  );
});

test('json: JSON Lines of numeric rows are read as rows (generated)', () => {
  const dir = tempDir();
  fc.assert(
    fc.property(matrixArb(5), fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.boolean(), (m, eol, last, spaced) => {
      const lines = m.map((r) => (spaced ? ` ${JSON.stringify(r).replace(/,/g, ', ')} ` : JSON.stringify(r)));
      const text = lines.join(eol) + (last ? eol : '');
      const want = m.map((r) => r.map(Math.fround));
      if (m.length > 1) assert.deepEqual(rows(json(text)), want);
      // Named .jsonl, one line is one row too.
      const path = join(dir, 'rows.jsonl');
      writeFileSync(path, text);
      assert.deepEqual(rows(readJsonFile(path)), want);
    }),
    { seed: 20261203, numRuns: 150 },
  );
  expectUserError(() => json('[1,2]\n[3,4,5]\n'), /row 2 has 3 values but row 1 \(line 1\) has 2/, { line: 2 });
  expectUserError(() => json('[1,2],\n[3,4],\n'), /a comma after the top-level array: the file holds several arrays/, { line: 1, column: 6 });
  expectUserError(() => parseJsonData(Buffer.from('[1,2],\n[3,4]\n'), 'd.jsonl'), /a comma after row 1: in JSON Lines/, { line: 1 });
  expectUserError(() => parseJsonData(Buffer.from('[1,2]\n[3,4] [5,6]\n'), 'd.jsonl'), /row 3 starts on the line of row 2/, { line: 2 });
  expectUserError(() => json('[[1]] [[2]]'), /a second array follows the top-level array on the same line/);
});

test('json: rows with named fields (pandas to_json orients other than "values") are named so, with the orient that is read', () => {
  const records = [
    { a: 1, b: 2 },
    { a: 3, b: 4 },
  ];
  const cases: Array<{ name: string; text: string; line: number; column: number }> = [
    { name: 'd.json', text: JSON.stringify(records), line: 1, column: 2 },
    { name: 'd.json', text: JSON.stringify(records, null, 2), line: 2, column: 3 },
    { name: 'd.json', text: `[1, 2, ${JSON.stringify(records[0])}]`, line: 1, column: 8 },
    { name: 'd.jsonl', text: records.map((r) => JSON.stringify(r)).join('\n'), line: 1, column: 1 },
    { name: 'd.json', text: records.map((r) => JSON.stringify(r)).join('\n'), line: 1, column: 1 },
    { name: 'd.json', text: JSON.stringify({ a: { 0: 1, 1: 3 }, b: { 0: 2, 1: 4 } }), line: 1, column: 1 },
    { name: 'd.json', text: JSON.stringify({ columns: ['a', 'b'], index: [0, 1], data: [[1, 2]] }), line: 1, column: 1 },
    { name: 'd.json', text: `\n  ${JSON.stringify({ 0: records[0] })}`, line: 2, column: 3 },
  ];
  for (const c of cases) {
    const err = expectUserError(() => parseJsonData(Buffer.from(c.text), c.name), /(row 1|element 3|found an object) (is |with )?.*named fields/, {
      line: c.line,
      column: c.column,
    });
    assert.match(err.message, /orient="values"/, c.text);
  }
});

test('json: a one-line array followed only by white space is one array; a second array on a later line makes JSON Lines', () => {
  for (const tail of ['', '\n', '\r\n', '\n\n  \t\n', ' \n ']) {
    assert.deepEqual(rows(json(`[[1,2],[3,4]]${tail}`)), [
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(rows(json(`[1,2]${tail}`)), [[1], [2]]);
    for (const gap of ['\n', '\r\n', '\n\n  \n']) {
      assert.deepEqual(rows(json(`[1,2]${gap}[3,4]${tail}`)), [
        [1, 2],
        [3, 4],
      ]);
    }
  }
});
