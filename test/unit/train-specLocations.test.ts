// Problems with a spec that only show once its data are read (a data file that is not there, a
// shape that does not fit the rows, a layer that does not fit the data) are placed at their field
// in the spec's text, with line and column, as the schema's problems are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRequest, type FromTrainer } from '../../src/core/protocol';
import { runSession } from '../../src/train/session';

interface Case {
  name: string;
  data: Record<string, unknown>;
  encoder?: Record<string, unknown>;
  /** The field the message is about, and the JSON text of its value where it must point. */
  field: string;
  at: string;
}

const CASES: Case[] = [
  { name: 'missing data file', data: { path: 'missing.csv' }, field: 'data.path', at: '"missing.csv"' },
  { name: 'data path is a folder', data: { path: 'folder' }, field: 'data.path', at: '"folder"' },
  { name: 'format not told by the name', data: { path: 'rows.bin' }, field: 'data.path', at: '"rows.bin"' },
  { name: 'shape that does not fit the rows', data: { path: 'rows.csv', shape: [2, 2] }, field: 'data.shape', at: '[\n      2,\n      2\n    ]' },
  { name: 'validation that holds out every row', data: { path: 'rows.csv', validation: 0.9, limit: 2 }, field: 'data.validation', at: '0.9' },
  {
    name: 'layer that does not fit the data',
    data: { path: 'rows.csv' },
    encoder: { layers: [{ type: 'conv2d', filters: 2, kernel: 3 }] },
    field: 'model.encoder.layers[0]',
    at: '{\n          "type": "conv2d",',
  },
];

test('a spec problem found while reading the data names the line and column of its field', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-located-'));
  try {
    fs.mkdirSync(path.join(dir, 'folder'));
    fs.writeFileSync(path.join(dir, 'rows.csv'), 'a,b,c\n1,2,3\n4,5,6\n7,8,9\n');
    fs.writeFileSync(path.join(dir, 'rows.bin'), '1,2,3\n');
    for (const c of CASES) {
      const spec = {
        name: 'located',
        data: c.data,
        model: { latentDim: 1, encoder: c.encoder ?? { hidden: [2] }, decoder: { hidden: [2] } },
        training: { epochs: 1, backend: 'cpu' },
      };
      const text = JSON.stringify(spec, null, 2);
      const specPath = path.join(dir, 'a.vae.json');
      fs.writeFileSync(specPath, text);
      const events: FromTrainer[] = [];
      const status = await runSession(startRequest({ specPath, runsDir: path.join(dir, 'runs') }), (e) => events.push(e), { stopRequested: false });
      assert.equal(status, 'failed', c.name);
      const error = events.find((e) => e.type === 'error') as Extract<FromTrainer, { type: 'error' }> | undefined;
      assert.ok(error?.userError, `${c.name}: ${JSON.stringify(error)}`);
      const loc = error.location ?? {};
      assert.equal(loc.file, specPath, c.name);
      assert.equal(loc.field, c.field, c.name);
      const offset = text.indexOf(c.at);
      assert.ok(offset > 0, `${c.name}: ${c.at} is in the spec`);
      const before = text.slice(0, offset).split('\n');
      assert.deepEqual([loc.line, loc.column, loc.offset], [before.length, before[before.length - 1]!.length + 1, offset], c.name);
      assert.equal(fs.existsSync(path.join(dir, 'runs')), false, `${c.name}: no run folder`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
