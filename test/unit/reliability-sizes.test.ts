/**
 * Sizes from a spec, a file header or a run folder that ask for more memory than VAE Lens will
 * allocate: refused at once (no generation, no reading first) with a located message that says
 * the size and the limit. Generated over the whole range the schema admits: synthetic n x dim,
 * pPCA covariances, uint8 NPY and IDX files that quadruple as float32 (sparse files: nothing is
 * written to disk), models whose checkpoint cannot be one JSON string, and image shapes.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { isUserError, type UserError } from '../../src/core/errors';
import { runImagesOf } from '../../src/core/run/files';

/** Whether the panel would show this images.json. */
const shown = (v: unknown) => runImagesOf(v).images !== undefined;
import { parseSpec } from '../../src/core/spec';
import { loadData } from '../../src/data/load';
import { checkModelFits, MAX_CHECKPOINT_PARAMETERS, MAX_MODEL_BYTES, parameterCount } from '../../src/train/modelSize';
import { reportFigure } from './reliability-figures';
import { tempDir } from './reliability-processes';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
/** A refusal that takes longer than this did work first. */
const PROMPT_MS = 250;
const tmp = tempDir('vae-lens-sizes-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** float32 elements past the 2 GiB limit. */
const OVER = 2 ** 29;

interface Tally {
  cases: number;
  refused: number;
  slowest: number;
}

async function expectRefusal(tally: Tally, run: () => unknown, check: (e: UserError) => void): Promise<void> {
  tally.cases++;
  const t0 = performance.now();
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  tally.slowest = Math.max(tally.slowest, ms);
  assert.ok(isUserError(error), `not refused as the user's input: ${String(error)}`);
  check(error);
  assert.ok(ms < PROMPT_MS, `refused only after ${ms.toFixed(0)} ms`);
  tally.refused++;
}

function specText(data: Record<string, unknown>): string {
  return JSON.stringify({ data, model: { latentDim: 2 }, training: { epochs: 1 } });
}

function figure(name: string, t: Tally): void {
  reportFigure({
    group: 'sizes',
    kind: 'parser',
    name,
    inputs: t.cases,
    accepted: t.cases - t.refused,
    userErrors: t.refused,
    crashes: 0,
    slowest: Math.round(t.slowest * 10) / 10,
    seed: SEED,
  });
}

test('synthetic sets and pPCA covariances over the limit are refused at their field, before a point is drawn', async () => {
  const t: Tally = { cases: 0, refused: 0, slowest: 0 };
  const big = fc.integer({ min: 5400, max: 10_000_000 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: Math.ceil(OVER / n) + 1, max: 100_000 })));
  for (const [n, dim] of fc.sample(big, { seed: SEED, numRuns: 60 })) {
    const { spec } = parseSpec(specText({ synthetic: 'manifold', n, dim, intrinsicDim: 1 }), 's.vae.json');
    await expectRefusal(
      t,
      () => loadData(spec.data, 's.vae.json'),
      (e) => {
        assert.equal(e.location.field, 'data.n');
        assert.match(e.message, new RegExp(`the synthetic set \\(${n} x ${dim} float32\\) would need [\\d.]+ (GiB|TiB) of memory, more than the 2\\.00 GiB`));
      },
    );
  }
  for (const dim of fc.sample(fc.integer({ min: 16_385, max: 100_000 }), { seed: SEED, numRuns: 30 })) {
    const { spec } = parseSpec(specText({ synthetic: 'ppca', n: 10, dim, intrinsicDim: 2 }), 'p.vae.json');
    await expectRefusal(
      t,
      () => loadData(spec.data, 'p.vae.json'),
      (e) => {
        assert.equal(e.location.field, 'data.dim');
        assert.match(e.message, new RegExp(`the pPCA covariance \\(${dim} x ${dim} float64\\) would need`));
      },
    );
  }
  figure('sizes: synthetic n x dim, pPCA dim x dim', t);
});

function npyHeader(shape: number[]): Buffer {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  return Buffer.concat([Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]), Buffer.from(header, 'latin1')]);
}

function idxHeader(shape: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head.writeUInt8(0x08, 2);
  head.writeUInt8(shape.length, 3);
  shape.forEach((n, i) => head.writeUInt32BE(n, 4 + 4 * i));
  return head;
}

/** A header followed by `bytes` of (unwritten, sparse) data. */
function sparseFile(name: string, header: Buffer, bytes: number): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, header);
  fs.truncateSync(file, header.length + bytes);
  return file;
}

test('uint8 NPY and IDX files under the file limit but over it as float32 are refused from their header', async () => {
  const t: Tally = { cases: 0, refused: 0, slowest: 0 };
  // rows x (h x w) uint8: under 2 GiB on disk, over 2 GiB as float32.
  const shapes = fc.tuple(fc.integer({ min: 8, max: 64 }), fc.integer({ min: 8, max: 64 })).chain(([h, w]) => {
    const per = h * w;
    return fc.tuple(fc.integer({ min: Math.ceil((OVER + 1) / per), max: Math.floor((2 ** 31 - 4096) / per) }), fc.constant(h), fc.constant(w));
  });
  for (const [i, [n, h, w]] of fc.sample(shapes, { seed: SEED, numRuns: 20 }).entries()) {
    const npy = sparseFile(`u8-${i}.npy`, npyHeader([n, h, w]), n * h * w);
    const idx = sparseFile(`u8-${i}-idx3-ubyte`, idxHeader([n, h, w]), n * h * w);
    for (const file of [npy, idx]) {
      const specPath = path.join(tmp, `f${i}.vae.json`);
      const { spec } = parseSpec(specText({ path: path.basename(file) }), specPath);
      await expectRefusal(
        t,
        () => loadData(spec.data, specPath),
        (e) => {
          assert.equal(e.location.file, file);
          assert.match(
            e.message,
            new RegExp(`the data as float32 \\(${n} rows x ${h * w} values\\) would need [\\d.]+ GiB of memory, more than the 2\\.00 GiB .*data\\.limit`),
          );
        },
      );
      fs.rmSync(file);
    }
  }
  figure('sizes: uint8 NPY / IDX as float32 (sparse files)', t);
});

test('models whose checkpoint could not be one JSON string are refused at model, before training', async () => {
  const t: Tally = { cases: 0, refused: 0, slowest: 0 };
  const models = fc
    .tuple(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 64, max: 16_384 }), fc.integer({ min: 64, max: 16_384 }), fc.integer({ min: 2, max: 64 }))
    .map(([dim, a, b, latentDim]) => ({
      dim,
      model: parseSpec(JSON.stringify({ data: { synthetic: 'circle' }, model: { latentDim, encoder: { hidden: [a, b] }, decoder: { hidden: [b, a] } } })).spec
        .model,
    }))
    .filter(({ dim, model }) => {
      const count = parameterCount(model, dim);
      return count > MAX_CHECKPOINT_PARAMETERS && count * 16 <= MAX_MODEL_BYTES;
    });
  for (const { dim, model } of fc.sample(models, { seed: SEED, numRuns: 40 })) {
    await expectRefusal(
      t,
      () => checkModelFits(model, dim, 'm.vae.json'),
      (e) => {
        assert.equal(e.location.field, 'model');
        assert.match(e.message, /its checkpoint .* would be longer than the \d+ M characters JavaScript can hold, so it could never be saved/);
      },
    );
  }
  figure('sizes: models whose checkpoint cannot be written', t);
});

test('image grids whose shape claims more pixels than can be drawn are not images to show', () => {
  let cases = 0;
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 3 }), (shape) => {
      const pixels = shape.reduce((a, b) => a * b, 1);
      fc.pre(pixels > 2048 * 2048);
      cases++;
      const images = { shape, originals: [[0.5]], reconstructions: [[0.5]], samples: [[0.5]] };
      assert.equal(shown(images), false);
      // Refused from the shape alone, without touching pixels: the fastest of three calls (one can
      // meet a garbage collection on this shared machine) stays far below what drawing would take.
      const fastest = Math.min(
        ...[0, 1, 2].map(() => {
          const t0 = performance.now();
          shown(images);
          return performance.now() - t0;
        }),
      );
      assert.ok(fastest < 5, `${fastest} ms`);
    }),
    { seed: SEED, numRuns: 300 },
  );
  assert.equal(shown({ shape: [2, 2], originals: [[0, 1, 0, 1]], reconstructions: [], samples: [[1, 1, 1, 1]] }), true);
  assert.equal(shown({ shape: [2, 2], originals: [[0, 1, 0]], reconstructions: [], samples: [] }), false, 'an image shorter than its shape');
  reportFigure({ group: 'sizes', kind: 'check', name: 'images.json shapes over 2048 x 2048 pixels refused before drawing', cases, passed: cases });
});

test('a convolutional model too large for memory names the layer that makes it so, in readable sizes', () => {
  const conv = (encoder: unknown[]) =>
    parseSpec(
      JSON.stringify({
        data: { path: 'x.npy' },
        model: {
          latentDim: 4,
          encoder: { layers: encoder },
          decoder: {
            layers: [
              { type: 'dense', units: 1800 },
              { type: 'reshape', shape: [20, 30, 3] },
            ],
          },
        },
      }),
    ).spec.model;
  const cases: [unknown[], RegExp][] = [
    // Ten upsamplings by 64: about 1e19 values an example, far past anything float notation reads well.
    [
      [...Array.from({ length: 10 }, () => ({ type: 'upsample2d', size: 64 })), { type: 'flatten' }, { type: 'dense', units: 4 }],
      /the largest layer is model\.encoder\.layers\[9\] \(upsample2d, \d\.\d\de\+\d+ values an example\): \d\.\d\de\+\d+ GiB\.$/,
    ],
    [[{ type: 'conv2dTranspose', filters: 64, kernel: 3, stride: 64 }], /the largest layer is model\.encoder\.layers\[0\] \(conv2dTranspose, 1280×1920×64\)/],
    [
      [
        { type: 'conv2d', filters: 4096, kernel: 64 },
        { type: 'conv2d', filters: 4096, kernel: 64 },
      ],
      /the largest layer is model\.encoder\.layers\[1\] \(conv2d, 20×30×4096\)/,
    ],
  ];
  for (const [encoder, named] of cases) {
    assert.throws(
      () => checkModelFits(conv(encoder), 1800, 'm.vae.json', [20, 30, 3], 32),
      (e: Error) => {
        assert.match(e.message, named);
        // Every size in GiB is a plain number or in exponent notation with three figures.
        for (const [size] of e.message.matchAll(/\S+(?= GiB)/g)) assert.match(size, /^(\d+(\.\d)?|\d\.\d\de\+\d+)$/, e.message);
        return true;
      },
    );
  }
});
