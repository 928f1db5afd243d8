// metrics.jsonl lines as other writers make them: Python's bare NaN, optional fields this version
// cannot use, a pass whose place in the run is not a number. Each is read as far as it can be, and
// what was left out is said with the file, line and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMetricsJsonl, toJsonLine, type MetricsRecord } from '../../src/core/runFormat';

const rec = (epoch: number, over: Record<string, unknown> = {}): MetricsRecord =>
  ({
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
  }) as MetricsRecord;

const history = (n: number, over: (epoch: number) => Record<string, unknown> = () => ({})) => Array.from({ length: n }, (_, i) => rec(i + 1, over(i + 1)));
const text = (records: readonly object[]) => records.map(toJsonLine).join('');

test('a null epoch or step is a bad line, not a restart that drops the passes before it', () => {
  for (const field of ['epoch', 'step'] as const) {
    const parsed = parseMetricsJsonl(text(history(10, (e) => (e === 6 ? { [field]: null } : {}))));
    assert.deepEqual(
      parsed.records.map((r) => r.epoch),
      [1, 2, 3, 4, 5, 7, 8, 9, 10],
      field,
    );
    assert.deepEqual(parsed.bad, [{ line: 6, message: `${field}: expected a number` }]);
  }
});
