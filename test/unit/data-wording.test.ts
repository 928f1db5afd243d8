/**
 * The loaders' messages as sentences: a count of one in the singular, a size said once, a row named
 * once (the message and the location both name it), an empty file called empty. Generated over the
 * sizes and counts where the wording turns (0, 1, 2, and a few larger).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { formatUserError, isUserError } from '../../src/core/errors';
import type { Dataset } from '../../src/data/dataset';
import { parseCsv, readCsvFile } from '../../src/data/csv';
import { parseIdx, readIdxFile } from '../../src/data/idx';
import { parseJsonData, readJsonFile } from '../../src/data/json';
import { parseNpy, readNpyFile } from '../../src/data/npy';
import { splitValidation } from '../../src/data/scaling';
import { encode, idxBytes, npyBytes, tempDir } from './data-testkit';

/** The formatted message of the UserError fn throws (as the CLI prints it). */
function said(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isUserError(e), String(e));
    return formatUserError(e);
  }
  assert.fail('expected a UserError');
}

const NOUNS = 'rows|values|bytes|names|columns|numbers|dimensions|entries|(?:comma|semicolon|tab|space)-separated values';

function assertWellWorded(text: string): void {
  assert.doesNotMatch(text, new RegExp(`(?<![\\d.])1 (${NOUNS})\\b`), `a plural after 1: ${text}`);
  assert.doesNotMatch(text, /\b(\d+(?:\.\d+)? \w+) \(\1\)/, `a quantity said twice: ${text}`);
  assert.doesNotMatch(text, /\brow (\d+)\b.*\brow \1\b/, `the row said twice: ${text}`);
}

test('wording: counts of one are singular, sizes and rows said once, across the loaders (generated)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2000 }), (rows, dim, cut) => {
      const count = rows * dim;
      const values = Array.from({ length: count }, (_, i) => i + 1);
      // Truncated and padded binary files: the sizes in their messages.
      const npy = npyBytes('<f4', [rows, dim], encode('f4', values));
      const idx = idxBytes(0x08, [rows, dim], encode('u1', values));
      for (const [name, full, parse] of [
        ['npy', npy, (b: Buffer) => parseNpy(b, 'a.npy')],
        ['idx', idx, (b: Buffer) => parseIdx(b, 'a.idx')],
      ] as const) {
        const headerEnd = full.length - count * (name === 'npy' ? 4 : 1);
        const keep = headerEnd + (cut % (full.length - headerEnd));
        assertWellWorded(said(() => parse(full.subarray(0, keep))));
        assertWellWorded(said(() => parse(Buffer.concat([full, Buffer.alloc(1 + (cut % 3))]))));
      }
      // A NaN in the last row: the row once, by the message.
      const nan = [...values.slice(0, -1), Number.NaN];
      const nanText = said(() => parseNpy(npyBytes('<f4', [rows, dim], encode('f4', nan)), 'a.npy'));
      assert.match(nanText, new RegExp(`row ${rows}, column ${dim} of the array is NaN`));
      assertWellWorded(nanText);
      assertWellWorded(said(() => parseIdx(idxBytes(0x0d, [rows, dim], encode('f4', nan, 'be')), 'a.idx')));
      // Ragged text rows and a header that does not fit, with one value or more.
      const line = (k: number) => Array.from({ length: k }, (_, j) => j + 1).join(',');
      assertWellWorded(said(() => parseCsv(Buffer.from(`${line(dim + 1)}\n${line(dim + 1)}\n${line(dim)}\n`), 'a.csv')));
      // (A header one name short is R's write.table, its rows' first cells row names: one name too many here.)
      assertWellWorded(
        said(() =>
          parseCsv(
            Buffer.from(
              `${'abcd'
                .slice(0, dim + 1)
                .split('')
                .join(',')}\n${line(dim)}\n`,
            ),
            'a.csv',
          ),
        ),
      );
      assertWellWorded(said(() => parseJsonData(Buffer.from(`[[${line(dim + 1)}],\n[${line(dim)}]]`), 'a.json')));
      // A split that would hold out every row.
      const ds: Dataset = { values: new Float32Array(count), n: rows, dim, sourceType: 'float32', source: 'x' };
      assertWellWorded(said(() => splitValidation(ds, 0.99, 1)));
    }),
    { seed: 20261204, numRuns: 60 },
  );
});

test('wording: an empty data file is called empty by every loader, plain or gzipped', () => {
  const dir = tempDir();
  const empty = Buffer.alloc(0);
  const cases: [string, Buffer, (p: string) => Dataset][] = [
    ['e.csv', empty, (p) => readCsvFile(p)],
    ['e.npy', empty, (p) => readNpyFile(p)],
    ['e.idx', empty, (p) => readIdxFile(p)],
    ['e.idx.gz', gzipSync(empty), (p) => readIdxFile(p)],
    ['e.npy.gz', gzipSync(empty), (p) => readNpyFile(p)],
    ['e.json', empty, (p) => readJsonFile(p)],
    ['e.json.gz', gzipSync(empty), (p) => readJsonFile(p)],
  ];
  for (const [name, bytes, read] of cases) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const text = said(() => read(path));
    assert.match(text, /\bempty\b/, `${name}: ${text}`);
    assert.doesNotMatch(text, /not an? (IDX|\.npy) file/, `${name}: ${text}`);
  }
});
