/**
 * `eval`'s per-latent table sets each latent's encoder entropy H_enc,h beside its own prior's
 * entropy ½ log(2πe a²_h): with a learned prior (VAE-2) the a²_h differ, and one mean value for
 * all would make a latent near its prior look informative, or the reverse.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { perLatentTable } from '../../src/cli/format';
import { LOG_2PIE } from '../../src/core/constants';
import { Rng } from '../../src/core/random';

const priorEntropy = (a2: number) => 0.5 * (LOG_2PIE + Math.log(a2));

test("eval's per-latent table names each latent's own prior entropy, for generated prior variances", () => {
  const rng = new Rng(7);
  const rand = () => rng.uniform();
  for (let c = 0; c < 200; c++) {
    const H = 1 + Math.floor(rand() * 6);
    const same = c % 4 === 0;
    const a2 = Array.from({ length: H }, () => (same ? 1 : Math.exp(4 * rand() - 2)));
    const m = a2.map((v) => v * (0.5 + rand()));
    const kl = a2.map(() => rand());
    const hEnc = a2.map((v) => priorEntropy(v) - rand());
    const ev = { activeUnits: H, latentMeanVariance: a2.map(() => 1), hEncPerLatent: hEnc, mutualInformation: 1, miPoints: 512 };
    const text = perLatentTable(m, kl, [], ev, a2.map(priorEntropy));
    const [header, ...rows] = text.split('\n');
    const what = `a² ${JSON.stringify(a2)}:\n${text}`;
    assert.equal(rows.length, H, what);
    // One prior for all (a unit prior, or a single latent): named once, in the heading.
    if (new Set(a2).size === 1) {
      assert.match(header!, new RegExp(`prior ${priorEntropy(a2[0]!).toFixed(3)}\\)`), what);
      continue;
    }
    // Each row ends with that latent's prior entropy, to the table's 4 decimals.
    rows.forEach((row, h) => {
      const cells = row.trim().split(/\s+/);
      assert.equal(cells.at(-1), priorEntropy(a2[h]!).toFixed(4), `z${h}: ${what}`);
    });
  }
});
