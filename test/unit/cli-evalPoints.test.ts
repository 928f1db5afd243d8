/**
 * eval --points asks for more points than the data hold: all of them are used, and stderr says so
 * rather than leaving the user to notice a smaller count in the table's heading.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

const root = path.join(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'vae-lens.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-evalpoints-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('eval --points beyond the data uses all of them and says so; within them, no note', { timeout: 240_000 }, () => {
  fs.writeFileSync(
    path.join(tmp, 'tiny.vae.json'),
    `{ "name": "tiny", "data": { "synthetic": "circle", "n": 200, "noise": 0.05, "seed": 2 },
       "model": { "latentDim": 2, "encoder": { "hidden": [8] }, "decoder": { "hidden": [8] } },
       "training": { "epochs": 1, "batchSize": 50 }, "diagnostics": { "mcSamples": 2 } }`,
  );
  const t = cli(['train', 'tiny.vae.json', '--out', 'runs', '--json']);
  assert.equal(t.code, 0, t.err);
  const run = path.join('runs', fs.readdirSync(path.join(tmp, 'runs'))[0]!);
  for (const asked of [201, 1000, 100000]) {
    const r = cli(['eval', run, '--points', String(asked), '--samples', '2']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^200 points x 2 Monte-Carlo samples/m);
    assert.match(r.err, new RegExp(`warning: --points ${asked} is more than the 200 points of the run's training data: all 200 are used`), r.err);
  }
  const within = cli(['eval', run, '--points', '200', '--samples', '2']);
  assert.equal(within.code, 0, within.err);
  assert.doesNotMatch(within.err, /--points/);
});
