/**
 * bench/torch_vae.py's thread settings reach PyTorch: the "every core" anchor asks for
 * torch.set_num_threads(N) with one-thread BLAS calls, and limiting BLAS must not also pin
 * PyTorch's own (OpenMP) threads to one, or the anchor runs on one core while reported on N.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const script = path.join(__dirname, '..', '..', '..', 'bench', 'torch_vae.py');

interface Library {
  internal_api: string;
  num_threads: number;
}
interface TorchResult {
  threads: number;
  blasThreads: number;
  blas: Library[];
}

/** A few steps of the small manifold VAE, on OpenBLAS's own kernel (no kernel probes). */
function run(threads: number, blasThreads: number): TorchResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'vae-lens-torch-threads-'));
  try {
    const n = 256;
    const data = Float32Array.from({ length: n * 2 }, (_, i) => Math.sin(i));
    writeFileSync(path.join(dir, 'data.f32'), Buffer.from(data.buffer));
    const argv = [script, '--workload', 'manifold', '--data', path.join(dir, 'data.f32'), '--n', String(n), '--dim', '2'];
    argv.push('--steps', '6', '--warmup', '2', '--blas-kernel', 'detected');
    argv.push('--threads', String(threads), '--blas-threads', String(blasThreads));
    const r = spawnSync('/usr/bin/python3', argv, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    assert.ok(line, r.stdout);
    return JSON.parse(line.slice('BENCH_RESULT '.length)) as TorchResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [threads, blasThreads] of [
  [2, 1],
  [1, 2],
  [1, 1],
  [3, 1],
]) {
  test(`--threads ${threads} --blas-threads ${blasThreads}: PyTorch and OpenBLAS run on what was asked`, () => {
    const r = run(threads, blasThreads);
    assert.equal(r.threads, threads, 'PyTorch threads while the steps ran');
    assert.equal(r.blasThreads, blasThreads);
    for (const lib of r.blas) {
      const expected = lib.internal_api === 'openblas' ? blasThreads : threads;
      assert.equal(lib.num_threads, expected, `${lib.internal_api} threads while the steps ran`);
    }
  });
}
