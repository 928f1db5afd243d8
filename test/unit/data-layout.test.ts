import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { channelsLast, looksChannelsFirst, rowsToChannelsLast, sameImageShape, shapeLayoutWarning } from '../../src/core/imageLayout';
import { parseSpec, type FileDataSpec } from '../../src/core/spec';
import { loadData } from '../../src/data/load';
import { encode, expectUserErrorAsync, idxBytes, npyBytes, tempDir } from './data-testkit';

const fileSpec = (path: string, extra: Partial<FileDataSpec> = {}): FileDataSpec => ({ kind: 'file', path, validation: 0, scale: 'none', ...extra });

/** n images of c x h x w with a distinct value at every (image, channel, row, column). */
function images(n: number, c: number, h: number, w: number) {
  const value = (i: number, ch: number, y: number, x: number) => i * 1000 + ch * 100 + y * 10 + x;
  const chw: number[] = [];
  const hwc: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) chw.push(value(i, ch, y, x));
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) hwc.push(value(i, ch, y, x));
  }
  return { chw, hwc };
}

// Shapes where the width tells the layouts apart and where it cannot (w <= 4), one channel to four.
const SHAPES: [number, number, number][] = [
  [1, 3, 5],
  [3, 4, 6],
  [4, 2, 7],
  [2, 3, 3],
  [3, 4, 4],
  [3, 3, 3],
];

test('data.layout "channels-first": CSV, JSON, flat and 4-D NPY files of the same images all load as the same channels-last rows', async () => {
  const dir = tempDir();
  const specPath = join(dir, 'm.vae.json');
  const n = 3;
  for (const [c, h, w] of SHAPES) {
    const { chw, hwc } = images(n, c, h, w);
    const dim = c * h * w;
    const rowsOf = (values: number[]) => Array.from({ length: n }, (_, i) => values.slice(i * dim, (i + 1) * dim));
    writeFileSync(
      join(dir, 'a.csv'),
      rowsOf(chw)
        .map((r) => r.join(','))
        .join('\n') + '\n',
    );
    writeFileSync(join(dir, 'flat.npy'), npyBytes('<f4', [n, dim], encode('f4', chw)));
    writeFileSync(join(dir, 'nchw.npy'), npyBytes('<f4', [n, c, h, w], encode('f4', chw)));
    const nested = rowsOf(chw).map((r) =>
      Array.from({ length: c }, (_, ch) => Array.from({ length: h }, (_, y) => r.slice(ch * h * w + y * w, ch * h * w + (y + 1) * w))),
    );
    writeFileSync(join(dir, 'a.json'), JSON.stringify(nested));
    const cases: [string, Partial<FileDataSpec>][] = [
      ['a.csv', { shape: [c, h, w] }],
      ['flat.npy', { shape: [c, h, w] }],
      ['nchw.npy', {}],
      ['nchw.npy', { shape: [c, h, w] }],
      ['a.json', {}],
    ];
    for (const [file, extra] of cases) {
      const what = `${file} ${JSON.stringify(extra)} (${c}, ${h}, ${w})`;
      const { train } = await loadData(fileSpec(file, { layout: 'channels-first', ...extra }), specPath);
      assert.deepEqual(train.imageShape, [h, w, c], what);
      assert.deepEqual(Array.from(train.values), hwc, what);
    }
    // Stated channels last, the same bytes are taken as they stand.
    const { train } = await loadData(fileSpec('nchw.npy', { layout: 'channels-last' }), specPath);
    assert.deepEqual(train.imageShape, [c, h, w]);
    assert.deepEqual(Array.from(train.values), chw);
  }
});

test('data.layout: without it a 4-D NPY file is told by its shape; a width of at most 4 reads as channels last', async () => {
  const dir = tempDir();
  const specPath = join(dir, 'm.vae.json');
  for (const [c, h, w] of SHAPES) {
    const { chw, hwc } = images(2, c, h, w);
    writeFileSync(join(dir, 'nchw.npy'), npyBytes('<f4', [2, c, h, w], encode('f4', chw)));
    const { train } = await loadData(fileSpec('nchw.npy'), specPath);
    const first = looksChannelsFirst([c, h, w]);
    assert.equal(first, w > 4, `(${c}, ${h}, ${w})`);
    assert.deepEqual(train.imageShape, first ? [h, w, c] : [c, h, w]);
    assert.deepEqual(Array.from(train.values), first ? hwc : chw);
  }
});

test('data.layout: what cannot be read is named at the field', async () => {
  const dir = tempDir();
  const specPath = join(dir, 'm.vae.json');
  writeFileSync(join(dir, 'a.csv'), '1,2,3,4\n5,6,7,8\n');
  await expectUserErrorAsync(
    () => loadData(fileSpec('a.csv', { layout: 'channels-first' }), specPath),
    /data\.layout "channels-first" needs the images' shape.*data\.shape as \[channels, height, width\]/,
    {
      file: specPath,
      field: 'data.layout',
    },
  );
  // A file that knows its images: a stated shape must be the same images.
  writeFileSync(join(dir, 'img.idx'), idxBytes(0x08, [2, 2, 3], encode('u1', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])));
  for (const [shape, layout] of [
    [[3, 2], undefined],
    [[1, 6], undefined],
    [[3, 2, 1], 'channels-first'],
  ] as const) {
    await expectUserErrorAsync(
      () => loadData(fileSpec('img.idx', { shape: [...shape], ...(layout ? { layout } : {}) }), specPath),
      /data\.shape .* is one example of .* but .* holds images of 2×3 pixels with 1 channel; leave data\.shape out/,
      { file: specPath, field: 'data.shape' },
    );
  }
  for (const [shape, layout] of [
    [[2, 3], undefined],
    [[2, 3, 1], undefined],
    [[1, 2, 3], 'channels-first'],
  ] as const) {
    const { train } = await loadData(fileSpec('img.idx', { shape: [...shape], ...(layout ? { layout } : {}) }), specPath);
    assert.deepEqual(Array.from(train.values), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  }
});

test('data.shape that reads as channels last but looks channels first is warned of at the field, unless data.layout says which', () => {
  const spec = (data: object) => JSON.stringify({ data: { path: 'x.csv', ...data }, model: { type: 'VAE-1', latentDim: 2 } }, null, 2);
  const warned = parseSpec(spec({ shape: [3, 32, 32] }), 'm.vae.json').warnings;
  assert.equal(warned.length, 1);
  assert.match(warned[0]!.message, /data\.shape \[3, 32, 32\] reads as images 3 pixels high and 32 wide with 32 channels.*"layout": "channels-first"/);
  assert.equal(warned[0]!.location.field, 'data.shape');
  assert.ok(warned[0]!.location.line! > 1);
  for (const data of [
    { shape: [3, 32, 32], layout: 'channels-first' },
    { shape: [3, 32, 32], layout: 'channels-last' },
    { shape: [32, 32, 3] },
    { shape: [4, 4, 3] },
    {},
  ])
    assert.deepEqual(parseSpec(spec(data), 'm.vae.json').warnings, [], JSON.stringify(data));
  assert.equal(shapeLayoutWarning([1, 28, 28], undefined)?.includes('1 pixels high'), true);
  // The mirror case: channels first said of a shape written channels last.
  const mirrored = parseSpec(spec({ shape: [28, 28, 1], layout: 'channels-first' }), 'm.vae.json').warnings;
  assert.equal(mirrored.length, 1);
  assert.match(
    mirrored[0]!.message,
    /data\.shape \[28, 28, 1\] with "layout": "channels-first" reads as 28 channels of 28 x 1 pixels.*"layout": "channels-last"/,
  );
  for (const shape of [
    [3, 32, 32],
    [1, 28, 28],
    [3, 3, 3],
    [4, 4, 3],
  ])
    assert.equal(shapeLayoutWarning(shape, 'channels-first'), undefined, JSON.stringify(shape));
});

test('imageLayout: channelsLast, sameImageShape and rowsToChannelsLast agree with a direct permutation', () => {
  assert.deepEqual(channelsLast([3, 4, 5], 'channels-first'), [4, 5, 3]);
  assert.deepEqual(channelsLast([3, 4, 5], 'channels-last'), [3, 4, 5]);
  assert.deepEqual(channelsLast([4, 5], 'channels-first'), [4, 5]);
  assert.ok(sameImageShape([28, 28], [28, 28, 1]) && !sameImageShape([28, 28], [28, 28, 3]) && !sameImageShape([2, 3], [3, 2]));
  for (const [c, h, w] of [...SHAPES, [1, 1, 1] as [number, number, number], [5, 2, 1] as [number, number, number]]) {
    const { chw, hwc } = images(4, c, h, w);
    const values = Float32Array.from(chw);
    rowsToChannelsLast(values, 4, [c, h, w]);
    assert.deepEqual(Array.from(values), hwc, `(${c}, ${h}, ${w})`);
  }
});

test('data.layout: JSON images that look channels first, read without a layout, come with a note naming the field', async () => {
  const dir = tempDir();
  const specPath = join(dir, 'm.vae.json');
  const nested = (c: number, h: number, w: number) =>
    JSON.stringify([Array.from({ length: c }, () => Array.from({ length: h }, () => Array.from({ length: w }, () => 0.5)))]);
  writeFileSync(join(dir, 'chw.json'), nested(3, 4, 6));
  const read = await loadData(fileSpec('chw.json'), specPath);
  assert.deepEqual(read.train.imageShape, [3, 4, 6]);
  assert.match(read.notes?.join(' ') ?? '', /\[3, 4, 6\] are read as height, width, channels; .*data\.layout to "channels-first"/);
  assert.equal((await loadData(fileSpec('chw.json', { layout: 'channels-last' }), specPath)).notes, undefined);
  writeFileSync(join(dir, 'hwc.json'), nested(6, 4, 3));
  assert.equal((await loadData(fileSpec('hwc.json'), specPath)).notes, undefined);
});
