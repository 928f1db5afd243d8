/**
 * Every synthetic data section the spec validator accepts must generate and split its data; one
 * that cannot is refused by the validator itself (so in the editor's problems too), located at a
 * line of the file and a field. Generated over the small values where the rules bite.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUserError, type UserError } from '../../src/core/errors';
import { parseSpec, type ParsedSpec } from '../../src/core/spec';
import { SYNTHETIC_KINDS } from '../../src/core/specSchema';
import { loadData } from '../../src/data/load';

const FILE = 'gen/model.vae.json';

function* dataSections(): Generator<Record<string, unknown>> {
  for (const synthetic of SYNTHETIC_KINDS)
    for (const n of [2, 3, 40])
      for (const dim of [undefined, 1, 2, 3])
        for (const intrinsicDim of [undefined, 1, 2, 3, 4])
          for (const validation of [undefined, 0.5, 0.9]) for (const limit of [undefined, 1, 2]) yield { synthetic, n, dim, intrinsicDim, validation, limit };
}

function specText(data: Record<string, unknown>): string {
  // JSON.stringify drops the undefined fields: each field on its own line, as users write them.
  return JSON.stringify({ data, model: { latentDim: 1 } }, null, 2);
}

test('a synthetic data section the validator accepts generates and splits its data; one it cannot is refused at a line and field', async () => {
  let accepted = 0;
  let refused = 0;
  const failures: string[] = [];
  for (const data of dataSections()) {
    const text = specText(data);
    let parsed: ParsedSpec;
    try {
      parsed = parseSpec(text, FILE);
    } catch (e) {
      assert.ok(isUserError(e), `${text}\nthrew ${String(e)}`);
      const loc = (e as UserError).location;
      if (loc?.line === undefined || loc.field === undefined)
        failures.push(`refused without a line or field: ${JSON.stringify(data)}: ${(e as Error).message}`);
      refused++;
      continue;
    }
    accepted++;
    try {
      await loadData(parsed.spec.data, FILE);
    } catch (e) {
      failures.push(`accepted, then failed to load: ${JSON.stringify(data)}: ${(e as Error).message}`);
    }
  }
  assert.ok(accepted > 100 && refused > 100, `accepted ${accepted}, refused ${refused}`);
  assert.deepEqual(failures.slice(0, 8), [], `${failures.length} of ${accepted + refused} cases`);
});

test('a manifold too small for the default intrinsic dimension is refused at data.dim, naming the default', () => {
  const text = specText({ synthetic: 'manifold', dim: 2 });
  assert.throws(
    () => parseSpec(text, FILE),
    (e: UserError) => e.location?.field === 'data.dim' && e.location.line === 4 && /intrinsicDim.*default 2/.test(e.message),
  );
});
