/**
 * Keys that name Object.prototype's members ("__proto__", "constructor", "toString"...) must be
 * unknown fields like any other: refused at the key, never reaching the validated spec through the
 * prototype (a "__proto__" of { "batchSize": 0 } once trained with batch size 0). Generated: a key
 * of that family, with a hostile value, put into every object of a valid spec; and the same names
 * as command-line options.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { isUserError } from '../../src/core/errors';
import { parseSpec } from '../../src/core/spec';
import { reportFigure } from './reliability-figures';
import { BIN, noStack, ROOT } from './reliability-processes';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);

const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupGetter__',
];

/** Values that would do harm if they reached the spec: invalid settings the schema refuses where they belong. */
const HOSTILE_VALUES = [
  '{ "batchSize": 0, "epochs": -1 }',
  '{ "type": "VAE-9", "latentDim": 0 }',
  '{ "path": "/etc/passwd" }',
  '{ "runsDir": "/" }',
  '{}',
  'null',
  '"x"',
  '0',
  '[1, 2]',
];

/** Every object of a valid spec, by its dotted field. */
const OBJECTS = ['', 'data', 'model', 'model.encoder', 'model.decoder', 'training', 'diagnostics', 'output'];
const MARK = '"@@here@@": 0';

function specWithKeyAt(where: string, key: string, value: string, variant: 'synthetic' | 'file'): string {
  const base: Record<string, unknown> = {
    name: 'p',
    data: variant === 'synthetic' ? { synthetic: 'circle', n: 100 } : { path: 'd.csv' },
    model: { type: 'VAE-1', latentDim: 2, encoder: { hidden: [8] }, decoder: { hidden: [8] } },
    training: { epochs: 2, batchSize: 16 },
    diagnostics: { every: 1 },
    output: { runsDir: 'runs' },
  };
  const target = where === '' ? base : (where.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], base) as Record<string, unknown>);
  target['@@here@@'] = 0;
  return JSON.stringify(base, null, 2).replace(MARK, `${JSON.stringify(key)}: ${value}`);
}

test('prototype-named keys anywhere in a spec are unknown fields, located at the key', () => {
  let refused = 0;
  let accepted = 0;
  let crashes = 0;
  let slowest = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...OBJECTS),
      fc.constantFrom(...PROTOTYPE_NAMES),
      fc.constantFrom(...HOSTILE_VALUES),
      fc.constantFrom('synthetic' as const, 'file' as const),
      (where, key, value, variant) => {
        const text = specWithKeyAt(where, key, value, variant);
        const t0 = performance.now();
        let error: unknown;
        try {
          parseSpec(text, 'hostile.vae.json');
        } catch (e) {
          error = e;
        }
        slowest = Math.max(slowest, performance.now() - t0);
        if (error === undefined) {
          accepted++;
          assert.fail(`accepted ${key} in ${where || 'the spec'}:\n${text}`);
        }
        if (!isUserError(error)) {
          crashes++;
          throw error;
        }
        refused++;
        const field = where ? `${where}.${key}` : key;
        const problem = [{ message: error.message, location: error.location }, ...error.more].find((p) => p.location.field === field);
        assert.ok(problem, `no problem at ${field}: ${error.message}`);
        assert.match(problem.message, new RegExp(`unknown field "${key.replace(/\$/g, '\\$')}"`));
        assert.equal(text.slice(problem.location.offset, problem.location.offset! + key.length + 2), JSON.stringify(key), 'located at the key');
        assert.ok(problem.location.line! > 1 && problem.location.column! > 1);
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
  reportFigure({
    group: 'prototypeKeys',
    kind: 'parser',
    name: 'spec-prototype-keys',
    inputs: refused + accepted + crashes,
    accepted,
    userErrors: refused,
    crashes,
    slowest: Math.round(slowest * 10) / 10,
    seed: SEED,
  });
});

test('a validated spec has no prototype for a hostile key to reach', () => {
  const { spec } = parseSpec(specWithKeyAt('training', 'seed', '7', 'synthetic'));
  assert.equal(spec.training.seed, 7);
  assert.equal(({} as Record<string, unknown>).batchSize, undefined, 'Object.prototype untouched');
});

test('prototype-named command-line options are unknown options through the CLI: exit 2, no stack', () => {
  let cases = 0;
  for (const [i, name] of PROTOTYPE_NAMES.entries()) {
    const command = ['train', 'eval', 'report'][i % 3]!;
    const r = spawnSync(process.execPath, [BIN, command, 'x', `--${name}`, '1'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`"${command}" has no option --${name.replace(/\$/g, '\\$')}`));
    noStack(r.stderr);
    cases++;
  }
  reportFigure({ group: 'prototypeKeys', kind: 'check', name: 'prototype-named CLI options refused as unknown (exit 2, no stack)', cases, passed: cases });
});
