// Text files as other tools save them: UTF-8 with or without a byte-order mark, and UTF-16 (little or
// big endian, with its mark) as Windows PowerShell 5 writes with `>` and Out-File. Specs, CSV and
// JSON data read the same in each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv, readCsvFile } from '../../src/data/csv';
import { parseJsonData, readJsonFile } from '../../src/data/json';
import { readSpecFile } from '../../src/train/session';
import { rows, tempDir } from './data-testkit';

const ENCODINGS = {
  'utf-8': (t: string) => Buffer.from(t, 'utf8'),
  'utf-8 with BOM': (t: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t, 'utf8')]),
  'utf-16le': (t: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')]),
  'utf-16be': (t: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(t, 'utf16le').swap16()]),
};

const matrix = [
  [0.5, -2, 3e-3],
  [4, 5.25, -6],
];

test('CSV and JSON data read the same in UTF-8 and UTF-16, from a file and from bytes', () => {
  const dir = tempDir();
  const csvText = (eol: string) => ['größe,x,y', ...matrix.map((r) => r.join(','))].join(eol) + eol;
  for (const [name, encode] of Object.entries(ENCODINGS))
    for (const eol of ['\n', '\r\n']) {
      const what = `${name}, ${JSON.stringify(eol)}`;
      const csv = encode(csvText(eol));
      const json = encode(JSON.stringify(matrix, null, 1).replace(/\n/g, eol));
      writeFileSync(join(dir, 'a.csv'), csv);
      writeFileSync(join(dir, 'a.json'), json);
      const expected = matrix.map((r) => r.map(Math.fround));
      for (const ds of [parseCsv(csv, 'a.csv'), readCsvFile(join(dir, 'a.csv')), parseJsonData(json, 'a.json'), readJsonFile(join(dir, 'a.json'))]) {
        assert.equal(ds.dim, 3, what);
        assert.deepEqual(rows(ds), expected, what);
      }
    }
});

test('a spec saved as UTF-16 is read as the same spec, its problems at the same line and column', () => {
  const dir = tempDir();
  const spec = '{ // saved by PowerShell\r\n  "data": { "path": "a.csv" },\r\n  "model": { "latentDim": 2 },\r\n}\r\n';
  const bad = '{\r\n  "data": { "path": "a.csv" },\r\n  "model": { "latentDim": "2" }\r\n}\r\n';
  for (const [name, encode] of Object.entries(ENCODINGS)) {
    const file = join(dir, 'a.vae.json');
    writeFileSync(file, encode(spec));
    const parsed = readSpecFile(file);
    assert.equal(parsed.spec.model.latentDim, 2, name);
    assert.equal(parsed.text, spec, name);
    writeFileSync(file, encode(bad));
    assert.throws(
      () => readSpecFile(file),
      (e: Error & { location?: { line?: number; column?: number } }) => {
        assert.match(e.message, /model\.latentDim must be an integer, not "2"/, name);
        assert.deepEqual([e.location?.line, e.location?.column], [3, 27], name);
        return true;
      },
      name,
    );
  }
});

test('a spec saved as UTF-16 without a byte-order mark reads as with one, as data files do', () => {
  const dir = tempDir();
  const withoutMark = {
    le: (t: string) => Buffer.from(t, 'utf16le'),
    be: (t: string) => Buffer.from(t, 'utf16le').swap16(),
  };
  const specs = {
    comment: '{ // größe\r\n  "data": { "path": "a.csv" },\r\n  "model": { "latentDim": 2 },\r\n}\r\n',
    compact: '{"data":{"path":"a.csv"},"model":{"latentDim":2}}',
    indented: '{\n\t"name": "naïve ✓",\n\t"data": { "path": "a.csv" },\n\t"model": { "latentDim": 2 }\n}\n',
  };
  const bad = '{\r\n  "data": { "path": "a.csv" },\r\n  "model": { "latentDim": "2" }\r\n}\r\n';
  const file = join(dir, 'b.vae.json');
  for (const [order, encode] of Object.entries(withoutMark)) {
    for (const [name, spec] of Object.entries(specs)) {
      writeFileSync(file, encode(spec));
      const parsed = readSpecFile(file);
      assert.equal(parsed.spec.model.latentDim, 2, `${order} ${name}`);
      assert.equal(parsed.text, spec, `${order} ${name}`);
    }
    writeFileSync(file, encode(bad));
    assert.throws(
      () => readSpecFile(file),
      (e: Error & { location?: { line?: number; column?: number } }) => {
        assert.match(e.message, /model\.latentDim must be an integer, not "2"/, order);
        assert.deepEqual([e.location?.line, e.location?.column], [3, 27], order);
        return true;
      },
      order,
    );
  }
});

test('CSV and JSON data in UTF-16 without a byte-order mark (Python\'s "utf-16-le", pandas\' encoding="utf-16le") read as with one', () => {
  const dir = tempDir();
  const withoutMark = {
    le: (t: string) => Buffer.from(t, 'utf16le'),
    be: (t: string) => Buffer.from(t, 'utf16le').swap16(),
  };
  const texts = {
    'header.csv': ['größe,x,y', ...matrix.map((r) => r.join(','))].join('\r\n') + '\r\n',
    // Characters beyond Latin-1 (no zero byte beside them) among the first ones.
    'symbols.csv': ['✓ Δx,μ,σ²', ...matrix.map((r) => r.join(','))].join('\n') + '\n',
    'bare.tsv': matrix.map((r) => r.join('\t')).join('\n'),
    'a.json': JSON.stringify(matrix),
    'rows.jsonl': matrix.map((r) => JSON.stringify(r)).join('\n'),
  };
  const expected = matrix.map((r) => r.map(Math.fround));
  for (const [order, encode] of Object.entries(withoutMark))
    for (const [name, text] of Object.entries(texts)) {
      const bytes = encode(text);
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const json = name.includes('json');
      const read = json ? [parseJsonData(bytes, name), readJsonFile(path)] : [parseCsv(bytes, name), readCsvFile(path)];
      for (const ds of read) assert.deepEqual(rows(ds), expected, `${order} ${name}`);
    }
});
