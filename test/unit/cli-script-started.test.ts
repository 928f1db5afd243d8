/**
 * `vae-lens train` on a spec that runs a training script announces the run before the script has
 * said what it trains on: that line names the script, not "0 x 0" data.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { CLI_BIN } from './cli-testkit';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-script-started-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("a script's run is announced with its command, not with an empty data set", () => {
  const spec = path.join(tmp, 'script.vae.json');
  fs.writeFileSync(spec, JSON.stringify({ name: 'script', trainer: { command: [process.execPath, '-e', 'setTimeout(() => {}, 300)'] } }));
  const r = spawnSync(process.execPath, [CLI_BIN, 'train', spec], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  const announced = r.stdout.split('\n').filter((l) => / engine script /.test(l));
  assert.equal(announced.length, 1, r.stdout + r.stderr);
  assert.doesNotMatch(announced[0]!, /0 x 0/);
  assert.match(announced[0]!, /^script .*node.* -e .*; its data as the script reads them; engine script \(node\)/);
});
