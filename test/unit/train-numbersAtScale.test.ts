/**
 * The diagnostics pass's numbers on problems bigger and stranger than the examples, against an
 * independent float64 computation of the same model's outputs (the formulas of DESIGN.md, written
 * out here): a linear encoder and decoder whose weights the test sets, so every network output can
 * be recomputed in float64 from the same float32 weights, data and noise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor } from '@tensorflow/tfjs-core';
import { parseSpec } from '../../src/core/spec';
import { LOG_2PI, LOG_2PIE } from '../../src/core/constants';
import { Rng } from '../../src/core/random';
import { chooseEngine, type Tf } from '../../src/train/backend';
import { diagnose } from '../../src/train/diagnostics';
import { Vae } from '../../src/train/model';

interface Case {
  type: 'VAE-0' | 'VAE-1' | 'VAE-2' | 'VAE-3';
  D: number;
  H: number;
  N: number;
  S: number;
  /** Data x = offset + spread * u, u uniform in [0, 1). */
  offset: number;
  spread: number;
  /** The decoder variance s^2 and the encoder's log t^2. */
  s2: number;
  logT2: number;
  /** A decoder log-variance set on the model after it is made (VAE-3: its bias), beyond what a spec's s^2 may be. */
  logS2?: number;
  /** VAE-2: a prior log-variance set on the model after it is made, for every latent. */
  logA2?: number;
  /** VAE-1 with one variance per data dimension. */
  perDimension?: boolean;
}

interface Reference {
  elbo: number;
  hEnc: number;
  hPrior: number;
  hDec: number;
  rDec: number;
  rPrior: number;
  sigma2Opt: number;
  sigma2: number;
}

/** The model: nu = x We + be, log t^2 = const, mu = z Wd + bd, weights drawn from `seed` and scaled to the data. */
function setUp(tf: Tf, c: Case, seed: number): { vae: Vae; values: Float32Array } {
  const spec = parseSpec(
    `{ "data": { "synthetic": "spiral3d" }, "model": { "type": "${c.type}", "latentDim": ${c.H},${c.perDimension ? ' "decoderVariance": "per-dimension",' : ''} "encoder": { "hidden": [] }, "decoder": { "hidden": [] }, "initialVariance": ${c.s2} } }`,
    't.vae.json',
  ).spec;
  const vae = new Vae(tf, spec.model, c.D, seed, c.s2);
  const rng = new Rng(seed);
  const values = Float32Array.from({ length: c.N * c.D }, () => c.offset + c.spread * rng.uniform());
  const p = vae.params;
  // The encoder reads the data's deviation from its centre; the decoder puts it back.
  const we = Float32Array.from({ length: c.D * c.H }, () => rng.normal() / (c.spread * Math.sqrt(c.D)));
  const be = new Float32Array(c.H);
  for (let h = 0; h < c.H; h++) {
    let s = 0;
    for (let d = 0; d < c.D; d++) s += we[d * c.H + h]! * (c.offset + c.spread / 2);
    be[h] = -s;
  }
  const wd = Float32Array.from({ length: c.H * c.D }, () => (rng.normal() * c.spread) / 4);
  const bd = Float32Array.from({ length: c.D }, () => c.offset + c.spread * (0.4 + 0.2 * rng.uniform()));
  tf.tidy(() => {
    p.encoderMean.w.assign(tf.tensor2d(we, [c.D, c.H]));
    p.encoderMean.b.assign(tf.tensor1d(be));
    p.encoderLogVar.w.assign(tf.zeros([c.D, c.H]));
    p.encoderLogVar.b.assign(tf.fill([c.H], c.logT2));
    const out = p.decoderLayers[vae.plan.output]!;
    out.w!.assign(tf.tensor2d(wd, [c.H, c.D]));
    out.b!.assign(tf.tensor1d(bd));
    if (p.decoderLogVar) {
      p.decoderLogVar.w!.assign(tf.randomNormal([c.H, c.D], 0, 0.3, 'float32', 17));
      p.decoderLogVar.b!.assign(tf.fill([c.D], c.logS2 ?? Math.log(c.s2)));
    }
    // Spread over the dimensions, so a per-dimension variance is not one value.
    if (p.logS2 && c.logS2 !== undefined) p.logS2.assign(tf.tensor1d(Float32Array.from({ length: p.logS2.size }, (_, d) => c.logS2! + (d % 3) - 1)));
    if (p.logA2) p.logA2.assign(tf.tensor1d(Float32Array.from({ length: c.H }, (_, h) => (c.logA2 ?? 0) + 0.3 * Math.sin(h))));
  });
  return { vae, values };
}

/** v / e^logS2 for v >= 0, through logs: finite wherever float64 can hold the ratio, 0 for v = 0. */
const overVariance = (v: number, logS2: number) => (v === 0 ? 0 : Math.exp(Math.log(v) - logS2));

/** The values of the tensors `fn` makes, in float64; everything else it made is freed. */
function outputs(tf: Tf, fn: () => Tensor[]): Float64Array[] {
  const ts = tf.tidy(fn);
  const values = ts.map((t) => Float64Array.from(t.dataSync()));
  tf.dispose(ts);
  return values;
}

/**
 * DESIGN.md's quantities in float64 from the model's own float32 outputs (nu, log t^2, mu and a
 * VAE-3's log s^2(z)), with the pass's noise: only the arithmetic after the networks is compared.
 */
function reference(tf: Tf, vae: Vae, c: Case, values: Float32Array, seed: number): Reference {
  const { D, H, N, S } = c;
  const p = vae.params;
  const read = (t: { dataSync(): ArrayLike<number> }) => Float64Array.from(t.dataSync());
  const logA2 = p.logA2 ? read(p.logA2) : new Float64Array(H);
  const globalLogS2 = p.logS2 ? read(p.logS2) : undefined;
  // The pass's noise: one draw of [C*S, H] per chunk of floor(16384 / S) points, seed + chunk.
  const perChunk = Math.max(1, Math.floor(16384 / S));
  const block = Math.max(1, Math.floor(4096 / S));
  let logLik = 0;
  let kl = 0;
  let sumLogT2 = 0;
  let hDecSum = 0;
  let normSum = 0;
  let varianceSum = 0;
  const sqErr = new Float64Array(D);
  const moment = new Float64Array(H);
  for (let start = 0, chunk = 0; start < N; start += perChunk, chunk++) {
    const C = Math.min(perChunk, N - start);
    const epsT = tf.randomNormal([C * S, H], 0, 1, 'float32', seed + chunk);
    const eps = read(epsT);
    epsT.dispose();
    for (let i0 = 0; i0 < C; i0 += block) {
      const B = Math.min(block, C - i0);
      const first = start + i0;
      const x = values.subarray(first * D, (first + B) * D);
      const [nu, lt] = outputs(tf, () => {
        const e = vae.encode(tf.tensor2d(x, [B, D]));
        return [e.nu, e.logT2];
      });
      const z = new Float32Array(B * S * H);
      for (let i = 0; i < B; i++)
        for (let h = 0; h < H; h++) {
          const a = nu[i * H + h]!;
          const b = lt[i * H + h]!;
          kl += 0.5 * (logA2[h]! - b + (Math.exp(b) + a * a) / Math.exp(logA2[h]!) - 1);
          sumLogT2 += b;
          moment[h] = moment[h]! + a * a + Math.exp(b);
          for (let s = 0; s < S; s++) z[(i * S + s) * H + h] = a + Math.exp(0.5 * b) * eps[((i0 + i) * S + s) * H + h]!;
        }
      const [mu, logS2] = outputs(tf, () => {
        const d = vae.decode(tf.tensor2d(z, [B * S, H]));
        return [d.mu, d.logS2];
      });
      for (let k = 0; k < B * S; k++) {
        const n = Math.floor(k / S);
        let hDecK = 0;
        let normK = 0;
        for (let d = 0; d < D; d++) {
          const ls2 = globalLogS2 ? globalLogS2[globalLogS2.length === 1 ? 0 : d]! : logS2[k * D + d]!;
          const r = x[n * D + d]! - mu[k * D + d]!;
          sqErr[d] = sqErr[d]! + r * r;
          logLik += -0.5 * (LOG_2PI + ls2 + overVariance(r * r, ls2));
          hDecK += 0.5 * (LOG_2PIE + ls2);
          normK += overVariance(r * r, ls2);
          varianceSum += Math.exp(ls2);
        }
        hDecSum += hDecK;
        normSum += normK;
      }
    }
  }
  let hPrior = 0;
  let rPrior = 0;
  for (let h = 0; h < H; h++) {
    hPrior += 0.5 * (LOG_2PIE + logA2[h]!);
    rPrior += 0.5 * (1 - moment[h]! / N / Math.exp(logA2[h]!));
  }
  let opt = 0;
  for (let d = 0; d < D; d++) opt += sqErr[d]! / (N * S) / D;
  let hDec = hDecSum / (N * S);
  let rDec = 0.5 * D - (0.5 * normSum) / (N * S);
  if (globalLogS2) {
    const logS2 = (d: number) => globalLogS2[globalLogS2.length === 1 ? 0 : d]!;
    hDec = 0;
    rDec = 0;
    for (let d = 0; d < D; d++) {
      hDec += 0.5 * (LOG_2PIE + logS2(d));
      rDec += 0.5 * (1 - overVariance(sqErr[d]! / (N * S), logS2(d)));
    }
  }
  return {
    elbo: logLik / (N * S) - kl / N,
    hEnc: 0.5 * (H * LOG_2PIE + sumLogT2 / N),
    hPrior,
    hDec,
    rDec,
    rPrior,
    sigma2Opt: opt,
    sigma2: varianceSum / (N * S * D),
  };
}

const CASES: Case[] = [];
for (const [D, N, H] of [
  [3072, 40, 8],
  [12288, 12, 4],
] as const)
  for (const [offset, spread] of [
    [0, 1],
    [0, 255],
    [1e4, 1],
    [0, 1e-6],
  ] as const)
    CASES.push({ type: 'VAE-1', D, H, N, S: 3, offset, spread, s2: (spread * spread) / 50, logT2: -3 });
// Many points; extreme variances; each variant; 1 and 512 latents; one point; blocks that do not divide N.
CASES.push({ type: 'VAE-1', D: 16, H: 2, N: 60000, S: 1, offset: 0, spread: 1, s2: 0.02, logT2: -3 });
CASES.push({ type: 'VAE-3', D: 12288, H: 4, N: 40, S: 3, offset: 0, spread: 255, s2: 1300, logT2: -3 });
for (const type of ['VAE-0', 'VAE-2', 'VAE-3'] as const)
  for (const s2 of [1e-8, 1e4]) CASES.push({ type, D: 300, H: 5, N: 301, S: 7, offset: 0, spread: 1, s2, logT2: -3 });
for (const logT2 of [-120, -300]) CASES.push({ type: 'VAE-1', D: 50, H: 3, N: 100, S: 2, offset: 0, spread: 1, s2: 0.02, logT2 });
CASES.push({ type: 'VAE-1', D: 64, H: 512, N: 33, S: 3, offset: 0, spread: 1, s2: 0.5, logT2: -1 });
CASES.push({ type: 'VAE-1', D: 64, H: 1, N: 1, S: 1, offset: 0, spread: 1, s2: 0.5, logT2: -1 });
CASES.push({ type: 'VAE-2', D: 64, H: 3, N: 1, S: 5, offset: 0, spread: 1, s2: 0.5, logT2: -1 });

/** The trainer's diagnostics pass on case `c` and its float64 recomputation, handed to `check`; the model is released after. */
async function againstFloat64(c: Case, check: (r: ReturnType<typeof diagnose>, ref: ReturnType<typeof reference>) => void): Promise<void> {
  const { tf } = await chooseEngine('wasm');
  const seed = 5;
  const { vae, values } = setUp(tf, c, 3);
  try {
    check(diagnose(tf, vae, { values, n: c.N, samples: c.S, seed }), reference(tf, vae, c, values, seed));
  } finally {
    vae.dispose();
  }
}

for (const c of CASES) {
  test(`diagnostics match a float64 computation: ${c.type} D=${c.D} N=${c.N} H=${c.H} S=${c.S} data ${c.offset}+${c.spread}u s2=${c.s2} log t2=${c.logT2}`, async () => {
    await againstFloat64(c, (r, ref) => {
      const scale = Math.abs(ref.elbo) + Math.abs(ref.hEnc) + Math.abs(ref.hPrior) + Math.abs(ref.hDec);
      const gapRef = ref.elbo - (ref.hEnc - ref.hPrior - ref.hDec);
      const show = `ref ${JSON.stringify({ ...ref, gap: gapRef })}\n got ${JSON.stringify({ elbo: r.elbo, hEnc: r.hEnc, hPrior: r.hPrior, hDec: r.hDec, rDec: r.rDec, rPrior: r.rPrior, sigma2Opt: r.sigma2Opt, sigma2: r.sigma2, gap: r.gap })}`;
      for (const k of ['elbo', 'hEnc', 'hPrior', 'hDec', 'rDec', 'rPrior'] as const) assert.ok(Math.abs(r[k] - ref[k]) <= 1e-5 * scale, `${k}: ${show}`);
      assert.ok(Math.abs(r.gap - gapRef) <= 1e-5 * scale, `gap: ${show}`);
      assert.ok(Math.abs(r.sigma2Opt - ref.sigma2Opt) <= 1e-4 * ref.sigma2Opt, `sigma2Opt: ${show}`);
      assert.ok(Math.abs(r.sigma2 - ref.sigma2) <= 1e-5 * ref.sigma2, `sigma2: ${show}`);
    });
  });
}

/**
 * Decoder log-variances float32's exponentials cannot hold (|log s^2| beyond ~88) and float64's cannot either
 * (1e4, 1e30): every statistic equals the float64 computation, finite wherever float64 holds it and the same
 * infinity (written as null) where it does not.
 */
const EXTREME: Case[] = [];
for (const logS2 of [-1e30, -1e4, -100, -88, 88, 100, 1e4, 1e30])
  for (const [type, perDimension] of [
    ['VAE-1', false],
    ['VAE-1', true],
    ['VAE-3', false],
  ] as const)
    EXTREME.push({ type, perDimension, D: 20, H: 3, N: 50, S: 3, offset: 0, spread: 1, s2: 1, logT2: -3, logS2 });
// A learned prior variance far from the encoder's, either way: below e^-88 float32's KL overflows.
for (const logA2 of [-1e30, -1e4, -100, -88, 100, 1e4, 1e30])
  EXTREME.push({ type: 'VAE-2', D: 20, H: 3, N: 50, S: 3, offset: 0, spread: 1, s2: 1, logT2: -3, logA2 });

for (const c of EXTREME) {
  const at = c.logA2 === undefined ? `decoder log-variance ${c.logS2}` : `prior log-variance ${c.logA2}`;
  test(`diagnostics match a float64 computation at ${at}: ${c.type}${c.perDimension ? ' per-dimension' : ''}`, async () => {
    await againstFloat64(c, (r, ref) => {
      const want = { ...ref, gap: ref.elbo - (ref.hEnc - ref.hPrior - ref.hDec) };
      // float32 networks, float64 arithmetic after them: 1e-5 of the value, or of the entropies it is compared with.
      const entropies = Math.abs(ref.hEnc) + Math.abs(ref.hPrior) + Math.abs(ref.hDec);
      for (const k of ['elbo', 'hEnc', 'hPrior', 'hDec', 'rDec', 'rPrior', 'gap', 'sigma2Opt', 'sigma2'] as const) {
        const show = `${k}: got ${r[k]}, float64 ${want[k]}`;
        if (!Number.isFinite(want[k])) assert.equal(r[k], want[k], show);
        else assert.ok(Math.abs(r[k] - want[k]) <= 1e-5 * (Math.abs(want[k]) + entropies), show);
      }
    });
  });
}
