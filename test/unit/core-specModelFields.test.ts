/**
 * A model field the chosen type does not read is warned of at that field, never silently ignored:
 * generated over every model type and every value of the variance fields.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODEL_TYPE_INFO } from '../../src/core/modelTypes';
import type { UserError } from '../../src/core/errors';
import { parseSpec } from '../../src/core/spec';
import { MODEL_TYPES } from '../../src/core/specSchema';

test('decoderVariance and varianceUpdate are warned of where the model type does not read them, and only there', () => {
  for (const type of MODEL_TYPES)
    for (const decoderVariance of [undefined, 'scalar', 'per-dimension'])
      for (const varianceUpdate of [undefined, 'gradient', 'optimal']) {
        const model = { type, latentDim: 1, decoderVariance, varianceUpdate };
        let warned: string[];
        try {
          warned = parseSpec(JSON.stringify({ data: { synthetic: 'circle' }, model }), 'm.vae.json').warnings.map((w) => w.location.field ?? '');
        } catch {
          continue; // refused outright (VAE-3 with "optimal")
        }
        const info = MODEL_TYPE_INFO[type];
        const what = JSON.stringify(model);
        // Only a learned global variance has a shape to choose; only a fixed one ignores how it is learned.
        assert.equal(warned.includes('model.decoderVariance'), decoderVariance !== undefined && info.decoderVariance !== 'global', what);
        assert.equal(warned.includes('model.varianceUpdate'), varianceUpdate !== undefined && info.decoderVariance === 'fixed', what);
      }
});

test('an initialVariance float32 cannot hold is refused at that field; every accepted one is a finite, nonzero float32', () => {
  for (let exponent = -50; exponent <= 40; exponent++)
    for (const type of MODEL_TYPES) {
      const initialVariance = Number(`3e${exponent}`);
      const text = JSON.stringify({ data: { synthetic: 'circle' }, model: { type, latentDim: 1, initialVariance } }, null, 2);
      let accepted: boolean;
      try {
        parseSpec(text, 'm.vae.json');
        accepted = true;
      } catch (e) {
        assert.equal((e as UserError).location?.field, 'model.initialVariance', `${initialVariance}: ${(e as Error).message}`);
        assert.ok((e as UserError).location?.line !== undefined);
        accepted = false;
      }
      // The trainer keeps log s^2 in float32 and takes exp of it: s^2 itself must be a normal float32.
      const representable = Math.fround(initialVariance) >= 2 ** -126 && Number.isFinite(Math.fround(initialVariance));
      if (!representable) assert.equal(accepted, false, `${type} initialVariance ${initialVariance} was accepted`);
      if (exponent >= -30 && exponent <= 30) assert.equal(accepted, true, `${type} initialVariance ${initialVariance} was refused`);
    }
});
