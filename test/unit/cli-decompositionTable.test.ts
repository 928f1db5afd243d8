/**
 * The CLI's decomposition table: what moving the decoder variance to its optimum would gain is never
 * negative, though the ELBO's float32 terms can put the ELBO a rounding above the ELBO at s*^2.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decompositionTable } from '../../src/cli/format';

const pass = (elbo: number, elboAtOptVariance: number) => ({
  elbo,
  elboStdErr: 0.01,
  elboStdErrData: 0.1,
  logLik: elbo + 1,
  kl: 1,
  latentSecondMoment: [1],
  klPerLatent: [1],
  collapsedLatents: [],
  entropySum: elbo,
  hEnc: -1,
  hPrior: 2,
  hDec: 3,
  gap: 0,
  gapStdErr: 0.01,
  gapRel: 0,
  rDec: 0,
  rPrior: 0,
  sigma2: 0.1,
  sigma2Opt: 0.1,
  elboAtOptVariance,
});

test('the cost of the decoder variance is what the ELBO at s*^2 adds, and 0 where rounding puts it below', () => {
  for (const [elbo, atOpt, cost] of [
    [-8.1777, -8.1, '0.0777'],
    [632.76, 632.76 - 3e-5, '0.0000'],
    [-5.79, -5.79 - 1e-9, '0.0000'],
  ] as const) {
    const row = decompositionTable(pass(elbo, atOpt))
      .split('\n')
      .find((l) => l.startsWith('ELBO at optimal sigma^2'));
    assert.match(row ?? '', new RegExp(`costs ${cost.replace('.', '\\.')} nats now$`), `${elbo} against ${atOpt}: ${row}`);
  }
});
