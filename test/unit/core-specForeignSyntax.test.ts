/**
 * Specs written with the habits of other languages (JavaScript, JSON5, Python): NaN, Infinity, hex,
 * a leading "+" or ".", single quotes, bare words; or pasted from a document, a chat or a web page:
 * typographic quotes, no-break and zero-width spaces. Each is one problem, at the value, saying what it is
 * and what JSON wants instead; never a cascade of "expected a value" on the brackets after it.
 * An empty file (or one of comments only) says it is empty.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError, type SourceLocation } from '../../src/core/errors';
import { parseSpec } from '../../src/core/spec';

const problemsOf = (text: string): { message: string; location: SourceLocation }[] => {
  try {
    parseSpec(text, 'm.vae.json');
  } catch (e) {
    if (!isUserError(e)) throw e;
    return [{ message: e.message, location: e.location }, ...e.more];
  }
  assert.fail(`accepted: ${text}`);
};

/** Where a value goes in a spec: each slot is replaced by a foreign token in turn. */
const SLOTS = [
  (v: string) => `{ "data": { "synthetic": "swiss_roll" }, "model": { "latentDim": ${v} } }`,
  (v: string) => `{\n  "data": { "synthetic": "swiss_roll", "noise": ${v} },\n  "model": { "latentDim": 2 }\n}\n`,
  (v: string) => `{\r\n  "model": {\r\n    "latentDim": 2,\r\n    "encoder": { "hidden": [64, ${v}, 8] }\r\n  },\r\n  "data": { "synthetic": "ring" }\r\n}`,
  (v: string) => `{ "data": { "synthetic": "swiss_roll" }, "model": { "latentDim": 2 }, "training": { "learningRate": ${v}, "epochs": 3 } }`,
  (v: string) => `// 😀 notes\n{ "name": "模型", "data": { "synthetic": "swiss_roll" }, "model": { "latentDim": 2 }, "training": { "learningRate": ${v} } }`,
];

/** A token other tools write, and what the message must say about it. */
const FOREIGN: [string, RegExp][] = [
  ['NaN', /NaN is not a JSON number/],
  ['Infinity', /Infinity is not a JSON number/],
  ['-Infinity', /-Infinity is not a JSON number/],
  ['0x10', /0x10.*decimal.*16/],
  ['0XfF', /0XfF.*decimal.*255/],
  ['.5', /\.5.*0\.5/],
  ['+1', /\+1.*"\+"/],
  ["'relu'", /single quotes.*"relu"/],
  ['undefined', /undefined.*double quotes/],
  ['True', /True.*true/],
  ['False', /False.*false/],
  ['None', /None.*null/],
  ['relu', /relu.*double quotes.*"relu"/],
  // Pasted from a word processor, a chat or a web page: typographic quotes, and spaces JSON does not know.
  ['“relu”', /“relu”.*typographic quotes.*write "relu"/],
  ['”relu”', /typographic quotes.*write "relu"/],
  ['‘relu’', /typographic quotes.*write "relu"/],
  ['“swiss roll”', /“swiss roll”.*typographic quotes.*write "swiss roll"/],
  ['„relu“', /typographic quotes.*write "relu"/],
  ['«relu»', /typographic quotes.*write "relu"/],
  ['\u00a02', /a no-break space \(U\+00A0\).*plain space/],
  ['\u200b2', /a zero-width space \(U\+200B\).*plain space/],
  ['\u202f\u00a02', /U\+202F.*plain space/],
  ['\u30002', /U\+3000.*plain space/],
];

for (const [token, says] of FOREIGN) {
  test(`${token} in a spec is one problem at the value, saying what JSON wants`, () => {
    for (const slot of SLOTS) {
      const text = slot(token);
      const problems = problemsOf(text);
      assert.equal(problems.length, 1, `${text}\n${problems.map((p) => p.message).join('\n')}`);
      const [p] = problems;
      assert.match(p!.message, says);
      assert.equal(p!.location.offset, text.indexOf(token, text.indexOf(token === 'relu' ? ': relu' : token)), p!.message);
      assert.equal(p!.location.length, token.length);
    }
  });
}

test('a single-quoted or bare property name is one problem at the name', () => {
  for (const [text, says] of [
    [`{ 'data': { "synthetic": "ring" }, "model": { "latentDim": 2 } }`, /single quotes.*"data"/],
    [`{ data: { "synthetic": "ring" }, "model": { "latentDim": 2 } }`, /data.*double quotes.*"data"/],
    [`{ “data”: { "synthetic": "ring" }, "model": { "latentDim": 2 } }`, /typographic quotes.*"data"/],
  ] as const) {
    const problems = problemsOf(text);
    assert.equal(problems.length, 1, problems.map((p) => p.message).join('\n'));
    assert.match(problems[0]!.message, says);
    assert.equal(problems[0]!.location.offset, 2);
  }
});

test('a line commented with "#", as in YAML or Python, is one problem at the line, saying to use //', () => {
  const lines = ['# notes on this model', '  #TODO: more latents', '#', '\t# lr=1e-3, "relu" worked best'];
  for (const line of lines)
    for (const [i, slot] of SLOTS.entries()) {
      const spec = slot('2');
      // Before the spec, and on a line of its own inside it.
      for (const text of [`${line}\n${spec}`, spec.replace('{', `{\n${line}\n`)]) {
        const problems = problemsOf(text);
        assert.equal(problems.length, 1, `slot ${i}: ${text}\n${problems.map((p) => p.message).join('\n')}`);
        assert.match(problems[0]!.message, /"#" starts a comment in YAML or Python, not in JSON: write \/\/ instead/);
        assert.equal(problems[0]!.location.offset, text.indexOf('#'));
        assert.equal(problems[0]!.location.length, line.trimStart().length);
      }
    }
  // A "#" that is not first on its line is no comment: a value such as a colour.
  assert.doesNotMatch(problemsOf(slotWith('#fff'))[0]!.message, /comment/);
});

const slotWith = (v: string) => SLOTS[0]!(v);

test('two foreign values are two problems, each at its own place', () => {
  const text = '{ "data": { "synthetic": "ring", "noise": NaN }, "model": { "latentDim": 0x2 } }';
  const problems = problemsOf(text);
  assert.deepEqual(
    problems.map((p) => p.location.offset),
    [text.indexOf('NaN'), text.indexOf('0x2')],
  );
});

test("a foreign value does not hide the file's other syntax errors, which keep their places", () => {
  const text = '{ "data": { "synthetic": "ring", "noise": NaN },\n  "model": { "latentDim": 2 "type": "VAE-1" } }';
  const problems = problemsOf(text);
  assert.deepEqual(
    problems.map((p) => [p.location.offset, p.message.replace(/:.*/s, '')]),
    [
      [text.indexOf('NaN'), 'invalid JSON'],
      [text.indexOf('"type"'), 'invalid JSON'],
    ],
  );
  assert.match(problems[1]!.message, /expected "," between entries/);
  assert.match(problemsOf(text.replace('NaN', '1_000'))[0]!.message, /1_000.*write 1000/);
});

test('an empty file, or one of whitespace and comments only, says it is empty', () => {
  for (const text of ['', '   \n', '\uFEFF', '// a spec will go here\n', '/* todo */\r\n// later']) {
    const problems = problemsOf(text);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /empty.*a spec is a JSON object/);
  }
});
