import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpec } from '../../src/core/spec';
import { nameFromFile, SPEC_TEMPLATES, specFileName, specFileNameProblem, withSpecName } from '../../src/extension/templates';

// Tests run from out/test/unit; the templates live in the source tree.
const dir = join(process.cwd(), 'examples', 'templates');

test('every template file is listed, and every listed template is a valid, commented spec', () => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.vae.json'))
    .sort();
  assert.deepEqual(SPEC_TEMPLATES.map((t) => t.file).sort(), files);
  for (const t of SPEC_TEMPLATES) {
    const text = readFileSync(join(dir, t.file), 'utf8');
    assert.match(text, /\/\/ /, `${t.file} should explain itself in comments`);
    const parsed = parseSpec(text, t.file);
    assert.ok(parsed.spec.model.latentDim >= 1);
  }
});

test('the VAE-0 template warns that the theorem does not apply; the others do not warn', () => {
  for (const t of SPEC_TEMPLATES) {
    const { warnings } = parseSpec(readFileSync(join(dir, t.file), 'utf8'), t.file);
    if (t.id === 'vae0-demo') assert.ok(warnings.some((w) => /VAE-0/.test(w.message)));
    else assert.deepEqual(warnings, [], t.file);
  }
});

test('the model name is set in place, keeping the comments', () => {
  const text = readFileSync(join(dir, 'swiss-roll-vae1.vae.json'), 'utf8');
  const named = withSpecName(text, 'my roll');
  assert.equal(parseSpec(named).spec.name, 'my roll');
  assert.equal(named.split('//').length, text.split('//').length);
});

test('file names get the .vae.json suffix once; bad names are refused with a reason', () => {
  assert.equal(specFileName('swiss roll'), 'swiss-roll.vae.json');
  assert.equal(specFileName('models/a.vae.json'), 'models/a.vae.json');
  assert.equal(nameFromFile('models/swiss roll.vae.json'), 'swiss-roll');
  assert.equal(specFileNameProblem('models/a'), undefined);
  assert.match(specFileNameProblem('') ?? '', /name/);
  assert.match(specFileNameProblem('../x') ?? '', /inside/);
  assert.match(specFileNameProblem('/etc/x') ?? '', /relative/);
  assert.match(specFileNameProblem('a?b') ?? '', /character/);
});
