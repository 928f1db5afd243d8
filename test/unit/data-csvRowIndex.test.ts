/**
 * Row indexes written before the data: pandas' df.to_csv() of a MultiIndex (one column per level,
 * under empty names or the levels' names), R's write.csv row names, reset_index()'s level_N columns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseCsv, readCsvFile } from '../../src/data/csv';
import { assertWellFormed, expectUserError, rows, tempDir } from './data-testkit';

const csv = (text: string) => parseCsv(Buffer.from(text), 'd.csv');

type LevelKind = 'words' | 'whole numbers' | 'dates';

/** The value of index level `kind` on row i, as pandas writes it. */
function levelValue(kind: LevelKind, level: number, i: number): string {
  if (kind === 'words') return ['x', 'y', 'zeta', 'Ünter'][(i >> level) % 4]!;
  if (kind === 'whole numbers') return String((i >> level) % 3);
  return `2024-0${1 + (i % 9)}-1${level}`;
}

const table = (n: number, d: number) => Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => (i * d + j) / 4 - 1.5));

test('csv: leading columns without a name over labels, whole numbers or dates are the levels of a row index: skipped, named in one note (generated)', () => {
  const dir = tempDir();
  const kinds: LevelKind[] = ['words', 'whole numbers', 'dates'];
  let cases = 0;
  for (const levels of [1, 2, 3])
    for (const d of [1, 2, 4])
      for (const delimiter of [',', ';', '\t'])
        for (const quote of ['', '"'])
          for (let k = 0; k < kinds.length; k++) {
            const kindsOf = Array.from({ length: levels }, (_, l) => kinds[(k + l) % kinds.length]!);
            const m = table(5, d);
            const q = (c: string) => `${quote}${c}${quote}`;
            const header = [...kindsOf.map(() => q('')), ...m[0]!.map((_, j) => q(`f${j}`))].join(delimiter);
            const body = m.map((r, i) => [...kindsOf.map((kind, l) => q(levelValue(kind, l, i))), ...r.map(String)].join(delimiter));
            const text = [header, ...body].join('\n') + '\n';
            const what = JSON.stringify(text);
            const file = join(dir, 'index.csv');
            writeFileSync(file, text);
            for (const ds of [csv(text), readCsvFile(file, { chunkBytes: 9 })]) {
              assertWellFormed(ds);
              assert.equal(ds.dim, d, what);
              assert.deepEqual(rows(ds), m, what);
              const notes = (ds.notes ?? []).filter((n) => n.includes('row index'));
              assert.equal(notes.length, 1, `${what}: ${JSON.stringify(ds.notes)}`);
              const columns = levels === 1 ? 'column 1 has' : levels === 2 ? 'columns 1 and 2 have' : 'columns 1, 2 and 3 have';
              assert.match(notes[0]!, new RegExp(`^${columns} no name in the header .*skipped; the data are the other ${d} column`), what);
              if (kindsOf.includes('words')) assert.match(notes[0]!, /row labels \(such as "/, what);
            }
            cases++;
          }
  assert.equal(cases, 162);
});

test('csv: messages about a row after a skipped row index count the index columns among the fields', () => {
  expectUserError(() => csv(',,a,b\nx,0,0.5,1\ny,1,0.25,oops\n'), /row 2, field 4 is "oops"/, { line: 3, column: 10 });
  expectUserError(() => csv(',,a,b\nx,0,0.5,1\ny,1,0.25\n'), /line 3 has 3 comma-separated values but line 2 has 4/, { line: 3 });
});

test('csv: leading named columns of text (a row index saved under its level names) are refused in one message naming them and what to write (generated)', () => {
  const cases: Array<{ names: string[]; kinds: LevelKind[]; indexCol: string; named: RegExp }> = [
    {
      names: ['name'],
      kinds: ['words'],
      indexCol: 'index_col=0',
      named: /^column 1 \("name"\) holds text such as "x", not numbers: it looks like a row index/,
    },
    { names: ['day'], kinds: ['dates'], indexCol: 'index_col=0', named: /^column 1 \("day"\) holds text such as "2024-01-10"/ },
    {
      names: ['grp', 'k'],
      kinds: ['words', 'whole numbers'],
      indexCol: 'index_col=\\[0, 1\\]',
      named: /^column 1 \("grp"\) holds text .*, and column 2 \("k"\) beside it holds whole numbers: they look like the levels of a row index/,
    },
    {
      names: ['level_0', 'level_1'],
      kinds: ['words', 'words'],
      indexCol: 'index_col=\\[0, 1\\]',
      named: /^columns 1 and 2 \("level_0", "level_1"\) hold text/,
    },
    {
      names: ['city', 'street', 'n'],
      kinds: ['words', 'words', 'whole numbers'],
      indexCol: 'index_col=\\[0, 1, 2\\]',
      named: /^columns 1 and 2 \("city", "street"\) hold text .*, and column 3 \("n"\) beside them holds whole numbers/,
    },
  ];
  for (const { names, kinds, indexCol, named } of cases)
    for (const delimiter of [',', ';', '\t'])
      for (const d of [1, 3]) {
        const m = table(4, d);
        const header = [...names, ...m[0]!.map((_, j) => `f${j}`)].join(delimiter);
        const body = m.map((r, i) => [...kinds.map((kind, l) => levelValue(kind, l, i)), ...r.map(String)].join(delimiter));
        const text = [header, ...body].join('\n') + '\n';
        const err = expectUserError(() => csv(text), named, { file: 'd.csv', line: 1, column: 1 });
        assert.match(err.message, /VAE Lens reads numbers only: save the data without th(at column|ose columns), e\.g\. df\.to_csv\(path, index=False\)/, text);
        assert.match(err.message, new RegExp(indexCol), text);
      }
  // An unnamed level of fractions is no index to skip: the text level before it is said to have no name.
  expectUserError(() => csv(',,a\nx,0.5,1\ny,1.5,2\n'), /^column 1 \(no name\) holds text such as "x", not numbers/, { line: 1 });
  // Behind a skipped unnamed index, the index the user reads back spans it too.
  expectUserError(() => csv(',name,a\n0,x,0.5\n1,y,1.5\n'), /column 2 \("name"\) holds text .*index_col=\[0, 1\]/, { line: 1 });
});

test('csv: a named text column the loader cannot tell from one mistyped number, or after the data, is named on its cell as before', () => {
  for (const cell of ['D3', 'x1', '1.5D']) expectUserError(() => csv(`a,b\n${cell},2\n`), new RegExp(`row 1, field 1 is "${cell}", not a number`), { line: 2 });
  expectUserError(() => csv('a,species\n0.5,setosa\n0.25,virginica\n'), /row 1, field 2 is "setosa", not a number/, { line: 2 });
  // Only text columns: no data for them to stand before.
  expectUserError(() => csv('a,b\nx,y\nz,w\n'), /row 1, field 1 is "x", not a number/, { line: 2 });
});

test('csv: several columns pandas names as index levels (level_0, level_1, …) over whole numbers get one note naming them all (generated)', () => {
  for (const count of [2, 3])
    for (const delimiter of [',', ';', '\t']) {
      const names = Array.from({ length: count }, (_, l) => `level_${l}`);
      const body = [0, 1, 2, 3].map((i) => [...names.map((_, l) => String((i >> l) % 2)), `${i}.5`].join(delimiter));
      const ds = csv(`${[...names, 'x'].join(delimiter)}\n${body.join('\n')}\n`);
      assert.equal(ds.dim, count + 1);
      const notes = (ds.notes ?? []).filter((n) => n.includes('row index'));
      assert.equal(notes.length, 1, JSON.stringify(ds.notes));
      const columns = count === 2 ? 'columns 1 and 2' : 'columns 1, 2 and 3';
      assert.match(
        notes[0]!,
        new RegExp(
          `^${columns} are named ${names
            .map((n) => `"${n}"`)
            .join(count === 2 ? ' and ' : ', ')
            .replace(/, ("level_2")$/, ' and $1')}`,
        ),
      );
      assert.match(notes[0]!, new RegExp(`df\\.drop\\(columns=\\[${names.map((n) => `"${n}"`).join(', ')}\\]\\)\\.to_csv\\(path, index=False\\)`));
    }
});

test('csv: a first column under any name that counts the rows 0, 1, 2, … is read, with a note that it is trained as a feature', () => {
  for (const name of ['id', 'row', '"Row ID"']) {
    const ds = csv(`${name},x,y\n0,0.5,1\n1,1.5,2\n2,2.5,3\n3,3.5,4\n`);
    assert.equal(ds.dim, 3);
    const note = (ds.notes ?? []).find((n) => n.includes('row index'));
    assert.ok(note, JSON.stringify(ds.notes));
    assert.match(note, new RegExp(`^column 1 is named ${JSON.stringify(name.replace(/"/g, ''))} and holds the row numbers 0, 1, 2, …`));
  }
  // Too few rows to tell, counting from elsewhere, or not first: no such note.
  for (const text of ['id,x\n0,0.5\n1,1.5\n', 'id,x\n1,0.5\n2,1.5\n3,2.5\n', 'x,id\n0.5,0\n1.5,1\n2.5,2\n', 'id,x\n0,0.5\n2,1.5\n1,2.5\n']) {
    assert.ok(!(csv(text).notes ?? []).some((n) => n.includes('row index')), text);
  }
});

test('csv: header lines of columns with several levels (pandas MultiIndex columns) are named as such, not as a bad first cell (generated)', () => {
  for (const levels of [2, 3])
    for (const indexNames of [false, true])
      for (const index of [false, true])
        for (const delimiter of [',', ';', '\t']) {
          if (indexNames && !index) continue;
          const lead = index ? [''] : [];
          const headerLines = Array.from({ length: levels }, (_, l) => [...lead, ...['A', 'A', 'B'].map((c) => `${c}${'xyz'[l]}`)].join(delimiter));
          const namesLine = indexNames ? [[`idx`, '', '', ''].join(delimiter)] : [];
          const body = [0, 1, 2].map((i) => [...(index ? [String(i)] : []), `${i}.5`, '-1', '2'].join(delimiter));
          const text = [...headerLines, ...namesLine, ...body].join('\n') + '\n';
          const last = levels + (indexNames ? 1 : 0);
          const err = expectUserError(
            () => csv(text),
            new RegExp(`lines 1 ${last === 2 ? 'and' : 'to'} ${last} are all header lines, as pandas' to_csv writes columns of several levels`),
            {
              file: 'd.csv',
              line: 2,
              column: 1,
            },
          );
          assert.match(err.message, /df\.columns = \["_"\.join\(map\(str, c\)\) for c in df\.columns\]/);
        }
  // A header over rows of numbers with holes, or a file of text only: not said so.
  expectUserError(() => csv('a,b\nNA,NA\n1,2\n'), /row 1, field 1 is "NA", a missing value/, { line: 2 });
  expectUserError(() => csv('a,b\nx,y\nz,w\n'), /row 1, field 1 is "x", not a number/, { line: 2 });
});

test('csv: an index written again each time pandas read the file back and saved it (,Unnamed: 0,… columns) is skipped whole, in one note naming every index column (generated)', () => {
  const dir = tempDir();
  // pandas names an empty header name "Unnamed: N" when it reads the file back, and a second "Unnamed: 0" "Unnamed: 0.1".
  const unnamed = fc.tuple(fc.integer({ min: 0, max: 12 }), fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }));
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.array(unnamed, { minLength: 1, maxLength: 3 }),
      fc.constantFrom<LevelKind>('words', 'whole numbers', 'dates'),
      fc.constantFrom(',', ';', '\t'),
      fc.constantFrom('', '"'),
      fc.integer({ min: 1, max: 3 }),
      (empties, olds, kind, delimiter, quote, d) => {
        const q = (c: string) => `${quote}${c}${quote}`;
        const oldNames = olds.map(([k, dup]) => `Unnamed: ${k}${dup === undefined ? '' : `.${dup}`}`);
        const levels = empties + oldNames.length;
        const m = table(4, d);
        const header = [...Array.from({ length: empties }, () => q('')), ...oldNames.map(q), ...m[0]!.map((_, j) => q(`f${j}`))].join(delimiter);
        const body = m.map((r, i) => [...Array.from({ length: levels }, (_, l) => q(levelValue(kind, l, i))), ...r.map(String)].join(delimiter));
        const text = [header, ...body].join('\n') + '\n';
        const what = JSON.stringify(text);
        const file = join(dir, 'again.csv');
        writeFileSync(file, text);
        for (const ds of [csv(text), readCsvFile(file, { chunkBytes: 11 })]) {
          assertWellFormed(ds);
          assert.deepEqual(rows(ds), m, what);
          const notes = (ds.notes ?? []).filter((n) => n.includes('row index'));
          assert.equal(notes.length, 1, `${what}: ${JSON.stringify(ds.notes)}`);
          const columns = Array.from({ length: levels }, (_, l) => String(l + 1));
          const listed = `${columns.slice(0, -1).join(', ')} and ${columns[columns.length - 1]}`;
          assert.match(notes[0]!, new RegExp(`^columns ${listed} \\(`), what);
          for (const name of oldNames) assert.ok(notes[0]!.includes(JSON.stringify(name)), `${what}: ${notes[0]}`);
          assert.match(notes[0]!, new RegExp(`skipped; the data are the other ${d} column`), what);
          assert.match(notes[0]!, new RegExp(`index_col=\\[${columns.map((c) => Number(c) - 1).join(', ')}\\]`), what);
        }
        // A bad cell after them is counted among all the file's fields.
        const bad = [header, ...body.slice(0, -1), body[body.length - 1]!.replace(/[^,;\t]+$/, 'oops')].join('\n') + '\n';
        expectUserError(() => csv(bad), new RegExp(`row 4, field ${levels + d} is "oops"`), { line: 5 });
      },
    ),
    { seed: 20261203, numRuns: 150 },
  );
});

/** A row label starting with a digit, as an ordinal, a code or a date with more after it writes one. */
const codeLabel = fc
  .tuple(fc.integer({ min: 0, max: 2999 }), fc.constantFrom('a', 'b', 'rd', 'st', 'th', 'x', 'A', '_q', '-B', 'ab7', 'Ü', 'km2'))
  .map(([n, rest]) => `${n}${rest}`);
const digitLabel = fc.oneof(
  codeLabel,
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 10, max: 28 })).map(([m, d]) => `2024-0${m}-${d}x`),
);
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('csv: a column of row labels starting with a digit (1a, 3rd, 2024-01-05x) is labels, while one such cell among numbers is a bad cell named on its line and column (generated)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(digitLabel, digitLabel, fc.constantFrom('x', 'zeta')), { minLength: 2, maxLength: 6 }).filter((c) => c.some((v) => /^\d/.test(v))),
      fc.boolean(),
      fc.constantFrom(',', ';', '\t'),
      fc.constantFrom('', '"'),
      fc.integer({ min: 1, max: 3 }),
      (labels, named, delimiter, quote, d) => {
        const q = (c: string) => `${quote}${c}${quote}`;
        const m = table(labels.length, d);
        const header = [q(named ? 'name' : ''), ...m[0]!.map((_, j) => q(`f${j}`))].join(delimiter);
        const text = [header, ...m.map((r, i) => [q(labels[i]!), ...r.map(String)].join(delimiter))].join('\n') + '\n';
        const what = JSON.stringify(text);
        if (named) {
          expectUserError(() => csv(text), new RegExp(`^column 1 \\("name"\\) holds text such as "${escaped(labels[0]!)}", not numbers`), {
            line: 1,
            column: 1,
          });
          return;
        }
        const ds = csv(text);
        assert.deepEqual(rows(ds), m, what);
        const notes = (ds.notes ?? []).filter((n) => n.includes('row index'));
        assert.equal(notes.length, 1, `${what}: ${JSON.stringify(ds.notes)}`);
        assert.match(notes[0]!, new RegExp(`^column 1 has no name in the header and holds row labels \\(such as "${escaped(labels[0]!)}"\\)`), what);
      },
    ),
    { seed: 20261203, numRuns: 200 },
  );
  // Among numbers (as the reader writes them: -3, 1e5, 0.25), one such cell is a number mistyped: said on its cell, never skipped.
  // (A cell starting with a date is a label anywhere, as before: an unnamed index may mix labels and whole numbers.)
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('-3', '1e5', '0.25', '7', '12', '1E-2'), { minLength: 2, maxLength: 6 }),
      fc.nat(),
      codeLabel,
      fc.constantFrom('', 'name'),
      fc.constantFrom(',', ';', '\t'),
      (numbers, at, label, name, delimiter) => {
        const r = at % numbers.length;
        const cells = numbers.map((v, i) => (i === r ? label : v));
        const text = [`${name}${delimiter}x`, ...cells.map((c, i) => `${c}${delimiter}${i}.5`)].join('\n') + '\n';
        expectUserError(() => csv(text), new RegExp(`^row ${r + 1}, field 1 is "${escaped(label)}", not a number`), { line: r + 2, column: 1 });
        const clean = [`name${delimiter}x`, ...numbers.map((c, i) => `${c}${delimiter}${i}.5`)].join('\n') + '\n';
        assert.deepEqual(
          rows(csv(clean)),
          numbers.map((v, i) => [Math.fround(Number(v)), i + 0.5]),
          clean,
        );
      },
    ),
    { seed: 20261203, numRuns: 200 },
  );
  // Cells the reader does not take as numbers but that are numbers written wrong are no labels either: named on their cell.
  for (const cells of [
    ['0x1F', '0x20'],
    ['1.5D', '2.5D'],
    ['1+2j', '3-1j'],
    ['2e+', '3e'],
  ])
    for (const name of ['', 'name']) {
      const text = `${name},x\n${cells.map((c, i) => `${c},${i}`).join('\n')}\n`;
      expectUserError(() => csv(text), new RegExp(`^row 1, field 1 is "${escaped(cells[0]!)}"`), { line: 2, column: 1 });
    }
});
