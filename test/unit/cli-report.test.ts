/**
 * `vae-lens report` as a user runs it (the built bin/vae-lens.js): one run folder named twice, in
 * whatever spelling, is charted once, with a note saying which names were the same folder.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

const root = path.join(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'vae-lens.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-report-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function report(args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'report', ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function runFolder(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({
      formatVersion: 1,
      name,
      specPath: 'x.vae.json',
      startedAt: '2026-01-01T00:00:00Z',
      backend: 'cpu',
      modelType: 'vae',
      latentDim: 2,
      epochs: 1,
    }),
  );
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '');
  return dir;
}

const titleOf = (html: string) => /<title>(.*?)<\/title>/.exec(html)?.[1];

test('one run folder named twice, in any spelling, is charted once with a note', () => {
  runFolder('alpha');
  runFolder('beta');
  fs.symlinkSync('alpha', path.join(tmp, 'alpha-link'));
  const out = path.join(tmp, 'r.html');
  for (const names of [
    ['alpha', 'alpha'],
    ['alpha', 'alpha/'],
    ['alpha', './alpha'],
    ['alpha', path.join(tmp, 'alpha')],
    ['alpha', 'alpha-link'],
    ['alpha', 'beta/../alpha'],
    ['alpha', 'beta', 'alpha-link', 'beta/'],
  ]) {
    const r = report([...names, '--out', out]);
    assert.equal(r.code, 0, `${names.join(' ')}: ${r.err}`);
    const expected = names.includes('beta') ? 'VAE Lens report: alpha, beta' : 'VAE Lens report: alpha';
    assert.equal(titleOf(fs.readFileSync(out, 'utf8')), expected, names.join(' '));
    assert.match(r.err, /warning: one run folder is named 2 times \(alpha, .*\); it is charted once/, `${names.join(' ')}: ${r.err}`);
  }
  const distinct = report(['alpha', 'beta', '--out', out]);
  assert.equal(distinct.code, 0, distinct.err);
  assert.doesNotMatch(distinct.err, /charted once/);
});
