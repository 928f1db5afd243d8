/** Records as tests read them: the fields a test does arithmetic on, checked to be numbers first. */
import assert from 'node:assert/strict';
import type { MetricsRecord } from '../../src/core/runFormat';

const CORE = ['elbo', 'elboStdErr', 'hEnc', 'hPrior', 'hDec', 'entropySum', 'gap', 'gapRel', 'rDec', 'rPrior'] as const;

export type FiniteRecord = MetricsRecord & { [K in (typeof CORE)[number]]: number };

/** The record, its core fields asserted to be numbers (a null, the file's non-finite value, fails here and says where). */
export function finiteRecord(r: MetricsRecord): FiniteRecord {
  for (const k of CORE) assert.equal(typeof r[k], 'number', `epoch ${r.epoch}: ${k} is ${String(r[k])}`);
  return r as FiniteRecord;
}

/** A pass at a stationary point (gap near 0), as a run folder's metrics.jsonl holds it, with `over` on top. */
export const sampleRecord = (epoch: number, over: Partial<MetricsRecord> = {}): MetricsRecord => ({
  epoch,
  step: epoch * 10,
  elbo: -3,
  elboStdErr: 0.01,
  hEnc: -3,
  hPrior: 1.4,
  hDec: -1.9,
  entropySum: -2.5,
  gap: 0.001,
  gapRel: 0.0002,
  rDec: 0.0005,
  rPrior: 0.0005,
  sigma2: 0.1,
  sigma2Opt: 0.1,
  latentSecondMoment: [1, 1],
  klPerLatent: [1, 0.5],
  samplesPerSec: 1000,
  wallSeconds: epoch,
  ...over,
});
