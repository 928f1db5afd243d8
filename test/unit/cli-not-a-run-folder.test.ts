/**
 * A new user's first `report`, `eval` or `--resume` often names the runs folder, the spec's folder or
 * the spec itself instead of one run folder: the refusal names the run folders found there and the
 * newest one to give instead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { CLI_BIN } from './cli-testkit';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-not-a-run-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI_BIN, ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, err: r.stderr };
}

const SPEC = '{ "name": "demo", "data": { "synthetic": "circle", "n": 64 }, "model": { "latentDim": 2 }, "training": { "epochs": 1 } }';

/** A spec folder whose runs folder holds `names` (oldest first), each a run folder with a run.json. */
function specWithRuns(folder: string, names: string[], runsDir?: string): { spec: string; runs: string; newest: string } {
  const dir = path.join(tmp, folder);
  fs.mkdirSync(dir, { recursive: true });
  const spec = path.join(dir, 'demo.vae.json');
  const text = runsDir === undefined ? SPEC : SPEC.replace(/ }$/, `, "output": { "runsDir": "${runsDir}" } }`);
  fs.writeFileSync(spec, text);
  const runs = path.join(dir, runsDir ?? path.join('.vae-lens', 'runs'));
  names.forEach((name, i) => {
    const run = path.join(runs, name);
    fs.mkdirSync(run, { recursive: true });
    const startedAt = `2026-11-0${i + 1}T10:00:00Z`;
    fs.writeFileSync(path.join(run, 'run.json'), JSON.stringify({ formatVersion: 1, name: 'demo', specPath: spec, startedAt }));
    fs.writeFileSync(path.join(run, 'spec.vae.json'), text);
  });
  return { spec, runs, newest: path.join(runs, names[names.length - 1] ?? '') };
}

const commands: [string, (given: string, spec: string) => string[]][] = [
  ['report', (given) => ['report', given, '--out', path.join(tmp, 'r.html')]],
  ['eval', (given) => ['eval', given]],
  ['train --resume', (given, spec) => ['train', spec, '--resume', given]],
];

test('a runs folder, a spec folder or a spec given for a run folder: the refusal names the newest run folder there', () => {
  const layouts = [
    specWithRuns('one', ['demo-20261101-100000']),
    specWithRuns('three', ['demo-20261101-100000', 'demo-20261102-100000', 'demo-20261103-100000']),
    specWithRuns('own-runs', ['demo-20261101-100000', 'demo-20261102-100000'], 'out/runs'),
  ];
  for (const { spec, runs, newest } of layouts) {
    const count = fs.readdirSync(runs).length;
    const givens: [string, string][] = [
      ['the runs folder', runs],
      ['the runs folder, relative', path.relative(tmp, runs)],
      ["the spec's folder", path.dirname(spec)],
      ['the spec', spec],
    ];
    for (const [command, args] of commands)
      for (const [what, given] of givens) {
        // The default runs folder is what a spec's folder leads to; a spec's own output.runsDir, through the spec.
        if (what === "the spec's folder" && !runs.includes('.vae-lens')) continue;
        const r = cli(args(given, spec));
        const label = `${command} on ${what} (${given})`;
        assert.equal(r.code, 2, `${label}: ${r.err}`);
        assert.doesNotMatch(r.err, /\n\s+at /, `${label}: no stack trace`);
        const named = path.isAbsolute(given) ? newest : path.relative(tmp, newest);
        assert.ok(r.err.includes(named), `${label}: names the newest run folder ${named}: ${r.err}`);
        assert.match(r.err, count === 1 ? /holds one run folder/ : new RegExp(`holds ${count} run folders`), label);
      }
  }
});

test('a folder with no runs in or below it is still just refused as not a run folder', () => {
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  for (const [command, args] of commands) {
    const r = cli(args(empty, specWithRuns('lonely', []).spec));
    assert.equal(r.code, 2, `${command}: ${r.err}`);
    assert.match(r.err, /not a run folder/, command);
    assert.doesNotMatch(r.err, /holds/, command);
  }
});
