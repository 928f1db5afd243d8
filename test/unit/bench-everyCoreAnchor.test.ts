/**
 * The "every core" table of BENCHMARKS.md (bench/threadsReport.mjs) compares the trainer on every
 * core with PyTorch at its best on those cores: where PyTorch's every-core runs are slower than its
 * one-thread run, the one-thread run is the anchor, for the MLP and the conv VAE alike.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const report = pathToFileURL(path.join(__dirname, '..', '..', '..', 'bench', 'threadsReport.mjs')).href;

interface Run {
  batch: number;
  threads: number;
  blasThreads: number;
  step: { medianMs: number };
  stepCpu: { medianMs: number };
}
const run = (medianMs: number, threads: number, blasThreads = 1): Run => ({
  batch: 128,
  threads,
  blasThreads,
  step: { medianMs },
  stepCpu: { medianMs },
});

/** Renders the every-core section (in an ES module child: the report is one) for the given runs. */
function render(torch1: Run, torchAll: Run, wasm1: Run, wasmAll: Run, conv: Run[]): string {
  const res = {
    loadAverage: { before: [1, 1, 1], after: [1, 1, 1] },
    sgemm: { gflops: 100 },
    fmnist: { pytorch: torch1, wasm: wasm1 },
    conv: { pytorch: conv[0], wasm: conv[2] },
    allCores: { cores: 2, pytorch: torchAll, wasm: wasmAll, conv: { pytorch: conv[1], wasm: conv[3] } },
  };
  const code = `import(${JSON.stringify(report)}).then((m) => process.stdout.write(m.renderAllCores(JSON.parse(process.argv[1]))))`;
  const r = spawnSync(process.execPath, ['-e', code, JSON.stringify(res)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The "x PyTorch, same threads" column of the row starting with `label`, in the table after `heading`. */
function ratio(text: string, heading: string, label: string): number {
  const table = text.slice(text.indexOf(heading));
  const row = table.split('\n').find((l) => l.startsWith(`| ${label} | 2 |`));
  assert.ok(row, `no row "${label}" after "${heading}" in:\n${text}`);
  return Number(row.split('|')[5]);
}

test('the trainer on every core is compared with the faster of PyTorch on every core and on one thread', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647) * 0.8 + 0.6;
  for (let i = 0; i < 40; i++) {
    const torch1 = run(9 * rand(), 1);
    const torchAll = run(9 * rand(), i % 2 ? 2 : 1, i % 2 ? 1 : 2);
    const wasmAll = run(8 * rand(), 2);
    const conv = [run(48 * rand(), 1), run(48 * rand(), 2), run(80 * rand(), 1), run(55 * rand(), 2)];
    const text = render(torch1, torchAll, run(13, 1), wasmAll, conv);
    const mlpAnchor = Math.min(torch1.step.medianMs, torchAll.step.medianMs);
    assert.equal(ratio(text, '### Every core', 'VAE Lens (wasm), kernel threads'), Number((mlpAnchor / wasmAll.step.medianMs).toFixed(3)));
    const convAnchor = Math.min(conv[0]!.step.medianMs, conv[1]!.step.medianMs);
    assert.equal(ratio(text, 'The convolutional VAE', 'VAE Lens (wasm), kernel threads'), Number((convAnchor / conv[3]!.step.medianMs).toFixed(3)));
    const target = text.match(/samples\/s >= 0\.5 x PyTorch's, 2 threads each \| ([0-9.]+) x/);
    assert.ok(target, text);
    assert.equal(Number(target[1]), Number((mlpAnchor / wasmAll.step.medianMs).toFixed(3)));
  }
});
