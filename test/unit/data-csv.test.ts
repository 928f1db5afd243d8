import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseCsv, readCsvFile } from '../../src/data/csv';
import { parseDecimal } from '../../src/data/numberText';
import fc from 'fast-check';
import { assertWellFormed, expectUserError, rows, tempDir } from './data-testkit';
import { SKLEARN_DIGITS, requireMachineFile } from './machineFiles';

const csv = (text: string, opts?: Parameters<typeof parseCsv>[2]) => parseCsv(Buffer.from(text), 'd.csv', opts);

test('csv: header guessed from a non-numeric first line, values row-major', () => {
  const ds = csv('x,y,z\n1,2,3\n4.5,-6,7e-1\n');
  assertWellFormed(ds);
  assert.equal(ds.n, 2);
  assert.equal(ds.dim, 3);
  assert.deepEqual(rows(ds), [
    [1, 2, 3],
    [4.5, -6, Math.fround(0.7)],
  ]);
  assert.equal(ds.sourceType, 'text');
});

test('csv: no header when the first line is numeric; explicit header:true skips a numeric first line', () => {
  assert.deepEqual(rows(csv('1,2\n3,4\n')), [
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(rows(csv('1,2\n3,4\n', { header: true })), [[3, 4]]);
});

test('csv: semicolon, tab and space delimiters are detected; CRLF, BOM, blank and # lines are fine', () => {
  assert.deepEqual(rows(csv('a;b\r\n1;2\r\n3;4\r\n')), [
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(rows(csv('a\tb\n1\t2\n')), [[1, 2]]);
  assert.deepEqual(rows(csv('# numpy.savetxt header\n1.0e+00 2.0e+00\n  3   4  \n')), [
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(rows(csv('\ufeffx,y\n\n1,2\n\n')), [[1, 2]]);
  assert.deepEqual(rows(csv('"x","y, with comma"\n"1",2\n')), [[1, 2]]);
});

test('csv: a single column', () => {
  const ds = csv('value\n1\n2\n3');
  assert.equal(ds.dim, 1);
  assert.deepEqual(Array.from(ds.values), [1, 2, 3]);
});

test('csv: numbers parse exactly like Number() then float32', () => {
  const samples = ['0', '-0.5', '1e10', '123456789012345678', '3.14159265358979323846', '.5', '5.', '+7', '1E-30', '4.9e-324'];
  for (const s of samples) {
    const b = Buffer.from(s);
    assert.equal(parseDecimal(b, 0, b.length), Number(s), s);
  }
  assert.ok(Number.isNaN(parseDecimal(Buffer.from('1.2.3'), 0, 5)));
  assert.ok(Number.isNaN(parseDecimal(Buffer.from('e5'), 0, 2)));
});

test('csv: maxRows stops early', () => {
  const ds = csv('a\n1\n2\n3\n4\n', { maxRows: 2 });
  assert.equal(ds.n, 2);
  assert.deepEqual(Array.from(ds.values), [1, 2]);
});

test('csv: ragged row is located by line and row', () => {
  const err = expectUserError(() => csv('a,b\n1,2\n3,4,5\n'), /line 3 has 3 comma-separated values but line 2 has 2/, {
    file: 'd.csv',
    line: 3,
    row: 2,
  });
  assert.equal(err.location.offset, 8);
  expectUserError(() => csv('1,2\n3\n'), /line 2 has 1/, { line: 2 });
});

test('csv: bad cells name line, column, and what would be right', () => {
  expectUserError(() => csv('a,b\n1,2\n3,abc\n'), /row 2, field 2 is "abc", not a number.*like 0\.25/, { line: 3, column: 3, row: 2 });
  expectUserError(() => csv('1,2\n3,NaN\n'), /"NaN".*finite numbers/, { line: 2, column: 3 });
  expectUserError(() => csv('1,2\n-inf,2\n'), /"-inf".*finite/, { line: 2, column: 1 });
  expectUserError(() => csv('1,,2\n'), /field 2 is empty/, { line: 1, column: 3 });
  expectUserError(() => csv('1,2\n1e39,2\n'), /beyond the float32 range/, { line: 2, column: 1 });
  expectUserError(() => csv('a;b\n1,5,5;2\n'), /row 1, field 1 is "1,5,5", not a number/, { line: 2 });
  expectUserError(() => csv('a;b\n1.5,5;2\n'), /row 1, field 1 is "1.5,5", not a number/, { line: 2 });
  expectUserError(() => csv('a;b\n1,0e39;2\n'), /beyond the float32 range/, { line: 2 });
});

test('csv: semicolon files with decimal commas, as spreadsheets in most of Europe save them, are read', () => {
  const m = [
    [0.5, -1.25, 3],
    [1e-3, 2.5e4, -0.75],
    [12, 0, 1.5],
  ];
  const comma = (v: number, k: number) => {
    const t = [String(v), v.toExponential(), v.toFixed(3)][k % 3]!;
    return t.includes('.') ? t.replace('.', ',') : t;
  };
  for (const header of [false, true])
    for (const quoted of [false, true])
      for (const eol of ['\n', '\r\n'])
        for (const bom of ['', '\ufeff'])
          for (let k = 0; k < 3; k++) {
            const q = (c: string) => (quoted ? `"${c}"` : c);
            const lines = m.map((r, i) => r.map((v, j) => q(comma(v, k + i + j))).join(';'));
            if (header) lines.unshift(['Höhe', 'Breite', 'Tiefe'].map(q).join(';'));
            const text = bom + lines.join(eol) + eol;
            const ds = csv(text);
            const what = JSON.stringify(text);
            assert.equal(ds.dim, 3, what);
            assert.deepEqual(
              rows(ds),
              m.map((r) => r.map(Math.fround)),
              what,
            );
          }
});

test('csv: a semicolon file that writes decimals both ways is refused at the later cell, naming both', () => {
  // Rows of "i,5;0,25" with one cell written with a point somewhere: a point beside decimal commas
  // may be a thousands separator ("1.234" for 1234), so neither reading is safe.
  for (const at of [0, 1, 4, 9])
    for (const field of [0, 1]) {
      const lines = Array.from({ length: 10 }, (_, i) => [`${i},5`, '0,25']);
      lines[at]![field] = '1.234';
      // The first decimal comma is row 1, field 1, unless the point took that cell.
      const comma = at === 0 && field === 0 ? { row: 1, field: 2 } : { row: 1, field: 1 };
      const later = at === 0 && field === 0 ? { line: 2, column: 7 } : { line: at + 2, column: field === 0 ? 1 : lines[at]![0]!.length + 2 };
      expectUserError(
        () => csv(`x;y\n${lines.map((l) => l.join(';')).join('\n')}\n`),
        new RegExp(
          `row ${at + 1}, field ${field + 1} is "1\\.234" with a decimal point, but row ${comma.row}, field ${comma.field} is "[^"]+" with a decimal comma`,
        ),
        later,
      );
    }
  // One mark throughout reads either way.
  assert.deepEqual(rows(csv('x;y\n1.5;2.25\n3;4\n')), [
    [1.5, 2.25],
    [3, 4],
  ]);
  assert.deepEqual(rows(csv('x;y\n1,5;2,25\n3;4\n')), [
    [1.5, 2.25],
    [3, 4],
  ]);
});

test('csv: header:false with a header line hints at the option', () => {
  expectUserError(() => csv('x,y\n1,2\n', { header: false }), /data\.header is false/, { line: 1, column: 1 });
});

test('csv: empty file, only comments, only a header, header/width mismatch', () => {
  expectUserError(() => csv(''), /no data rows/, { file: 'd.csv', line: 1 });
  expectUserError(() => csv('# c\n\n'), /no data rows/);
  expectUserError(() => csv('x,y\n'), /header line but no data rows/, { line: 1 });
  expectUserError(() => csv('x,y,z\n1,2\n'), /header has 3 names but the first data row \(line 2\) has 2/, { line: 1 });
});

test('csv: files are read in chunks; lines across chunk edges, gzip too', () => {
  const dir = tempDir();
  const lines = ['c1,c2,c3'];
  const expected: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const row = [i, i * 0.25, -i / 7];
    expected.push(...row.map((v) => Math.fround(Number(String(v)))));
    lines.push(row.map((v) => String(v)).join(','));
  }
  const text = lines.join('\n') + '\n';
  const path = join(dir, 'big.csv');
  writeFileSync(path, text);
  const ds = readCsvFile(path);
  assert.deepEqual(Array.from(readCsvFile(path, { chunkBytes: 100 }).values), Array.from(ds.values));
  assert.deepEqual(Array.from(readCsvFile(path, { chunkBytes: 7 }).values), Array.from(ds.values));
  assert.equal(ds.n, 5000);
  assert.equal(ds.dim, 3);
  assert.deepEqual(Array.from(ds.values), expected);
  assert.equal(ds.source, path);

  const gzPath = join(dir, 'big.csv.gz');
  writeFileSync(gzPath, gzipSync(text));
  assert.deepEqual(Array.from(readCsvFile(gzPath).values), expected);

  // An error deep in the file is located on the right line with its file offset.
  const broken = text.replace('\n2500,', '\n2500,x');
  const brokenPath = join(dir, 'broken.csv');
  writeFileSync(brokenPath, broken);
  expectUserError(() => readCsvFile(brokenPath, { chunkBytes: 33 }), /row 2501, field 2/, { line: 2502 });
  const err = expectUserError(() => readCsvFile(brokenPath), /row 2501, field 2/, { file: brokenPath, line: 2502, row: 2501 });
  assert.equal(broken.slice(err.location.offset!, err.location.offset! + 1), 'x');
});

test('csv: a line longer than 64 MiB is refused as not a table', () => {
  const huge = Buffer.alloc((64 << 20) + 10, 0x31);
  expectUserError(() => parseCsv(huge, 'blob.csv'), /line 1 is longer than 64 MiB/, { file: 'blob.csv', line: 1 });
});

const DIGITS = SKLEARN_DIGITS;

test('csv: scikit-learn digits.csv.gz from Debian (64 pixels + label per row)', () => {
  requireMachineFile(DIGITS, 'python3-sklearn');
  const ds = readCsvFile(DIGITS);
  assert.equal(ds.n, 1797);
  assert.equal(ds.dim, 65);
  // Reference sums computed once with numpy.loadtxt.
  let pixels = 0;
  let labels = 0;
  for (let i = 0; i < ds.n; i++) {
    for (let d = 0; d < 64; d++) pixels += ds.values[i * 65 + d]!;
    labels += ds.values[i * 65 + 64]!;
  }
  assert.equal(pixels, 561718);
  assert.equal(labels, 8070);
});

test('csv: the layouts pandas and R write by default are read as their data, with a note', () => {
  // df.to_csv() (index and column labels), df.to_csv(index=False), R's write.csv (quoted, row names "1", "2", ...).
  const matrix = (n: number, d: number) => Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => (i * d + j) / 8 - 1));
  for (const d of [1, 2, 3, 5])
    for (const delim of [',', ';', '\t'])
      for (const names of ['numbers', 'words'] as const)
        for (const writer of ['pandas', 'pandas-no-index', 'R'] as const) {
          const m = matrix(4, d);
          const labels = m[0]!.map((_, j) => (names === 'numbers' ? String(j) : `x${j}`));
          const q = (c: string) => (writer === 'R' ? `"${c}"` : c);
          const index = writer !== 'pandas-no-index';
          const header = [...(index ? [q('')] : []), ...labels.map(q)].join(delim);
          const body = m.map((r, i) => [...(index ? [q(String(writer === 'R' ? i + 1 : i * 3))] : []), ...r.map(String)].join(delim));
          const text = [header, ...body].join('\n') + '\n';
          const what = `${writer}, ${names}, d=${d}, ${JSON.stringify(delim)}`;
          // Without an index, "0,1" (d < 3) is as likely a row of data as a header: it stays data.
          if (writer === 'pandas-no-index' && names === 'numbers' && d < 3) {
            assert.equal(csv(text).n, 5, what);
            continue;
          }
          const ds = csv(text);
          assert.equal(ds.dim, d, what);
          assert.deepEqual(rows(ds), m, what);
          const guessed = index || names === 'numbers';
          assert.equal(ds.notes?.length ?? 0, guessed ? 1 : 0, what);
          if (index) assert.match(ds.notes![0]!, /column 1 .* row index .* skipped/, what);
        }
});

test('csv: a first column without a name that is not whole numbers is data, and an empty first cell of data is still an error', () => {
  assert.deepEqual(rows(csv(',x\n0.5,1\n1.5,2\n')), [
    [0.5, 1],
    [1.5, 2],
  ]);
  expectUserError(() => csv('1,2,3\n,4,5\n'), /row 2, field 1 is empty/, { line: 2 });
  // A stated header:false keeps every column.
  expectUserError(() => csv(',a,b\n0,1,2\n', { header: false }), /row 1, field 1 is empty/, { line: 1 });
  // Messages count the file's fields, the index among them.
  expectUserError(() => csv(',a,b\n0,1,x\n'), /row 1, field 3 is "x"/, { line: 2, column: 5 });
  expectUserError(() => csv(',a,b\n0,1,2\n1,2\n'), /line 3 has 2 comma-separated values but line 2 has 3/, { line: 3 });
});

test('csv: a delimiter at the end of every line, header included, is no column (generated files, read in chunks too)', () => {
  const dir = tempDir();
  fc.assert(
    fc.property(
      fc.constantFrom(',', ';', '\t'),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.array(fc.integer({ min: -999, max: 999 }), { minLength: 5, maxLength: 5 }), { minLength: 1, maxLength: 14 }),
      fc.boolean(),
      fc.constantFrom('\n', '\r\n'),
      fc.constantFrom('', ' '),
      (d, dim, table, header, eol, pad) => {
        const data = table.map((r) => r.slice(0, dim).map((v) => v / 4));
        const names = Array.from({ length: dim }, (_, j) => `c${j}`);
        const lines = [...(header ? [names] : []), ...data.map((r) => r.map(String))];
        const plain = lines.map((cells) => cells.join(d)).join(eol) + eol;
        const text = lines.map((cells) => cells.join(d) + d + pad).join(eol) + eol;
        const want = rows(csv(plain));
        const ds = csv(text);
        assertWellFormed(ds);
        assert.deepEqual(rows(ds), want);
        assert.ok(
          ds.notes?.some((n) => /every line ends with a .* not read as a column/.test(n)),
          String(ds.notes),
        );
        const file = join(dir, 'trailing.csv');
        writeFileSync(file, text);
        assert.deepEqual(rows(readCsvFile(file, { chunkBytes: 7 })), want);
      },
    ),
    { seed: 20261201, numRuns: 200 },
  );
});

test('csv: data rows that end with the delimiter under a header that does not say so', () => {
  for (const d of [',', ';', '\t']) {
    expectUserError(
      () => csv(['x', 'y', 'z'].join(d) + '\n' + ['1', '2', '3', ''].join(d) + '\n' + ['4', '5', '6', ''].join(d) + '\n'),
      /every data row ends with a (comma|semicolon|tab) \(line 2 has 3 values and an empty field after them\) but the header does not/,
      { line: 1 },
    );
  }
  // A row below the sampled top with a value where the others have the trailing empty field is a ragged row, said so.
  const top = 'x,y,\n' + '1,2,\n'.repeat(12);
  expectUserError(() => csv(top + '3,4,5\n'), /line 14 has 3 comma-separated values but line 2 has 2 \(not counting the empty field/, { line: 14 });
});

test('csv: a column named as labels are (Kaggle Fashion-MNIST: label,pixel1,…) is read, with a note that it is trained as a feature', () => {
  const pixels = 'pixel1,pixel2,pixel3';
  for (const name of ['label', 'Label', '"label"', 'LABELS', 'class', 'target']) {
    for (const last of [false, true]) {
      const header = last ? `${pixels},${name}` : `${name},${pixels}`;
      const ds = csv(`${header}\n2,0,0,255\n9,0,128,0\n`);
      assert.equal(ds.dim, 4, header);
      const column = last ? 4 : 1;
      const note = (ds.notes ?? []).find((n) => n.includes('feature'));
      assert.ok(note, `${header}: ${JSON.stringify(ds.notes)}`);
      assert.match(note, new RegExp(`column ${column} is named ${JSON.stringify(name.replace(/"/g, ''))}`), header);
    }
  }
  // Coordinates named x, y; names that only contain such a word; files without a header: no such note.
  for (const text of ['x,y\n1,2\n', 'labelled,x\n1,2\n', 'xy,classes_seen\n1,2\n', '1,2\n3,4\n']) {
    assert.ok(!(csv(text).notes ?? []).some((n) => n.includes('feature')), text);
  }
});

test('csv: a column pandas names as a row index (Unnamed: 0, index, level_0) over whole numbers is read, with a note that it is trained as a feature', () => {
  // read_csv then to_csv writes the old index again as "Unnamed: 0"; reset_index() names it "index", or "level_0" beside one.
  const names = ['Unnamed: 0', 'Unnamed: 3', '"Unnamed: 0"', 'index', 'level_0', 'INDEX'];
  const delimiters = [',', ';', '\t'];
  for (const name of names) {
    for (const delimiter of delimiters) {
      for (const withUnnamedIndex of [false, true]) {
        // After an unnamed index, "Unnamed: N" is an older index saved again: skipped with it (data-csvRowIndex.test.ts).
        if (withUnnamedIndex && /unnamed/i.test(name)) continue;
        const lead = withUnnamedIndex ? [''] : [];
        const header = [...lead, name, 'x', 'y'].join(delimiter);
        const body = [0, 1, 2, 3].map((i) => [...(withUnnamedIndex ? [String(i)] : []), String(i), `${i}.5`, '-1'].join(delimiter)).join('\n');
        const text = `${header}\n${body}\n`;
        const ds = csv(text);
        const at = JSON.stringify(text);
        assert.equal(ds.dim, 3, at);
        const column = withUnnamedIndex ? 2 : 1;
        const note = (ds.notes ?? []).find((n) => n.includes('row index') && n.includes('feature'));
        assert.ok(note, `${at}: ${JSON.stringify(ds.notes)}`);
        assert.match(note, new RegExp(`column ${column} is named ${JSON.stringify(name.replace(/"/g, ''))}`), at);
        assert.match(note, /index=False/, at);
      }
    }
  }
  // Under R's write.table row names (a header one name short), each name is of the column after it.
  for (const [name, note] of [
    ['index', /column 2 is named "index" and holds whole numbers/],
    ['label', /column 2 is named "label"/],
  ] as const) {
    const ds = csv(`"${name}" "x" "y"\n"a" 0 0.5 -1\n"b" 1 1.5 -1\n`);
    assert.equal(ds.dim, 3, name);
    assert.ok(
      (ds.notes ?? []).some((n) => note.test(n)),
      `${name}: ${JSON.stringify(ds.notes)}`,
    );
  }
  // Such a name over fractions (a price index) or a name that only contains one: data, no such note.
  for (const text of ['index,x\n101.5,2\n99.25,3\n', 'Unnamed: 0,x\n0.5,1\n1.5,2\n', 'price_index,x\n1,2\n3,4\n', 'x,y\n1,2\n3,4\n']) {
    assert.ok(!(csv(text).notes ?? []).some((n) => n.includes('row index') && n.includes('feature')), text);
  }
});

test('csv: a quoted cell holding the delimiter (Excel\'s "1,234") is named whole, as a thousands separator, on its cell', () => {
  for (const [delimiter, cell] of [
    [',', '"1,234"'],
    [',', '"12,345.5"'],
    [',', ' "1,234,567" '],
    [';', '"1;5"'],
    ['\t', '"1\t5"'],
  ] as const) {
    for (const at of [0, 1]) {
      const cells = at === 0 ? [cell, '2'] : ['2', cell];
      const text = `a${delimiter}b\n3${delimiter}4\n${cells.join(delimiter)}\n`;
      const err = expectUserError(() => csv(text), /quoted/, { line: 3, row: 2 });
      assert.ok(err.message.includes(`field ${at + 1} is ${JSON.stringify(cell.trim().slice(1, -1))}`), `${JSON.stringify(text)}: ${err.message}`);
      assert.match(err.message, /thousands separator/);
      assert.equal(
        text
          .split('\n')[2]!
          .slice(err.location.column! - 1)
          .trimStart()[0],
        '"',
        err.message,
      );
    }
  }
});

test('csv: missing-value markers that R, Excel and databases write are called missing values', () => {
  for (const marker of ['NA', 'N/A', '#N/A', 'null', 'NULL', 'None', '-', '?', '"NA"']) {
    for (const delimiter of [',', ';', '\t']) {
      expectUserError(() => csv(`a${delimiter}b\n1${delimiter}${marker}\n3${delimiter}4\n`), /missing value/, { line: 2, row: 1 });
    }
  }
});

test('csv: a non-breaking space in a cell (a thousands separator in French) is named, not hidden by trimming', () => {
  for (const space of ['\u00a0', '\u202f', '\u2009']) {
    for (const [text, shown] of [
      [`a;b\n1${space}234,5;2\n3;4\n`, `1${space}234,5`],
      [`a,b\n1.5,2\n3,4${space}\n`, `4${space}`],
    ] as const) {
      const err = expectUserError(() => csv(text), /space/);
      assert.ok(err.message.includes(JSON.stringify(shown).slice(1, -1)), `${JSON.stringify(text)}: ${err.message}`);
      assert.match(err.message, /U\+[0-9A-F]{4}/);
    }
  }
});

test('csv: an Excel "sep=" first line sets the delimiter and is no header or data', () => {
  for (const [delimiter, body] of [
    [';', 'a;b\r\n1,5;2\r\n3;4\r\n'],
    [',', 'a,b\n1.5,2\n3,4\n'],
    ['\t', 'a\tb\n1.5\t2\n3\t4\n'],
    [',', '1.5,2\n3,4\n'],
  ] as const) {
    for (const [bom, hint] of [
      ['', `sep=${delimiter}`],
      ['\ufeff', `"sep=${delimiter}"`],
      ['', `SEP=${delimiter}`],
    ]) {
      const text = `${bom}${hint}${body.includes('\r') ? '\r\n' : '\n'}${body}`;
      assert.deepEqual(
        rows(csv(text)),
        [
          [1.5, 2],
          [3, 4],
        ],
        JSON.stringify(text),
      );
    }
  }
});

test('csv: a "sep=" line naming a delimiter VAE Lens does not read says so on its line', () => {
  expectUserError(() => csv('x\nsep=|\na|b\n1|2\n'.slice(2)), /separated by "\|".*commas, semicolons, tabs or spaces/, { line: 1 });
});

test('csv: a first line of numbers with a missing value (NA, empty, ?) is a data row with a missing value, not a header dropped', () => {
  for (const marker of ['NA', 'N/A', '#N/A', 'null', 'None', '?', '-', '"NA"', 'nan', '']) {
    for (const delimiter of [',', ';', '\t']) {
      for (const at of [0, 1, 2]) {
        // An empty first name over whole numbers is pandas' index column (noted when read so).
        if (marker === '' && at === 0) continue;
        const first = ['1', '2', '3'];
        first[at] = marker;
        const text = `${first.join(delimiter)}\n4${delimiter}5${delimiter}6\n7${delimiter}8${delimiter}9\n`;
        expectUserError(() => csv(text), /missing value|is "nan"/, { line: 1, row: 1 });
      }
    }
  }
  // Names stay a header.
  assert.equal(csv('x,y,z\n1,2,3\n').n, 1);
  assert.equal(csv('NA,y,z\n1,2,3\n').n, 1);
});

test('csv: a row starting with a spreadsheet error value (#N/A, #DIV/0!) is a row with a bad cell, not a # comment skipped', () => {
  for (const error of ['#N/A', '#DIV/0!', '#VALUE!', '#REF!', '#NAME?', '#NUM!', '#NULL!', '"#N/A"']) {
    for (const delimiter of [',', ';', '\t']) {
      for (const line of [1, 2, 3]) {
        const lines = [`1${delimiter}2`, `3${delimiter}4`, `5${delimiter}6`];
        lines[line - 1] = `${error}${delimiter}9`;
        const text = `${lines.join('\n')}\n`;
        const err = expectUserError(() => csv(text, { header: false }), new RegExp(JSON.stringify(error.replace(/"/g, '')).replace(/[?!/]/g, '\\$&')), {
          line,
          row: line,
        });
        assert.match(err.message, /missing value|error value/, text);
      }
    }
  }
  // Comments stay comments.
  assert.equal(csv('# x, y\n#NA of rows: 2\n1,2\n3,4\n').n, 2);
});

test('csv: a quoted decimal comma in a comma-separated file ("0,5", as LibreOffice quotes it) is called a decimal comma', () => {
  for (const cell of ['"0,5"', '"-1,25"', '"12,5e3"', '",5"']) {
    const err = expectUserError(() => csv(`a,b\n${cell},2\n3,4\n`), /decimal comma/, { line: 2, row: 1 });
    assert.doesNotMatch(err.message, /thousands/, cell);
  }
});

test('csv: a first line of numbers written with thousands separators or a decimal comma is data, refused on its cell, never dropped as a header (generated)', () => {
  // Forms a spreadsheet or locale writes that VAE Lens refuses as cells, with the delimiters they can stand between.
  const forms: Array<{ cell: string; delimiters: string[] }> = [
    { cell: '1.234,5', delimiters: [';', '\t'] },
    { cell: '12.345.678', delimiters: [';', '\t', ','] },
    { cell: '1 234,5', delimiters: [';', '\t'] },
    { cell: '1\u00a0234,5', delimiters: [';', '\t', ','] },
    { cell: '1\u202f234', delimiters: [';', '\t', ','] },
    { cell: "1'234.5", delimiters: [';', '\t', ','] },
    { cell: '-1,234.5', delimiters: [';', '\t'] },
    { cell: '"1,234.5"', delimiters: [','] },
  ];
  for (const { cell, delimiters } of forms) {
    for (const d of delimiters) {
      for (const at of [0, 1]) {
        const first = at === 0 ? [cell, '2', '3'] : ['1', cell, '3'];
        const text = `${first.join(d)}\n4${d}5${d}6\n7${d}8${d}9\n`;
        const what = `${JSON.stringify(cell)} between ${JSON.stringify(d)}, field ${at + 1}`;
        const err = expectUserError(() => csv(text), /./, { line: 1, row: 1 });
        assert.match(err.message, new RegExp(`^row 1, field ${at + 1} `), what);
        assert.match(err.message, /thousands separator|decimal comma/, what);
        assert.doesNotMatch(err.message, /not a number; every cell/, what);
      }
    }
  }
});

test('csv: a first line of numbers with a typographic minus (U+2212, dashes) is data refused on its cell, never dropped as a header (generated)', () => {
  for (const minus of ['\u2212', '\u2012', '\u2013', '\ufe63', '\uff0d']) {
    for (const d of [',', ';', '\t', ' ']) {
      for (const field of [1, 2]) {
        const cells = ['1', '2'];
        cells[field - 1] = `${minus}${field}.5`;
        const err = expectUserError(() => csv(`${cells.join(d)}\n3${d}4\n`), /./, { line: 1, row: 1 });
        assert.match(err.message, new RegExp(`^row 1, field ${field} .*minus sign`), `${JSON.stringify(minus)} ${JSON.stringify(d)}`);
      }
    }
  }
});

test('csv: a guessed header that holds numbers among its names is said to be read as one (a row of data with one bad cell is not lost unseen)', () => {
  const ds = csv('1,2,x\n3,4,5\n');
  assert.equal(ds.n, 1);
  assert.ok(
    ds.notes?.some((n) => /line 1 .*read as a header.*data\.header/.test(n)),
    JSON.stringify(ds.notes),
  );
  // Headers of names only get no such note.
  assert.equal(csv('x,y\n1,2\n').notes, undefined);
  assert.equal(csv('x,y\n1,2\n', { header: true }).notes, undefined);
});

test("csv: R's write.table (a header one name short, row names first) is read as its data, row names skipped, with a note (generated)", () => {
  const m = [
    [0.5, -2, 3],
    [4, 5.25, -6e-3],
    [7, 8, 9],
  ];
  for (const d of [1, 2, 3])
    for (const sep of [' ', '\t', ',', ';'])
      for (const quote of [true, false])
        for (const names of ['numbers', 'words'] as const) {
          // One name and no comma on the header line: "x" over "1,5" may as well be one column of decimal commas.
          if (d === 1 && (sep === ',' || sep === ';')) continue;
          const q = (c: string) => (quote ? `"${c}"` : c);
          const header = m[0]!.slice(0, d).map((_, j) => q(`x${j + 1}`));
          const body = m.map((r, i) => [q(names === 'numbers' ? String(i + 1) : `row${i + 1}`), ...r.slice(0, d).map(String)].join(sep));
          const text = [header.join(sep), ...body].join('\n') + '\n';
          const what = `d=${d} sep=${JSON.stringify(sep)} quote=${quote} ${names}`;
          const ds = csv(text);
          assert.deepEqual(
            rows(ds),
            m.map((r) => r.slice(0, d).map(Math.fround)),
            what,
          );
          assert.ok(
            ds.notes?.some((n) => /row names.*skipped/.test(n)),
            `${what}: ${JSON.stringify(ds.notes)}`,
          );
        }
  // One column whose name has a space in it is one column, its name told from the rows below.
  assert.deepEqual(rows(csv('my value\n1\n2\n')), [[1], [2]]);
  // A first column of fractions under a header one name short is no column of row names: still refused.
  expectUserError(() => csv('x y\n0.5 1 2\n1.5 3 4\n'), /the header has 2 names but the first data row \(line 2\) has 3 values/, { line: 1 });
  // Rows that then differ in length are named as before.
  expectUserError(() => csv('x y\n1 1 2\n2 3\n'), /line 3 has 2 space-separated values but line 2 has 3/, { line: 3 });
});

/** Cells as a spreadsheet in a decimal-comma locale writes them: 0,5  -1,25  2,5e4  1,000 (three decimals). */
const commaCell = (v: number, k: number) => {
  const t = [String(v), v.toExponential(), v.toFixed(3)][k % 3]!;
  return t.includes('.') ? t.replace('.', ',') : t;
};

test('csv: tab- and space-separated files with decimal commas (European spreadsheet exports) are read as semicolon files are (generated)', () => {
  const m = [
    [0.5, -1.25, 3],
    [1e-3, 2.5e4, -0.75],
    [12, 0, 1.5],
  ];
  for (const d of ['\t', ' ', '  ', '\t\t'.slice(0, 1) + ' '])
    for (const header of [false, true])
      for (const eol of ['\n', '\r\n'])
        for (let k = 0; k < 3; k++) {
          const lines = m.map((r, i) => r.map((v, j) => commaCell(v, k + i + j)).join(d));
          if (header) lines.unshift(['Höhe', 'Breite', 'Tiefe'].join(d));
          const text = lines.join(eol) + eol;
          const what = JSON.stringify(text);
          const ds = csv(text);
          assert.equal(ds.dim, 3, what);
          assert.deepEqual(
            rows(ds),
            m.map((r) => r.map(Math.fround)),
            what,
          );
        }
});

test('csv: a tab- or space-separated file that writes decimals both ways, or only commas that may group thousands, is refused on the cell, saying what to do (generated)', () => {
  for (const d of ['\t', ' ']) {
    // A point beside decimal commas: the later one named with the earlier.
    expectUserError(
      () => csv(`x${d}y\n0,5${d}1,25\n1.234${d}2,5\n`),
      /row 2, field 1 is "1\.234" with a decimal point, but row 1, field 1 is "0,5" with a decimal comma/,
      {
        line: 3,
        column: 1,
      },
    );
    // Every comma cell of the form 1,234: a thousands separator as likely as a decimal comma.
    for (const cell of ['1,234', '-12,500', '999,000', '"1,250"'])
      for (const at of [0, 1]) {
        const cells = ['7', '8'];
        cells[at] = cell;
        const text = `x${d}y\n1${d}2\n${cells.join(d)}\n3${d}4\n`;
        const err = expectUserError(() => csv(text), /./, { line: 3, column: at === 0 ? 1 : 2 + d.length, row: 2 });
        assert.match(
          err.message,
          new RegExp(`^row 2, field ${at + 1} is "${cell.replace(/"/g, '')}": .*thousands separator.*decimal comma`),
          JSON.stringify(text),
        );
        assert.match(err.message, /0,5|point/, JSON.stringify(text));
      }
    // One cell that cannot group thousands (0,125  1,5) tells the comma is the decimal mark.
    assert.deepEqual(rows(csv(`x${d}y\n1,234${d}0,125\n`)), [[Math.fround(1.234), Math.fround(0.125)]]);
  }
});

test('csv: Fortran exponents (1.5D+03, 2d-3) are read in every delimited form, and a first line of them is data, not a header (generated)', () => {
  const values = [1500, -0.002, 3.25e10, 7, 0.5e-5];
  const fortran = (v: number, k: number) => {
    const [mant, exp] = v.toExponential().split('e') as [string, string];
    const e = k % 2 === 0 ? 'D' : 'd';
    const sign = k % 3 === 0 ? exp : exp.replace('+', '');
    return `${mant}${e}${sign}`;
  };
  for (const d of [',', ';', '\t', ' '])
    for (let k = 0; k < 6; k++) {
      const cells = values.map((v, i) => {
        const t = fortran(v, k + i);
        return d === ';' && k % 2 === 1 ? t.replace('.', ',') : t;
      });
      const text = `${cells.join(d)}\n${cells.slice().reverse().join(d)}\n`;
      const ds = csv(text);
      const what = JSON.stringify(text);
      assert.equal(ds.n, 2, what);
      assert.deepEqual(rows(ds), [values.map(Math.fround), values.slice().reverse().map(Math.fround)], what);
    }
  for (const [cell, value] of [
    ['1.5D+03', 1500],
    ['1.5d-3', 0.0015],
    ['2D3', 2000],
    ['-.5D0', -0.5],
    ['"1.5D+03"', 1500],
    ['1.23456789012345678D+30', 1.23456789012345678e30],
  ] as const)
    assert.deepEqual(rows(csv(`a,b\n${cell},2\n`)), [[Math.fround(value), 2]], cell);
  // A D that is no exponent stays a bad cell.
  for (const cell of ['1.5D', 'D3', '1.5D+', '1.5DE3', '0x1D3']) expectUserError(() => csv(`a,b\n${cell},2\n`), /not a number/, { line: 2 });
});
