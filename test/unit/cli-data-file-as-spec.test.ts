/**
 * `vae-lens train points.csv`, a data file named where the spec goes, is refused in one message that
 * says what a spec is and how it names the file, not with the file's bytes read as broken JSON.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { CLI_BIN } from './cli-testkit';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-data-as-spec-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const NPY = Buffer.concat([
  Buffer.from('\x93NUMPY\x01\x00v\x00', 'latin1'),
  Buffer.from("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }".padEnd(117) + '\n'),
  Buffer.alloc(48),
]);
const CONTENTS: Record<string, Buffer> = {
  'points.csv': Buffer.from('x,y\n1,2\n3,4\n'),
  'points.tsv': Buffer.from('1\t2\n3\t4\n'),
  'points.txt': Buffer.from('1 2\n3 4\n'),
  'points.npy': NPY,
  'train-images-idx3-ubyte.gz': Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
  'train-images-idx3-ubyte': Buffer.from([0, 0, 8, 3, 0, 0, 0, 1]),
  'rows.jsonl': Buffer.from('[1, 2]\n[3, 4]\n'),
  'rows.ndjson': Buffer.from('[1, 2]\n[3, 4]\n'),
  'table.parquet': Buffer.from('PAR1....PAR1'),
  'arrays.npz': Buffer.from('PK\x03\x04', 'latin1'),
  'data.h5': Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'),
};

test('a data file given as the spec is refused in one message naming data.path', () => {
  for (const [name, bytes] of Object.entries(CONTENTS)) {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, bytes);
    const r = spawnSync(process.execPath, [CLI_BIN, 'train', file], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, `${name}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${name}: one message, not one per byte read as JSON: ${r.stderr}`);
    assert.match(lines[0]!, /is a data file, not a spec/, name);
    assert.ok(lines[0]!.includes(`"path": "${name}"`), `${name}: shows the spec naming it: ${lines[0]}`);
  }
});

test('a spec named without its .vae.json ending, or with part of it, is refused with the file meant', () => {
  const dir = path.join(tmp, 'specs');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'swiss-roll.vae.json'), '{}');
  for (const given of ['swiss-roll', 'swiss-roll.vae', 'swiss-roll.json', 'swiss-roll.']) {
    const r = spawnSync(process.execPath, [CLI_BIN, 'train', path.join('specs', given)], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, `${given}: ${r.stderr}`);
    assert.match(r.stderr, /spec file not found/, given);
    assert.match(r.stderr, /did you mean \S*specs\/swiss-roll\.vae\.json\?/, given);
  }
});
