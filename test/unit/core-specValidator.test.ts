// The spec schema's validator is compiled when VAE Lens is built, not on the editor's thread at the
// first spec check: the first check is as quick as the next, the shipped validator is the one the
// schema gives now, and it says exactly what a validator compiled at run time says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import Ajv from 'ajv';
import { parse } from 'jsonc-parser';
import { parseSpecDocument } from '../../src/core/spec';
import { SPEC_SCHEMA } from '../../src/core/specSchema';
import { AJV_OPTIONS } from '../../src/core/specParts/ajvOptions';
import { validate as shipped } from '../../src/core/specParts/specValidator.generated';
import { SPEC_VALIDATOR_FILE, specValidatorSource } from '../../src/core/specParts/specValidatorCode';

const root = path.join(__dirname, '..', '..', '..');
const exampleSpecs = fs
  .readdirSync(path.join(root, 'examples'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.vae.json'))
  .map((f) => fs.readFileSync(path.join(root, 'examples', f), 'utf8'));

const check = (text: string) => {
  try {
    parseSpecDocument(text, 's.vae.json');
  } catch {
    // a refused spec is checked as fully as an accepted one
  }
};

// First in this file: the first check of the process (each test file runs in its own process).
test('the first spec check costs a fraction of compiling the validator on the spot', () => {
  const spec = exampleSpecs[0]!;
  const t0 = performance.now();
  check(spec);
  const first = performance.now() - t0;
  // What the first check cost before the validator was compiled at build time, timed in the same
  // process (a ratio: the machine may be loaded). Compiling took 100-150 ms here, the first check 12-19.
  const t1 = performance.now();
  new Ajv(AJV_OPTIONS).compile(SPEC_SCHEMA as object);
  const compile = performance.now() - t1;
  assert.ok(first < compile / 2, `first check ${first.toFixed(1)} ms, compiling the validator ${compile.toFixed(1)} ms`);
});

test('the validator that ships is the one the schema gives now (run the build after changing the schema)', () => {
  const file = fs.readFileSync(path.join(root, SPEC_VALIDATOR_FILE), 'utf8');
  assert.ok(file === specValidatorSource(SPEC_SCHEMA), `${SPEC_VALIDATOR_FILE} is stale: node scripts/build.mjs rewrites it`);
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every way to break one place of a spec: wrong types, out-of-range numbers, unknown and missing keys. */
function* mutations(value: Json): Generator<Json> {
  const wrong: Json[] = [null, true, -1, 0, 0.5, 1e9, '', 'x', 'VAE-7', [], [1, 'a'], {}, { zz: 1 }];
  for (const w of wrong) yield w;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) for (const m of mutations(item)) yield value.map((v, j) => (j === i ? m : v));
  } else if (value !== null && typeof value === 'object') {
    yield { ...value, tpye: 1 };
    for (const key of Object.keys(value)) {
      const { [key]: gone, ...rest } = value;
      void gone;
      yield rest;
      for (const m of mutations(value[key]!)) yield { ...value, [key]: m };
    }
  }
}

test('the shipped validator reports exactly what one compiled at run time reports, for many broken specs', () => {
  const atRunTime = new Ajv(AJV_OPTIONS).compile(SPEC_SCHEMA as object);
  let cases = 0;
  for (const text of exampleSpecs) {
    for (const value of mutations(parse(text) as Json)) {
      const ok = shipped(value);
      assert.equal(ok, atRunTime(value), JSON.stringify(value));
      assert.deepEqual(shipped.errors ?? null, atRunTime.errors ?? null, JSON.stringify(value));
      cases++;
    }
  }
  assert.ok(cases > 1000, `${cases} cases`);
});
