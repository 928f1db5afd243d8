// The schema check (ajv, core/specParts/schemaCheck.ts) beyond what ajv sees in a value: keys given
// twice (ajv sees the last value only; every value is still checked) and the order problems are listed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/core/errors';
import { parseSpec } from '../../src/core/spec';

function problems(text: string): string[] {
  try {
    parseSpec(text, '/w/s.vae.json');
  } catch (e) {
    if (!isUserError(e)) throw e;
    return [e, ...e.more].map((p) => `${p.location.line}:${p.location.column} ${p.location.field ?? ''} ${p.message}`);
  }
  return [];
}

test('a key given twice is refused, and the value given first is checked too (ajv sees only the last)', () => {
  const text = '{\n "data": {"synthetic": "circle"},\n "model": {"latentDim": 2, "tpye": "VAE-1"},\n "model": {"latentDim": 0}\n}';
  assert.deepEqual(problems(text), [
    '3:28 model.tpye unknown field "tpye" in model (did you mean "type"?)',
    '4:2 model model is given twice',
    '4:25 model.latentDim model.latentDim is 0; it must be at least 1',
  ]);
});

test('problems come in document order; a missing field after the object it is missing from', () => {
  const text = '{\n "model": {"latentDim": -1, "type": "VAE-7"},\n "data": {"synthetic": "circle", "n": 1}\n}';
  const got = problems(text);
  assert.equal(got.length, 3, got.join('\n'));
  assert.match(got[0]!, /^2:25 model.latentDim .*at least 1/);
  assert.match(got[1]!, /^2:37 model.type model.type is "VAE-7"; expected one of/);
  assert.match(got[2]!, /^3:39 data.n data.n is 1; it must be at least 2/);
  assert.deepEqual(
    problems('{\n "data": {"synthetic": "circle"}\n}').map((p) => p.replace(/ \(.*$/, '')),
    ['1:1 model the spec is missing the required field "model"'],
  );
});

test('a prototype-named key in an object open to any key (trainer.env) is still an unknown field', () => {
  const got = problems('{\n "trainer": {"command": ["x"], "env": {"constructor": "1"}}\n}');
  assert.deepEqual(got, ['2:40 trainer.env.constructor unknown field "constructor" in trainer.env; known fields: ']);
});

test('diagnostics.tolerance has a floor a float32 gap can resolve, and window a ceiling: run.json is read to the same ranges', () => {
  const spec = (diagnostics: string) => `{ "data": {"synthetic": "circle"}, "model": {"latentDim": 2}, "diagnostics": ${diagnostics} }`;
  assert.match(problems(spec('{"tolerance": 1e-300}')).join('\n'), /diagnostics\.tolerance is 1e-300; it must be at least 0\.000001/);
  assert.match(problems(spec('{"window": 1000000000}')).join('\n'), /diagnostics\.window .* at most 1000/);
  assert.deepEqual(problems(spec('{"tolerance": 0.000001, "window": 1000}')), []);
});
