/**
 * Cells holding a value of another type than a number, as pandas, R and spreadsheets write them:
 * each named for what it is, with what to write instead, wherever it stands.
 */
import { test } from 'node:test';
import { parseCsv } from '../../src/data/csv';
import { expectUserError } from './data-testkit';

const KINDS: Array<{ cells: string[]; says: RegExp }> = [
  { cells: ['True', 'False', 'TRUE', 'false', 'WAHR', 'FALSCH', 'VRAI', 'faux'], says: /a true\/false value, not a number: write it as 1 or 0/ },
  { cells: ['50%', '12.5%', '-3 %', '.5%'], says: /a percentage, not a plain number: write it as a fraction/ },
  { cells: ['(1+2j)', '(0.5-1e-3j)', '1j', '(-2+0j)'], says: /a complex number, as Python writes one: save the real and imaginary parts as two columns/ },
  { cells: ['2021-01-01', '2024-03-05 10:20:30', '2024-03-05T10:20', '31/12/2023', '1.2.2024'], says: /a date or time, not a number: convert it to a number/ },
  { cells: ['$5.00', '€3', '12 €', '-£1.5', '¥100'], says: /an amount with a currency sign: save the cells as plain numbers, without the sign/ },
];

test('csv: booleans, percentages, complex numbers, dates and amounts in a data cell are named as such, on their cell (generated)', () => {
  for (const { cells, says } of KINDS)
    for (const cell of cells)
      for (const delimiter of [',', ';', '\t'])
        for (const field of [1, 2, 3])
          for (const row of [1, 3]) {
            const rows = Array.from({ length: 3 }, (_, r) => ['0.5', '1', '2'].map((c, f) => (r + 1 === row && f + 1 === field ? cell : c)).join(delimiter));
            const text = `a${delimiter}b${delimiter}c\n${rows.join('\n')}\n`;
            const column =
              rows[row - 1]!.split(delimiter)
                .slice(0, field - 1)
                .join(delimiter).length + (field > 1 ? 2 : 1);
            expectUserError(
              () => parseCsv(Buffer.from(text), 'd.csv'),
              new RegExp(`^row ${row}, field ${field} is ${JSON.stringify(cell).replace(/[$()[\].*+?]/g, '\\$&')}, ${says.source}`),
              {
                file: 'd.csv',
                line: row + 1,
                column,
              },
            );
          }
  // Cells that are none of these keep the plain wording.
  for (const cell of ['abc', 'j', '%', 'T']) {
    expectUserError(
      () => parseCsv(Buffer.from(`a,b\n1,${cell}\n`), 'd.csv'),
      new RegExp(`is ${JSON.stringify(cell)}, not a number; every cell must be a decimal number`),
      { line: 2 },
    );
  }
});
