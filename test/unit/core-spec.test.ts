import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isUserError, UserError } from '../../src/core/errors';
import { parseSpec, parseSpecDocument } from '../../src/core/spec';
import { SPEC_SCHEMA, SYNTHETIC_KINDS } from '../../src/core/specSchema';

const SWISS_ROLL = `{ "name": "swiss-roll",
  "data": { "synthetic": "swiss_roll", "n": 2000, "noise": 0.05, "seed": 1 },
  "model": { "type": "VAE-1", "latentDim": 2,
             "encoder": { "hidden": [64, 64], "activation": "relu" },
             "decoder": { "hidden": [64, 64], "activation": "relu" } },
  "training": { "epochs": 60, "batchSize": 128, "learningRate": 0.001, "seed": 0 },
  "diagnostics": { "every": 1, "mcSamples": 16 } }`;

function errorOf(text: string, file = 'm.vae.json'): UserError {
  try {
    parseSpec(text, file);
  } catch (e) {
    assert.ok(isUserError(e), `expected a UserError, got ${String(e)}`);
    return e as UserError;
  }
  assert.fail('the spec was accepted');
}

test('the swiss-roll spec of the issue is accepted as written, with defaults filled in', () => {
  const { spec, warnings } = parseSpec(SWISS_ROLL, 'swiss.vae.json');
  assert.equal(spec.name, 'swiss-roll');
  assert.deepEqual(spec.data, {
    kind: 'synthetic',
    synthetic: 'swiss_roll',
    n: 2000,
    noise: 0.05,
    seed: 1,
    dim: undefined,
    intrinsicDim: undefined,
    scale: undefined,
    limit: undefined,
    validation: 0,
  });
  assert.equal(spec.model.type, 'VAE-1');
  assert.deepEqual(spec.model.encoder, { hidden: [64, 64], activation: 'relu' });
  assert.equal(spec.model.varianceUpdate, 'gradient');
  assert.equal(spec.training.epochs, 60);
  assert.equal(spec.diagnostics.mcSamples, 16);
  assert.equal(spec.diagnostics.tolerance, 0.01);
  assert.deepEqual(warnings, []);
});

test('the shipped examples all parse', () => {
  const root = path.join(__dirname, '..', '..', '..', 'examples');
  const specs: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== '.vae-lens') walk(path.join(d, e.name));
      else if (e.name.endsWith('.vae.json')) specs.push(path.join(d, e.name));
    }
  };
  walk(root);
  assert.ok(specs.length >= 1);
  // Model specs and script specs (trainer.command) alike.
  for (const f of specs) parseSpecDocument(fs.readFileSync(f, 'utf8'), f);
});

test('a file data source is accepted for every format, with comments and trailing commas', () => {
  for (const p of ['data.csv', 'x.npy', '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz', 'rows.json']) {
    const { spec } = parseSpec(`// comment\n{ "data": { "path": ${JSON.stringify(p)}, }, "model": { "latentDim": 3 }, }`, 'a.vae.json');
    assert.equal(spec.data.kind, 'file');
    assert.equal(spec.data.kind === 'file' && spec.data.path, p);
    assert.equal(spec.name, 'a');
  }
});

test('an unknown field is located and gets a "did you mean"', () => {
  const e = errorOf('{\n  "data": { "synthetic": "circle" },\n  "model": { "latentDim": 2, "laten": 3 }\n}');
  assert.match(e.message, /unknown field "laten" in model \(did you mean "latentDim"\?\)/);
  assert.equal(e.location.file, 'm.vae.json');
  assert.equal(e.location.line, 3);
  assert.equal(e.location.column, 30);
  assert.equal(e.location.field, 'model.laten');
});

test('wrong types, out-of-range values and bad enums each name their field; all are reported together', () => {
  const e = errorOf('{ "data": { "synthetic": "swissroll" }, "model": { "latentDim": "two", "type": "VAE-1" }, "training": { "batchSize": 0 } }');
  const all = [e, ...e.more].map((p) => `${p.location.field}: ${p.message}`);
  assert.ok(
    all.some((m) => m.startsWith('data.synthetic:') && /did you mean "swiss_roll"/.test(m)),
    all.join('\n'),
  );
  assert.ok(
    all.some((m) => m.startsWith('model.latentDim:') && /must be an integer, not "two"/.test(m)),
    all.join('\n'),
  );
  assert.ok(
    all.some((m) => m.startsWith('training.batchSize:') && /at least 1/.test(m)),
    all.join('\n'),
  );
});

test('missing required fields and ambiguous data sources are explained', () => {
  assert.match(errorOf('{ "model": { "latentDim": 2 } }').message, /missing the required field "data"/);
  assert.match(errorOf('{ "data": {}, "model": { "latentDim": 2 } }').message, /needs exactly one of "path" or "synthetic"/);
  assert.match(errorOf('{ "data": { "path": "a.csv", "synthetic": "circle" }, "model": { "latentDim": 2 } }').message, /give only one/);
  assert.match(errorOf('{ "data": { "synthetic": "manifold" }, "model": { "latentDim": 2 } }').message, /data.dim is required/);
});

test('invalid JSON gives line and column', () => {
  const e = errorOf('{\n  "data": { "synthetic": "circle" }\n  "model": {}\n}');
  assert.match(e.message, /expected "," between entries/);
  assert.equal(e.location.line, 3);
  assert.equal(e.location.column, 3);
  assert.match(errorOf('').message, /empty|expected a value/);
});

test('VAE-0 and one Monte-Carlo sample are warned about, with locations', () => {
  const { warnings } = parseSpec(
    '{ "data": { "synthetic": "circle" }, "model": { "type": "VAE-0", "latentDim": 2 }, "diagnostics": { "mcSamples": 1 } }',
    'w.vae.json',
  );
  assert.equal(warnings.length, 2);
  assert.equal(warnings[0]!.location.field, 'model.type');
  assert.match(warnings[0]!.message, /does not converge to the entropy sum/);
  assert.equal(warnings[1]!.location.field, 'diagnostics.mcSamples');
});

test('the published schema file is the one generated from the source', () => {
  const file = path.join(__dirname, '..', '..', '..', 'schemas', 'vae-spec.schema.json');
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), JSON.parse(JSON.stringify(SPEC_SCHEMA)));
});

test("the published schema tells the editor's JSON support what the spec reader accepts: comments and trailing commas", () => {
  // VS Code's JSON support warns "Trailing comma" in a jsonc file unless its schema allows them.
  const file = path.join(__dirname, '..', '..', '..', 'schemas', 'vae-spec.schema.json');
  const published = JSON.parse(fs.readFileSync(file, 'utf8')) as { allowComments?: boolean; allowTrailingCommas?: boolean };
  const text = '{\n  // notes\n  "data": { "synthetic": "swiss_roll", },\n  "model": { "latentDim": 2, "encoder": { "hidden": [8, 8,], }, },\n}\n';
  assert.equal(parseSpec(text).spec.model.latentDim, 2);
  assert.equal(published.allowComments, true);
  assert.equal(published.allowTrailingCommas, true);
});

test('a seed is a 32-bit word: larger ones, which would share the streams of a smaller one, are refused at their field', () => {
  for (const [section, extra] of [
    ['training', '"data": { "path": "d.csv" }'],
    ['data', ''],
  ] as const)
    for (const [seed, ok] of [
      ['0', true],
      ['4294967295', true],
      ['4294967296', false],
      ['4294967297', false],
      ['1e20', false],
    ] as const) {
      const data = section === 'data' ? `"data": { "synthetic": "circle", "seed": ${seed} }` : extra;
      const training = section === 'training' ? `, "training": { "seed": ${seed} }` : '';
      const text = `{ ${data}, "model": { "latentDim": 1 }${training} }`;
      if (ok) {
        const spec = parseSpec(text).spec;
        assert.equal(section === 'training' ? spec.training.seed : spec.data.kind === 'synthetic' && spec.data.seed, Number(seed), text);
        continue;
      }
      assert.throws(
        () => parseSpec(text),
        (e: unknown) => isUserError(e) && e.location.field === `${section}.seed` && /seed is [\d.e+]+; it must be at most 4294967295/.test(e.message),
        text,
      );
    }
});

test('an output.runsDir written for a shell or for Windows is warned about at its field, in model and script specs', () => {
  const kinds = [
    (o: string) => `{ "data": {"synthetic": "circle"}, "model": {"latentDim": 2}, "output": {"runsDir": ${o}} }`,
    (o: string) => `{ "trainer": {"command": ["python3", "t.py"]}, "output": {"runsDir": ${o}} }`,
  ];
  const cases: [string, RegExp | undefined][] = [
    ['~/runs', /starts with "~", which only a shell expands/],
    ['~', /starts with "~"/],
    ['runs\\a', /contains "\\", which separates folders on Windows only: .*\("runs\/a"\)/],
    ['..\\\\runs\\b', /forward slashes \("\.\.\/runs\/b"\)/],
    ['file:///abs/my%20runs', /is a file URI: .*write the path itself .*\("\/abs\/my runs"\)/],
    ['runs/a', undefined],
    ['/abs/runs', undefined],
  ];
  for (const make of kinds) {
    for (const [runsDir, expect] of cases) {
      const doc = parseSpecDocument(make(JSON.stringify(runsDir)), '/w/s.vae.json');
      const w = doc.parsed.warnings.filter((x) => x.location.field === 'output.runsDir');
      if (expect === undefined) assert.equal(w.length, 0, runsDir);
      else {
        assert.equal(w.length, 1, runsDir);
        assert.match(w[0]!.message, expect);
        assert.equal(w[0]!.location.line, 1);
      }
    }
  }
});

test('a window of 1, which the rule reads as 2 (its trend needs 2w >= 4 passes), is warned of at its field, and still accepted', () => {
  // Still accepted: runs that asked for it keep it in their spec snapshot, which a resume and eval read.
  const { spec, warnings } = parseSpec('{ "data": { "synthetic": "circle" }, "model": { "latentDim": 1 }, "diagnostics": { "window": 1 } }', 'm.vae.json');
  assert.equal(spec.diagnostics.window, 1);
  const w = warnings.find((x) => x.location.field === 'diagnostics.window');
  assert.match(w?.message ?? '', /a window of 1 is read as 2/);
  assert.equal(
    parseSpec('{ "data": { "synthetic": "circle" }, "model": { "latentDim": 1 }, "diagnostics": { "window": 2 } }', 'm.vae.json').warnings.length,
    0,
  );
});

test('a script spec with a window of 1 is warned of too', () => {
  const parsed = parseSpecDocument('{ "name": "s", "trainer": { "command": ["python3", "train.py"] }, "diagnostics": { "window": 1 } }', 's.vae.json');
  assert.ok(parsed.parsed.warnings.some((w) => w.location.field === 'diagnostics.window' && /read as 2/.test(w.message)));
});

test('data.dim and data.intrinsicDim given to a synthetic set that does not read them are warned about at their field', () => {
  const readsDim = new Set(['manifold', 'ppca', 'ring']);
  const readsIntrinsic = new Set(['manifold', 'ppca']);
  for (const kind of SYNTHETIC_KINDS) {
    for (const given of [{ dim: 6 }, { dim: 6, intrinsicDim: 2 }, { intrinsicDim: 2 }]) {
      if (readsDim.has(kind) && given.dim === undefined) continue;
      const text = `{\n  "data": ${JSON.stringify({ synthetic: kind, ...given })},\n  "model": { "latentDim": 2 }\n}`;
      const { warnings } = parseSpec(text, 's.vae.json');
      for (const [field, reads] of [
        ['dim', readsDim],
        ['intrinsicDim', readsIntrinsic],
      ] as const) {
        const warned = warnings.filter((w) => w.location.field === `data.${field}`);
        const expected = field in given && !reads.has(kind);
        assert.equal(warned.length, expected ? 1 : 0, `${kind} ${JSON.stringify(given)} ${field}: ${JSON.stringify(warnings)}`);
        if (expected) {
          assert.match(warned[0]!.message, new RegExp(`data\\.${field} is not read by "${kind}"`));
          assert.equal(warned[0]!.location.line, 2);
        }
      }
    }
  }
});
