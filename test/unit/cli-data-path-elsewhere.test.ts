/**
 * A data path written relative to the wrong folder (the project's root, or the folder the command runs
 * in, rather than the spec's folder) is refused with the path to write, where the file is found there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { CLI_BIN } from './cli-testkit';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-data-elsewhere-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function specAt(file: string, dataPath: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ name: 'p', data: { path: dataPath }, model: { latentDim: 2 }, training: { epochs: 1 } }));
}

function dataAt(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '1,2,3\n4,5,6\n7,8,9\n');
}

test('a data path that names a file relative to a folder above the spec, or to the current folder, says what to write', () => {
  let k = 0;
  for (const specDir of ['specs', 'specs/deep', 'a/b/c'])
    for (const written of ['data/points.csv', 'points.csv', 'data/sets/points.csv'])
      for (const from of ['project', 'cwd'] as const) {
        const project = path.join(tmp, `p${k++}`);
        const spec = path.join(project, specDir, 'p.vae.json');
        specAt(spec, written);
        const cwd = from === 'project' ? project : path.join(tmp, `cwd${k}`);
        fs.mkdirSync(cwd, { recursive: true });
        dataAt(path.join(cwd, written));
        const r = spawnSync(process.execPath, [CLI_BIN, 'train', spec, '--out', path.join(tmp, 'runs')], {
          cwd: from === 'cwd' ? cwd : tmp,
          encoding: 'utf8',
          timeout: 60_000,
        });
        const label = `${written} from ${specDir}, found relative to the ${from}`;
        assert.equal(r.status, 2, `${label}: ${r.stderr}`);
        assert.match(r.stderr, /data file not found/, label);
        const meant = path.relative(path.dirname(spec), path.join(cwd, written)).split(path.sep).join('/');
        assert.ok(r.stderr.includes(`write "${meant}"`), `${label}: says to write ${meant}: ${r.stderr}`);
      }
});

test('a data path found nowhere gets no such hint', () => {
  const spec = path.join(tmp, 'none', 'specs', 'p.vae.json');
  specAt(spec, 'data/missing.csv');
  const r = spawnSync(process.execPath, [CLI_BIN, 'train', spec, '--out', path.join(tmp, 'runs')], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /data file not found/);
  assert.doesNotMatch(r.stderr, /write "/);
});

test('a data path that runs through a file (points.csv/x.csv) is refused as not found, with no stack trace', () => {
  const project = path.join(tmp, 'through-a-file');
  const spec = path.join(project, 'specs', 'p.vae.json');
  specAt(spec, 'points.csv/x.csv');
  dataAt(path.join(project, 'specs', 'points.csv'));
  dataAt(path.join(project, 'points.csv'));
  const r = spawnSync(process.execPath, [CLI_BIN, 'train', spec, '--out', path.join(tmp, 'runs')], { cwd: project, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /data file not found/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
