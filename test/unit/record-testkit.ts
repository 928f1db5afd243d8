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
