import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputChannelFiles, parseActivationTimes, parseTrainingTimings, readOutputChannel } from './outputChannelLog';

const LOG = [
  '[9:48:44 PM] activated in 41.7 ms (workspace trusted)',
  '[9:49:05 PM] [swiss-roll.vae.json] engine: wasm (tfjs-node not installed; WebAssembly + SIMD engine)',
  '[9:49:25 PM] [swiss-roll.vae.json] timings: first chart point 1.84 s after Train VAE; extension-host event-loop delay during training p50 10.1 ms, p99 12.3 ms, max 20.0 ms',
  '[9:50:01 PM] [long one] timings: no diagnostics point; extension-host event-loop delay during training p50 10.0 ms, p99 11 ms, max 15.5 ms',
  '[9:51:00 PM] activated in 8 ms (workspace in Restricted Mode: training is off)',
].join('\n');

describe('output channel log lines', () => {
  it('reads every activation time', () => {
    assert.deepEqual(parseActivationTimes(LOG), [41.7, 8]);
  });

  it('reads the training timings, with or without a first point', () => {
    assert.deepEqual(parseTrainingTimings(LOG), [
      { spec: 'swiss-roll.vae.json', firstPointSeconds: 1.84, loopP50Ms: 10.1, loopP99Ms: 12.3, loopMaxMs: 20 },
      { spec: 'long one', firstPointSeconds: undefined, loopP50Ms: 10, loopP99Ms: 11, loopMaxMs: 15.5 },
    ]);
  });

  it('finds the channel files in a logs tree, and only that channel', () => {
    const logs = mkdtempSync(join(tmpdir(), 'vae-lens-logs-'));
    try {
      const dir = join(logs, '20261125T214752', 'exthost1', 'output_logging_20261125T214833');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '1-VAE Lens.log'), LOG);
      writeFileSync(join(dir, '2-Git.log'), 'activated in 99 ms');
      assert.equal(outputChannelFiles(logs, 'VAE Lens').length, 1);
      assert.deepEqual(parseActivationTimes(readOutputChannel(logs, 'VAE Lens')), [41.7, 8]);
      assert.deepEqual(outputChannelFiles(join(logs, 'missing'), 'VAE Lens'), []);
    } finally {
      rmSync(logs, { recursive: true, force: true });
    }
  });
});
