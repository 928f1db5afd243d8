/**
 * The repository's plain-JavaScript tools (build, test runners, benchmark driver, verification
 * and report generators) are not type-checked; they must at least parse, so a slip in a script
 * run once a release (verify.mjs, the benchmark) is caught by every test run instead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..', '..');

function scripts(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return scripts(p);
    return /\.m?js$/.test(e) ? [p] : [];
  });
}

test('every .mjs/.js tool under scripts/, bench/ and bin/ parses', () => {
  const files = ['scripts', 'bench', 'bin'].flatMap((d) => scripts(join(root, d)));
  assert.ok(files.length >= 10, `found only ${files.length} scripts under ${root}`);
  const broken = files
    .map((f) => ({ f, r: spawnSync(process.execPath, ['--check', f], { encoding: 'utf8' }) }))
    .filter(({ r }) => r.status !== 0)
    .map(({ f, r }) => `${relative(root, f)}: ${r.stderr.split('\n').find((l) => /Error/.test(l)) ?? r.stderr}`);
  assert.deepEqual(broken, []);
});
