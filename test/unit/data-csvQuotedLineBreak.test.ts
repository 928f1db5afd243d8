/**
 * Header names quoted with a line break inside (pandas, R and Excel write "a\nb" so), and quotes that
 * run over line breaks where no header name can: said with the line and column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseCsv, readCsvFile } from '../../src/data/csv';
import { assertWellFormed, expectUserError, RAW_CONTROL, rows, tempDir } from './data-testkit';

const csv = (text: string, opts?: Parameters<typeof parseCsv>[2]) => parseCsv(Buffer.from(text), 'd.csv', opts);

test('csv: quoted header names holding line breaks are read as one header, the rows below as data (generated)', () => {
  const dir = tempDir();
  fc.assert(
    fc.property(
      fc.constantFrom(',', ';', '\t'),
      fc.constantFrom('\n', '\r\n'),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.array(fc.integer({ min: -99, max: 99 }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      (d, eol, breaks, table, index) => {
        // Column j's name holds breaks[j] line breaks (0: a plain name); at least one holds one.
        const counts = breaks.some((b) => b > 0) ? breaks : [1, ...breaks.slice(1)];
        const names = counts.map((b, j) => `"n${j}${`${eol}part`.repeat(b)}"`);
        const data = table.map((r) => r.slice(0, counts.length).map((v) => v / 4));
        const header = [...(index ? [''] : []), ...names].join(d);
        const body = data.map((r, i) => [...(index ? [String(i)] : []), ...r.map(String)].join(d));
        const text = [header, ...body].join(eol) + eol;
        const file = join(dir, 'names.csv');
        writeFileSync(file, text);
        for (const ds of [csv(text), readCsvFile(file, { chunkBytes: 5 })]) {
          assertWellFormed(ds);
          assert.deepEqual(rows(ds), data, JSON.stringify(text));
        }
        // A bad cell on the last row is told on its own line, the header's lines counted.
        const headerLines = 1 + counts.reduce((a, b) => a + b, 0);
        const bad = [header, ...body.slice(0, -1), body[body.length - 1]!.replace(/[^,;\t]+$/, 'oops')].join(eol) + eol;
        expectUserError(() => csv(bad), new RegExp(`row ${data.length}, field ${counts.length + (index ? 1 : 0)} is "oops"`), {
          line: headerLines + data.length,
        });
      },
    ),
    { seed: 20261203, numRuns: 150 },
  );
});

test('csv: a header quote that no line closes is named at its line and column, whether the file ends first or goes on (generated)', () => {
  for (const d of [',', ';', '\t'])
    for (const at of [0, 1, 2])
      for (const dataRows of [1, 3, 12]) {
        const names = ['a', 'b', 'c'].map((n, j) => (j === at ? `"${n}` : n));
        const header = names.join(d);
        const text = [header, ...Array.from({ length: dataRows }, (_, i) => [i, i + 0.5, -i].join(d))].join('\n') + '\n';
        const column = header.indexOf('"') + 1;
        const last = Math.min(1 + dataRows, 8);
        expectUserError(
          () => csv(text),
          new RegExp(
            `^line 1, column ${column} opens a quote \\("\\\\"${names[at]!.slice(1)}.*\\) that no line up to line ${last} closes; .*close it, or remove it`,
          ),
          { file: 'd.csv', line: 1, column },
        );
      }
});

test('csv: a data row whose quote runs over a line break is named at that quote, not as a number gone wrong or a short header', () => {
  const overLineBreak = /which opens a quote that line \d+ does not close|its quote at column \d+ is not closed on the line/;
  for (const d of [',', ';', '\t'])
    for (const lead of ['', '1.5', '-2'])
      for (const header of [true, false])
        for (const rowsAbove of [0, 2]) {
          // The quote opens on the first data row, or on a later one, in the last cell, or the first.
          const above = Array.from({ length: rowsAbove }, () => `0${d}1`).join('\n');
          const first = lead ? `${lead}${d}` : '';
          const row = `${first}"0.2\n"${lead ? '' : `${d}1`}`;
          const text = `${header ? `a${d}b\n` : ''}${above ? `${above}\n` : ''}${row}\n`;
          const line = (header ? 2 : 1) + rowsAbove;
          const err = expectUserError(() => csv(text, header ? undefined : { header: false }), overLineBreak, {
            file: 'd.csv',
            line,
            column: first.length + 1,
          });
          assert.match(
            err.message,
            /only a header name may; a data cell holds one number: remove the line break inside the quotes, or the stray quote/,
            JSON.stringify(text),
          );
        }
});

test('csv: a header name holding a line break is named in notes without its quotes, the break escaped', () => {
  for (const eol of ['\n', '\r\n']) {
    const ds = csv(`"row${eol}id",x${eol}0,0.5${eol}1,1.5${eol}2,2.5${eol}`);
    const note = (ds.notes ?? []).find((n) => n.includes('row numbers'));
    assert.ok(note, JSON.stringify(ds.notes));
    assert.match(note, /^column 1 is named "row\\nid" and holds the row numbers/);
    assert.doesNotMatch(note, RAW_CONTROL);
  }
});

test('csv: line ends are told outside quotes, so a header name holding CR, LF or CRLF is read in LF and CRLF files and a CR-only file is still named (generated)', () => {
  const dir = tempDir();
  const endings = { LF: '\n', CRLF: '\r\n', CR: '\r' } as const;
  fc.assert(
    fc.property(
      fc.constantFrom(',', ';', '\t'),
      fc.constantFrom<keyof typeof endings>('LF', 'CRLF', 'CR'),
      fc.constantFrom<keyof typeof endings>('LF', 'CRLF', 'CR'),
      fc.integer({ min: 0, max: 2 }),
      fc.array(fc.array(fc.integer({ min: -99, max: 99 }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 5 }),
      (d, fileEnds, nameBreak, at, table) => {
        const eol = endings[fileEnds];
        const names = ['a', 'b', 'c'].map((n, j) => (j === at ? `"${n}${endings[nameBreak]}${n}"` : n));
        const data = table.map((r) => r.map((v) => v / 4));
        const text = [names.join(d), ...data.map((r) => r.map(String).join(d))].join(eol) + eol;
        const what = `${fileEnds} file, ${nameBreak} in a quoted name: ${JSON.stringify(text)}`;
        const file = join(dir, 'ends.csv');
        writeFileSync(file, text);
        const reads = [() => csv(text), () => readCsvFile(file, { chunkBytes: 7 })];
        for (const read of reads) {
          if (fileEnds === 'CR') {
            expectUserError(read, /^the file's lines end with a carriage return alone \(classic Mac OS line ends\)/, { line: 1 });
            continue;
          }
          const ds = read();
          assertWellFormed(ds);
          assert.deepEqual(rows(ds), data, what);
        }
      },
    ),
    { seed: 20261203, numRuns: 200 },
  );
});
