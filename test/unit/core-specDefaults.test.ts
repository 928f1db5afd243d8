/**
 * The schema's `default`s (what the editor's hover promises) and the parser's filled-in
 * values (what the trainer does) come from one table; these tests fail when they drift apart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SPEC_DEFAULTS } from '../../src/core/defaults';
import { MODEL_TYPE_INFO, MODEL_TYPES } from '../../src/core/modelTypes';
import { parseSpec, parseSpecDocument } from '../../src/core/spec';
import { theoremWarnings } from '../../src/core/specParts/theoremWarnings';
import { SPEC_SCHEMA, type JsonSchema } from '../../src/core/specSchema';

/** Every schema property with a `default`, by its path in the parsed spec. */
function schemaDefaults(schema: JsonSchema, at: string[] = [], out = new Map<string, unknown>()): Map<string, unknown> {
  for (const variant of schema.oneOf ?? []) schemaDefaults(variant, at, out);
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const p = [...at, key];
    if (sub.default !== undefined) out.set(p.join('.'), sub.default);
    schemaDefaults(sub, p, out);
  }
  return out;
}

function valueAt(o: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
}

const MINIMAL = {
  synthetic: '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2, "encoder": {}, "decoder": {} } }',
  file: '{ "data": { "path": "x.csv" }, "model": { "latentDim": 2 } }',
  script: '{ "trainer": { "command": ["python3", "train.py"] } }',
};

test('every default the schema states is the value the parser fills in', () => {
  const defaults = schemaDefaults(SPEC_SCHEMA);
  assert.ok(defaults.size >= 20, `only ${defaults.size} defaults found in the schema`);
  const { spec } = parseSpec(MINIMAL.synthetic, 'm.vae.json');
  // trainer.* belongs to a script spec (trainer.command): its defaults are checked on one.
  const script = parseSpecDocument('{ "trainer": { "command": ["x"] } }', 's.vae.json').parsed.spec;
  for (const [field, value] of defaults) {
    const parsed = field.startsWith('trainer.') ? script : spec;
    assert.deepEqual(
      valueAt(parsed, field),
      value,
      `${field}: the schema says ${JSON.stringify(value)}, the parser gives ${JSON.stringify(valueAt(parsed, field))}`,
    );
  }
  assert.equal(parseSpec(MINIMAL.file, 'm.vae.json').spec.data.validation, SPEC_DEFAULTS.data.validation);
});

test('every entry of the defaults table is stated in the schema', () => {
  const defaults = schemaDefaults(SPEC_SCHEMA);
  const stated = [...defaults.keys()].map((k) => k.split('.').pop());
  for (const [section, entries] of Object.entries(SPEC_DEFAULTS))
    for (const key of Object.keys(entries)) assert.ok(stated.includes(key), `${section}.${key} has no default in the schema`);
});

test("the model types of the schema are the table's, and each states its summary", () => {
  const type = SPEC_SCHEMA.properties!.model!.properties!.type!;
  assert.deepEqual(type.enum, MODEL_TYPES);
  for (const t of MODEL_TYPES) assert.ok(type.description!.includes(MODEL_TYPE_INFO[t].summary), t);
});

test('theorem warnings follow the table: exactly the variants where it does not hold are warned about', () => {
  for (const t of MODEL_TYPES) {
    const { spec } = parseSpec(`{ "data": { "synthetic": "circle" }, "model": { "type": "${t}", "latentDim": 2 } }`, 'm.vae.json');
    const onType = theoremWarnings(spec).filter((w) => w.field === 'model.type');
    assert.equal(onType.length, MODEL_TYPE_INFO[t].theoremHolds ? 0 : 1, t);
  }
});
