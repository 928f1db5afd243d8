/**
 * Property-based robustness of the spec parser: random JSON values, random bytes, and valid
 * specs that were cut, spliced, retyped, renamed, nested deeply, prefixed with a BOM or
 * sprinkled with comments must each end in a ParsedSpec or a UserError located at
 * file + line + column (+ field for schema problems): never another exception, never a hang.
 * FUZZ_SEED and FUZZ_RUNS (a multiplier) widen the search from the command line.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isUserError, lineColumnAt, type SourceLocation, type UserError } from '../../src/core/errors';
import { parseSpec, type ParsedSpec } from '../../src/core/spec';
import { SPEC_SCHEMA, type JsonSchema } from '../../src/core/specSchema';
import { reportFigure } from './reliability-figures';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));
// Generous for a loaded 2-core machine; a hang or a quadratic blow-up is far beyond it.
const PER_INPUT_MS = 2000;
const FILE = 'fuzz/model.vae.json';

// ---- the valid starting points ------------------------------------------------------------

function exampleSpecs(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== '.vae-lens') walk(join(dir, e.name));
      else if (e.name.endsWith('.vae.json')) out.push(readFileSync(join(dir, e.name), 'utf8'));
    }
  };
  walk(join(process.cwd(), 'examples'));
  return out;
}

/** One spec per data source and model variant, written as objects so fields can be renamed and retyped. */
const BASE_OBJECTS: Record<string, unknown>[] = [
  {
    name: 'swiss',
    data: { synthetic: 'swiss_roll', n: 2000, noise: 0.05, seed: 1, validation: 0.1, scale: 'standardize' },
    model: { type: 'VAE-1', latentDim: 2, encoder: { hidden: [64, 64], activation: 'relu' }, decoder: { hidden: [64, 64], activation: 'relu' } },
    training: { epochs: 60, batchSize: 128, learningRate: 0.001, seed: 0, schedule: 'cosine', checkpointEvery: 5, backend: 'wasm' },
    diagnostics: { every: 1, mcSamples: 16, subset: 512, tolerance: 0.01, window: 5 },
    output: { runsDir: 'runs' },
  },
  {
    data: { path: 'images/train-images-idx3-ubyte.gz', format: 'idx', limit: 1000 },
    model: { type: 'VAE-3', latentDim: 20, encoder: { hidden: [512] }, decoder: { hidden: [512], activation: 'tanh' }, decoderVariance: 'per-dimension' },
    training: { epochs: 5 },
  },
  {
    data: { path: 'rows.csv', header: true },
    model: { type: 'VAE-2', latentDim: 3, varianceUpdate: 'optimal', initialVariance: 0.5, encoder: { hidden: [] }, decoder: { hidden: [] } },
  },
  { data: { synthetic: 'manifold', dim: 10, intrinsicDim: 3 }, model: { type: 'VAE-0', latentDim: 3 } },
];

const BASE_TEXTS = [...exampleSpecs(), ...BASE_OBJECTS.map((o) => JSON.stringify(o, null, 2))];

// ---- outcome bookkeeping --------------------------------------------------------------------

class Tally {
  inputs = 0;
  accepted = 0;
  userErrors = 0;
  crashes = 0;
  slowestMs = 0;

  /** Parse one text; anything but a ParsedSpec or a well-located UserError is a crash (thrown, so fast-check shrinks it). */
  parse(text: string): { spec?: ParsedSpec; problems?: { message: string; location: SourceLocation }[] } {
    this.inputs++;
    const t0 = performance.now();
    try {
      const spec = parseSpec(text, FILE);
      assertSaneSpec(spec);
      this.accepted++;
      return { spec };
    } catch (e) {
      if (!isUserError(e)) {
        this.crashes++;
        throw new Error(`not a UserError: ${e instanceof Error ? e.stack : String(e)}\ninput: ${JSON.stringify(text.slice(0, 300))}`);
      }
      const problems = [{ message: e.message, location: e.location }, ...e.more];
      for (const p of problems) {
        const why = locationProblem(text, p.message, p.location);
        if (why) {
          this.crashes++;
          throw new Error(`badly located error (${why}): ${p.message} ${JSON.stringify(p.location)}\ninput: ${JSON.stringify(text.slice(0, 300))}`);
        }
      }
      this.userErrors++;
      return { problems };
    } finally {
      const ms = performance.now() - t0;
      this.slowestMs = Math.max(this.slowestMs, ms);
      if (ms > PER_INPUT_MS) {
        this.crashes++;
        throw new Error(`one input took ${ms.toFixed(0)} ms: ${JSON.stringify(text.slice(0, 200))}`);
      }
    }
  }

  report(name: string): void {
    console.log(
      `fuzz: ${name} ${this.inputs} inputs, ${this.crashes} crashes (${this.accepted} specs, ${this.userErrors} user errors, slowest ${this.slowestMs.toFixed(1)} ms, seed ${SEED})`,
    );
    reportFigure({
      kind: 'parser',
      name,
      inputs: this.inputs,
      accepted: this.accepted,
      userErrors: this.userErrors,
      crashes: this.crashes,
      slowest: Math.round(this.slowestMs * 10) / 10,
      seed: SEED,
    });
  }
}

/** Messages about the text itself (syntax) or the whole spec name no field; every other problem does. */
const FIELDLESS_MESSAGE = /^(invalid JSON|invalid spec|the file is empty|the spec must be an object)/;

/** Locations count from after a byte order mark, as editors show the text. */
const withoutBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

function locationProblem(original: string, message: string, loc: SourceLocation): string | undefined {
  const text = withoutBom(original);
  if (loc.file !== FILE) return 'no file';
  if (!Number.isInteger(loc.line) || loc.line! < 1) return 'no line';
  if (!Number.isInteger(loc.column) || loc.column! < 1) return 'no column';
  if (loc.offset === undefined || loc.offset < 0 || loc.offset > text.length) return 'offset outside the text';
  const lc = lineColumnAt(text, loc.offset);
  if (lc.line !== loc.line || lc.column !== loc.column) return `line:column ${loc.line}:${loc.column} is not at offset ${loc.offset}`;
  // (An empty key, "": 0, has the empty field name, which the location cannot tell from none.)
  if (!FIELDLESS_MESSAGE.test(message) && !loc.field && !message.startsWith('unknown field ""')) return 'a schema problem without its field';
  if (message.length === 0 || /\bundefined\b|\[object Object\]|NaN/.test(message)) return 'an unhelpful message';
  return undefined;
}

function assertSaneSpec(p: ParsedSpec): void {
  const { spec } = p;
  assert.equal(typeof spec.name, 'string');
  assert.ok(Number.isInteger(spec.model.latentDim) && spec.model.latentDim >= 1);
  assert.ok(Number.isInteger(spec.training.epochs) && spec.training.epochs >= 1);
  assert.ok(Number.isFinite(spec.training.learningRate) && spec.training.learningRate > 0);
  assert.ok(spec.model.encoder.hidden.every((h) => Number.isInteger(h) && h >= 1));
  assert.ok(spec.data.kind === 'file' ? spec.data.path.length > 0 : spec.data.n >= 2);
}

function fuzz<T>(name: string, runs: number, inputs: fc.Arbitrary<T>, check: (input: T, tally: Tally) => void): Tally {
  const tally = new Tally();
  try {
    fc.assert(
      fc.property(inputs, (input) => check(input, tally)),
      { numRuns: runs * RUNS, seed: SEED },
    );
  } finally {
    tally.report(name);
  }
  assert.equal(tally.crashes, 0);
  return tally;
}

// ---- text mutations -------------------------------------------------------------------------

type Edit =
  | { op: 'delete'; at: number; length: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; length: number }
  | { op: 'swap'; at: number; other: number };

const JUNK = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  '/*',
  '*/',
  '//',
  '\n',
  '0',
  '-',
  '1e999',
  'null',
  'true',
  '"x"',
  '\u0000',
  '\uFEFF',
  '\uD800',
  '\u2028',
  '🙂',
];

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(4000), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(4000),
    text: fc.oneof(fc.constantFrom(...JUNK), fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 })),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(4000) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(4000), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(4000), other: fc.nat(4000) }),
);

function applyEdit(text: string, e: Edit): string {
  if (text.length === 0) return e.op === 'insert' ? e.text : text;
  const at = e.at % (text.length + 1);
  switch (e.op) {
    case 'delete':
      return text.slice(0, at) + text.slice(at + e.length);
    case 'insert':
      return text.slice(0, at) + e.text + text.slice(at);
    case 'truncate':
      return text.slice(0, at);
    case 'duplicate':
      return text.slice(0, at + e.length) + text.slice(at, at + e.length) + text.slice(at + e.length);
    case 'swap': {
      const b = e.other % text.length;
      const a = Math.min(at, text.length - 1);
      const chars = [...text];
      if (a >= chars.length || b >= chars.length) return text;
      [chars[a], chars[b]] = [chars[b]!, chars[a]!];
      return chars.join('');
    }
  }
}

const mutatedTextArb = fc
  .tuple(fc.constantFrom(...BASE_TEXTS), fc.array(editArb, { minLength: 1, maxLength: 5 }))
  .map(([text, edits]) => edits.reduce(applyEdit, text));

// ---- structured mutations (on the object, so the expected field is known) -------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

function leafPaths(v: Json, prefix: Path = []): Path[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leafPaths(x, [...prefix, i]));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leafPaths(x, [...prefix, k]));
  return [prefix];
}

function objectKeyPaths(v: Json, prefix: Path = []): Path[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [];
  return Object.entries(v).flatMap(([k, x]) => [[...prefix, k], ...objectKeyPaths(x, [...prefix, k])]);
}

const fieldName = (p: Path) => p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

function setAt(root: Json, path: Path, value: Json): Json {
  const copy = structuredClone(root);
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  node[path[path.length - 1]!] = value;
  return copy;
}

function renameAt(root: Json, path: Path, newKey: string): Json {
  const copy = structuredClone(root);
  let node = copy as Record<string, Json>;
  for (const key of path.slice(0, -1)) node = node[key as string] as Record<string, Json>;
  const old = path[path.length - 1] as string;
  // Keep the key order, so the renamed key stays where it was.
  const entries = Object.entries(node).map(([k, v]) => [k === old ? newKey : k, v] as const);
  for (const k of Object.keys(node)) delete node[k];
  for (const [k, v] of entries) node[k] = v;
  return copy;
}

const typeOf = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

const otherTypeValue = (original: Json): fc.Arbitrary<Json> =>
  fc
    .constantFrom<Json>(null, true, 'text', '', 3.5, -7, [1, 2], {}, { a: 1 })
    .filter((v) => typeOf(v) !== typeOf(original) && !(typeOf(original) === 'number' && typeof v === 'number'));

/** A one-character typo: substitute, insert, delete or transpose. */
const typoArb = (key: string): fc.Arbitrary<string> =>
  fc.tuple(fc.nat(key.length), fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_'), fc.constantFrom('sub', 'ins', 'del', 'swap')).map(([i, ch, op]) => {
    const at = Math.min(i, key.length - 1);
    if (op === 'sub') return key.slice(0, at) + ch + key.slice(at + 1);
    if (op === 'ins') return key.slice(0, i) + ch + key.slice(i);
    if (op === 'del') return key.slice(0, at) + key.slice(at + 1);
    return at + 1 < key.length ? key.slice(0, at) + key[at + 1] + key[at] + key.slice(at + 2) : key + ch;
  });

const layoutArb = fc.constantFrom<(o: Json) => string>(
  (o) => JSON.stringify(o),
  (o) => JSON.stringify(o, null, 2),
  (o) => `// a comment\n${JSON.stringify(o, null, '\t')}\n/* trailing */`,
  (o) => '\uFEFF' + JSON.stringify(o, null, 1),
  (o) => JSON.stringify(o, null, 2).replace(/\n/g, '\r\n'),
);

// ---- the properties -------------------------------------------------------------------------

const results: { name: string; tally: Tally }[] = [];

test('fuzz: random JSON values, random text and random bytes', { timeout: 120_000 }, () => {
  const arb = fc.oneof(
    fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
    fc
      .record({ data: fc.jsonValue({ maxDepth: 3 }), model: fc.jsonValue({ maxDepth: 3 }), training: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] })
      .map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.string({ unit: fc.constantFrom(...'{}[]":,/*\n 0123456789.eE-+truefalsnl\\'.split('')), maxLength: 200 }),
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('utf8')),
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('latin1')),
  );
  results.push({ name: 'spec-random', tally: fuzz('spec-random', 3000, arb, (text, tally) => void tally.parse(text)) });
});

test('fuzz: valid specs with deleted, inserted, duplicated and swapped characters', { timeout: 120_000 }, () => {
  results.push({ name: 'spec-mutated', tally: fuzz('spec-mutated', 3000, mutatedTextArb, (text, tally) => void tally.parse(text)) });
});

test('fuzz: a value of the wrong type is reported at its own field, line and column', { timeout: 120_000 }, () => {
  const arb = fc
    .constantFrom(...BASE_OBJECTS)
    .chain((o) => fc.constantFrom(...leafPaths(o as Json)).map((path) => ({ o: o as Json, path })))
    .chain(({ o, path }) => fc.tuple(fc.constant(o), fc.constant(path), otherTypeValue(getAt(o, path)), layoutArb));
  const tally = fuzz('spec-retyped', 1500, arb, ([o, path, value, layout], t) => {
    const text = layout(setAt(o, path, value));
    const { problems } = t.parse(text);
    assert.ok(problems, `a ${typeOf(value)} at ${fieldName(path)} was accepted`);
    const field = fieldName(path);
    // "data" picks its variant by key, so a retyped variant key is reported at "data" itself.
    const hit = problems.find((p) => p.location.field === field || (path[0] === 'data' && p.location.field === 'data'));
    assert.ok(hit, `no problem at ${field}: ${problems.map((p) => `${p.location.field}: ${p.message}`).join('; ')}`);
    if (hit.location.field === field) {
      const located = withoutBom(text).slice(hit.location.offset!, hit.location.offset! + hit.location.length!);
      assert.deepEqual(JSON.parse(located), value, `the location points at ${JSON.stringify(located)}, not at the new value`);
    }
  });
  results.push({ name: 'spec-retyped', tally });
});

test('fuzz: a misspelt field name is reported at the key, with "did you mean" the right one', { timeout: 120_000 }, () => {
  const arb = fc
    .constantFrom(...BASE_OBJECTS)
    .chain((o) => fc.constantFrom(...objectKeyPaths(o as Json)).map((path) => ({ o: o as Json, path })))
    .chain(({ o, path }) => fc.tuple(fc.constant(o), fc.constant(path), typoArb(String(path[path.length - 1])), layoutArb))
    .filter(([o, path, typo]) => !siblingKeys(o, path).includes(typo) && !knownKeysAt(path).includes(typo) && typo.length >= 3);
  const tally = fuzz('spec-misspelt', 1500, arb, ([o, path, typo, layout], t) => {
    const text = layout(renameAt(o, path, typo));
    const { problems } = t.parse(text);
    assert.ok(problems, `the misspelt key ${typo} was accepted`);
    const field = fieldName([...path.slice(0, -1), typo]);
    const hit = problems.find((p) => p.location.field === field);
    assert.ok(hit, `no problem at ${field}: ${problems.map((p) => `${p.location.field}: ${p.message}`).join('; ')}`);
    assert.match(hit.message, new RegExp(`unknown field "${typo}"`));
    assert.match(hit.message, /did you mean "[^"]+"\?|known fields:/);
    assert.ok(withoutBom(text).slice(hit.location.offset!).startsWith(JSON.stringify(typo)), 'the location points at the key');
  });
  results.push({ name: 'spec-misspelt', tally });
});

test('fuzz: huge numbers, deep nesting, BOMs, comments and long inputs end quickly', { timeout: 120_000 }, () => {
  const hugeNumber = fc.constantFrom(
    '1e400',
    '-1e400',
    '123456789012345678901234567890',
    '0.0000000000000000000000001',
    '1e-400',
    '9007199254740993',
    '-0',
    '1E+308',
    '00012',
  );
  const numberSwapped = fc.tuple(fc.constantFrom(...BASE_TEXTS), hugeNumber, fc.nat()).map(([text, num, k]) => {
    const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][-+]?\d+)?/g)];
    if (numbers.length === 0) return text;
    const m = numbers[k % numbers.length]!;
    return text.slice(0, m.index) + num + text.slice(m.index! + m[0].length);
  });
  const deep = fc
    .tuple(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('[', '{"a":', '{"data":[', '[{"model":'), fc.boolean())
    .map(([depth, open, closed]) => {
      const text = open.repeat(depth);
      return closed ? text + (open.startsWith('[') ? ']' : '}').repeat(depth) : text;
    });
  const commented = fc
    .tuple(
      fc.constantFrom(...BASE_TEXTS),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom('// note\n', '/* note */', '/* unterminated', '//', '/*/'))),
      fc.boolean(),
    )
    .map(([text, comments, bom]) => {
      let out = text;
      for (const [at, c] of comments) {
        // Only between tokens: after a comma, colon or brace, where a comment is legal.
        const gaps = [...out.matchAll(/[,:{[]/g)];
        if (gaps.length === 0) break;
        const g = gaps[at % gaps.length]!;
        out = out.slice(0, g.index! + 1) + c + out.slice(g.index! + 1);
      }
      return bom ? '\uFEFF' + out : out;
    });
  const long = fc
    .tuple(fc.constantFrom(...BASE_TEXTS), fc.integer({ min: 1, max: 20_000 }))
    .map(([text, n]) => text.replace('"model"', `"padding": [${'0,'.repeat(n)}0], "model"`));
  const arb = fc.oneof(numberSwapped, deep, commented, long);
  results.push({ name: 'spec-extremes', tally: fuzz('spec-extremes', 1000, arb, (text, tally) => void tally.parse(text)) });
});

test('a byte order mark is accepted and kept; nesting past 64 levels is refused where it starts', () => {
  const valid = BASE_TEXTS[BASE_TEXTS.length - 1]!;
  const parsed = parseSpec('\uFEFF' + valid, FILE);
  assert.equal(parsed.text, '\uFEFF' + valid, 'the snapshot keeps the bytes as read');
  const retyped = JSON.stringify({ ...BASE_OBJECTS[3], model: { latentDim: 'two' } }, null, 2);
  const e = errorOf('\uFEFF' + retyped);
  assert.deepEqual(
    [e.location.line, e.location.column],
    [lineColumnAt(retyped, retyped.indexOf('"two"')).line, lineColumnAt(retyped, retyped.indexOf('"two"')).column],
  );
  const deep = `{ "data": ${'['.repeat(100_000)}`;
  const d = errorOf(deep);
  assert.match(d.message, /nested more than 64 levels/);
  assert.equal(d.location.offset, deep.indexOf('[') + 63);
});

test('every valid starting point parses, and the totals are reported', () => {
  const tally = new Tally();
  for (const text of BASE_TEXTS) assert.ok(tally.parse(text).spec, 'a base spec should be valid');
  const total = results.reduce((sum, r) => sum + r.tally.inputs, 0) + tally.inputs;
  const crashes = results.reduce((sum, r) => sum + r.tally.crashes, 0);
  console.log(`fuzz: spec ${total} inputs, ${crashes} crashes`);
  assert.ok(total >= 10_000 * RUNS || results.length < 5, `only ${total} inputs were tried`);
});

function errorOf(text: string): UserError {
  try {
    parseSpec(text, FILE);
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
  assert.fail('the spec was accepted');
}

function getAt(root: Json, path: Path): Json {
  let node: Json = root;
  for (const key of path) node = (node as Record<string | number, Json>)[key]!;
  return node;
}

function siblingKeys(root: Json, path: Path): string[] {
  return Object.keys(getAt(root, path.slice(0, -1)) as Record<string, Json>);
}

/** Every field name the schema knows at that place, so a "typo" that is another real field is skipped. */
function knownKeysAt(path: Path): string[] {
  let schema: JsonSchema | undefined = SPEC_SCHEMA;
  for (const key of path.slice(0, -1)) schema = propertiesOf(schema)[String(key)];
  return Object.keys(propertiesOf(schema));
}

const propertiesOf = (schema: JsonSchema | undefined): Record<string, JsonSchema> =>
  Object.assign({}, schema?.properties, ...(schema?.oneOf ?? []).map((v) => v.properties ?? {})) as Record<string, JsonSchema>;
