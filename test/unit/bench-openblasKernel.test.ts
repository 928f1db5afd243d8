/**
 * bench/openblas_kernel.py's choice, with the per-kernel probes replaced by given measurements:
 * a fast kernel with wrong results is never kept, a kernel that dies is reported, the fastest
 * correct kernel is the anchor however small its lead, and the candidates follow the CPU flags.
 * (The real probes need minutes of a quiet machine; `npm run bench` runs them and prints the choice.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const bench = path.join(__dirname, '..', '..', '..', 'bench');

interface Tried {
  coretype: string | null;
  correct: boolean;
  gflops?: number;
  error?: string;
}
interface Choice {
  coretype: string | null;
  why: string;
  tried: Tried[];
}

type Probe = { architecture: string; gflops: number; maxRelativeError: number } | { error: string };

/** Runs choose() with `flags` as the CPU's flags and each kernel's probe answering from `probes`. */
function choose(flags: string[], probes: Record<string, Probe>): Choice {
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(bench)})
import openblas_kernel as k
probes = json.loads(sys.argv[1])
k.cpu_flags = lambda: set(json.loads(sys.argv[2]))
k._run_probe = lambda coretype, python: dict(probes[coretype or "detected"])
print(json.dumps(k.choose()))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(probes), JSON.stringify(flags)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Choice;
}

const ok = (architecture: string, gflops: number): Probe => ({ architecture, gflops, maxRelativeError: 3e-7 });

test('the fastest correct kernel is kept, and the reason names it and the detected one', () => {
  const c = choose(['avx2', 'avx512f'], { detected: ok('Prescott', 60), SkylakeX: ok('SkylakeX', 190), Haswell: ok('Haswell', 110) });
  assert.equal(c.coretype, 'SkylakeX');
  assert.match(c.why, /OPENBLAS_CORETYPE=SkylakeX \(the CPU has avx512f\): 190 GFLOP\/s against Prescott 60/);
  assert.deepEqual(
    c.tried.map((t) => t.coretype),
    [null, 'SkylakeX', 'Haswell'],
  );
});

test('a faster kernel with wrong results is rejected', () => {
  const c = choose(['avx2', 'avx512f'], {
    detected: ok('Cooperlake', 150),
    SkylakeX: { architecture: 'SkylakeX', gflops: 400, maxRelativeError: 0.3 },
    Haswell: ok('Haswell', 100),
  });
  assert.equal(c.coretype, null);
  const sk = c.tried.find((t) => t.coretype === 'SkylakeX')!;
  assert.equal(sk.correct, false);
  assert.match(sk.error!, /wrong results/);
});

test('a kernel that dies (illegal instruction) is reported, not chosen', () => {
  const c = choose(['avx2', 'avx512f'], { detected: ok('Haswell', 101), SkylakeX: { error: 'signal 4' }, Haswell: ok('Haswell', 100) });
  assert.equal(c.coretype, null);
  assert.equal(c.tried[1]!.error, 'signal 4');
  assert.match(c.why, /the detected kernel \(Haswell, 101 GFLOP\/s\) is the fastest correct one/);
});

test('the anchor is PyTorch at its best: a kernel faster than the detected one is kept however small its lead', () => {
  // The conv benchmark's anchor once ran on Cooperlake at 102 GFLOP/s beside Haswell at 107.
  for (const lead of [1.001, 1.01, 1.049, 1.2]) {
    const c = choose(['avx2'], { detected: ok('Cooperlake', 102), Haswell: ok('Haswell', 102 * lead) });
    assert.equal(c.coretype, 'Haswell', `Haswell ${lead}x the detected kernel: ${c.why}`);
  }
  // A tie keeps what OpenBLAS detects by itself.
  assert.equal(choose(['avx2'], { detected: ok('Cooperlake', 102), Haswell: ok('Haswell', 102) }).coretype, null);
});

test('candidates follow the CPU flags: no avx512f, no SkylakeX', () => {
  const c = choose(['avx2'], { detected: ok('Zen', 90), Haswell: ok('Haswell', 95) });
  assert.deepEqual(
    c.tried.map((t) => t.coretype),
    [null, 'Haswell'],
  );
  assert.deepEqual(
    choose([], { detected: ok('Prescott', 20) }).tried.map((t) => t.coretype),
    [null],
  );
});
