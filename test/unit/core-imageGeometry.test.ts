/**
 * images.json shapes (docs/run-format.md, "images.json"): every layout and channel count is read
 * by the one geometry function, drawn with each value at its pixel, and checked the same way by the
 * run reader; shapes that cannot be drawn are refused with the reason, by the reader and the panel.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { IMAGE_CHANNELS, imageGeometry, MAX_IMAGE_PIXELS, type ImageGeometry, type ImageLayout } from '../../src/core/imageGeometry';
import { isToPanel, type PanelRun } from '../../src/core/panelProtocol';
import { toPanelRun } from '../../src/core/panelRun';
import { runImagesOf } from '../../src/core/run/files';
import { readRunContents } from '../../src/core/run/read';
import { RUN_FILES } from '../../src/core/runFormat';
import { toRgba, undrawableText } from '../../src/webview/images';
import { normalizeRun, validImages } from '../../src/webview/runs';

const SEED = Number(process.env.FUZZ_SEED ?? 20260311);
const CHANNEL_COUNT = new Set<number>(IMAGE_CHANNELS);

/** Sizes that often are channel counts themselves (1, 3, 4), so ambiguous shapes come up. */
const side = fc.oneof(fc.constantFrom(1, 2, 3, 4, 5), fc.integer({ min: 1, max: 40 }));
const channels = fc.constantFrom(...IMAGE_CHANNELS);
const anyLayout = fc.constantFrom<ImageLayout>('hwc', 'chw');

/** The shape a writer of images `height` x `width` x `c` in `order` puts in images.json. */
const shapeOf = (order: ImageLayout, height: number, width: number, c: number) => (order === 'chw' ? [c, height, width] : [height, width, c]);

/** Where channel k of the pixel at (y, x) is in the numbers of one image, worked out by hand. */
const indexOf = (order: ImageLayout, g: { height: number; width: number; channels: number }, y: number, x: number, k: number) =>
  order === 'chw' ? k * g.height * g.width + y * g.width + x : (y * g.width + x) * g.channels + k;

test('every layout and channel count is read as written; a shape without a layout is read by the documented rule', () => {
  let ambiguous = 0;
  fc.assert(
    fc.property(anyLayout, fc.boolean(), side, side, channels, (order, stated, height, width, c) => {
      const shape = shapeOf(order, height, width, c);
      const { geometry, problem } = imageGeometry(shape, stated ? order : undefined);
      const wanted = { width, height, channels: c, layout: order, values: height * width * c };
      if (stated) {
        assert.equal(problem, undefined);
        assert.deepEqual(geometry, wanted, 'a stated layout is always followed');
        return;
      }
      // No layout: channels first only when the first size alone is a channel count.
      const firstOnly = CHANNEL_COUNT.has(shape[0]!) && !CHANNEL_COUNT.has(shape[2]!);
      const read: ImageLayout = firstOnly ? 'chw' : 'hwc';
      if (read === order) assert.deepEqual(geometry, wanted, `${JSON.stringify(shape)} read as written`);
      else {
        // A channels-first shape whose width is also a channel count ([3, 8, 4]) is ambiguous and read channels last.
        ambiguous++;
        assert.equal(order, 'chw');
        assert.ok(CHANNEL_COUNT.has(width));
        assert.deepEqual(geometry, { width: height, height: c, channels: width, layout: 'hwc', values: height * width * c });
      }
    }),
    { seed: SEED, numRuns: 600 },
  );
  assert.ok(ambiguous > 0, 'ambiguous shapes were generated');
  // Two-dimensional shapes are grey whatever the layout says.
  for (const layout of [undefined, 'hwc', 'chw'] as const)
    assert.deepEqual(imageGeometry([28, 14], layout).geometry, { width: 14, height: 28, channels: 1, layout: layout ?? 'hwc', values: 392 });
  // The ambiguous shapes of the format's text: channels last unless stated.
  assert.equal(imageGeometry([3, 3, 3]).geometry?.layout, 'hwc');
  assert.equal(imageGeometry([3, 3, 3], 'chw').geometry?.layout, 'chw');
  assert.deepEqual(imageGeometry([3, 32, 32]).geometry, { width: 32, height: 32, channels: 3, layout: 'chw', values: 3072 });
  assert.deepEqual(imageGeometry([1, 28, 28]).geometry, { width: 28, height: 28, channels: 1, layout: 'chw', values: 784 });
  // [4, 4, 2] is not [h, w, 2] but a 4 x 2 RGBA image: the rule looks at the first and last sizes only.
  assert.deepEqual(imageGeometry([4, 4, 2]).geometry, { width: 2, height: 4, channels: 4, layout: 'chw', values: 32 });
  assert.match(imageGeometry([4, 4, 2], 'hwc').problem ?? '', /has 2 channels/);
  assert.deepEqual(imageGeometry([32, 32, 4]).geometry, { width: 32, height: 32, channels: 4, layout: 'hwc', values: 4096 });
});

test('a known pixel lands at its RGBA offset, channels first and last, grey, RGB and RGBA', () => {
  fc.assert(
    fc.property(anyLayout, side, side, channels, fc.nat(), fc.nat(), fc.nat(), (order, height, width, c, yy, xx, kk) => {
      const g = imageGeometry(shapeOf(order, height, width, c), order).geometry!;
      const [y, x, k] = [yy % height, xx % width, kk % c];
      const values = new Array<number>(g.values).fill(0);
      values[indexOf(order, g, y, x, k)] = 1;
      const rgba = toRgba(values, g);
      const expected = new Array<number>(width * height * 4).fill(0);
      for (let p = 0; p < width * height; p++) expected[p * 4 + 3] = c === 4 ? 0 : 255;
      const at = (y * width + x) * 4;
      if (c === 1) expected.splice(at, 3, 255, 255, 255);
      else expected[at + k] = 255;
      assert.deepEqual([...rgba], expected, `${order} ${height}x${width}x${c}, pixel (${y}, ${x}) channel ${k}`);
    }),
    { seed: SEED, numRuns: 400 },
  );
});

test('the same picture written channels first and channels last is drawn the same', () => {
  fc.assert(
    fc.property(side, side, channels, fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })), (height, width, c, stream) => {
      const hwc = [...stream.take(height * width * c)];
      const chw = new Array<number>(hwc.length);
      const g = { height, width, channels: c };
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) for (let k = 0; k < c; k++) chw[indexOf('chw', g, y, x, k)] = hwc[indexOf('hwc', g, y, x, k)]!;
      const drawn = (order: ImageLayout, values: number[]) => [...toRgba(values, imageGeometry(shapeOf(order, height, width, c), order).geometry!)];
      assert.deepEqual(drawn('chw', chw), drawn('hwc', hwc));
    }),
    { seed: SEED, numRuns: 200 },
  );
  // One 2 x 1 RGBA picture by hand: a red opaque pixel above a half-transparent blue one.
  const rgba = [255, 0, 0, 255, 0, 0, 255, 128];
  const chw: ImageGeometry = { width: 1, height: 2, channels: 4, layout: 'chw', values: 8 };
  assert.deepEqual([...toRgba([1, 0, 0, 0, 0, 1, 1, 0.5], chw)], rgba);
  assert.deepEqual([...toRgba([1, 0, 0, 1, 0, 0, 1, 0.5], { ...chw, layout: 'hwc' })], rgba);
});

const REFUSED: [unknown, unknown, RegExp][] = [
  [[784], undefined, /^shape \[784\] has 1 dimension; images are \[height, width\], \[height, width, channels\] or \[channels, height, width\]$/],
  [[1, 1, 28, 28], undefined, /^shape \[1, 1, 28, 28\] has 4 dimensions/],
  [[], undefined, /^shape \[\] has 0 dimensions/],
  [[5, 5, 2], undefined, /^shape \[5, 5, 2\] read as height x width x channels has 2 channels; only 1 \(grey\), 3 \(RGB\) or 4 \(RGBA\) can be drawn$/],
  [[2, 28, 28], undefined, /^shape \[2, 28, 28\] read as height x width x channels has 28 channels/],
  [[28, 28, 3], 'chw', /^shape \[28, 28, 3\] with layout "chw" \(channels x height x width\) has 28 channels/],
  [[3, 32, 32], 'hwc', /^shape \[3, 32, 32\] with layout "hwc" \(height x width x channels\) has 32 channels/],
  [[0, 5], undefined, /^shape \[0, 5\] has a size that is not a whole number above 0$/],
  [[2.5, 4], undefined, /not a whole number above 0/],
  [['28', 28], undefined, /^shape \["28", 28\] has a size that is not a whole number/],
  [[28, 28], 'nhwc', /^layout "nhwc" is neither "hwc" nor "chw"$/],
  [[28, 28, 1], 1, /^layout 1 is neither/],
  ['28x28', undefined, /^its shape is not a list of sizes$/],
  [[2049, 2048], undefined, /^shape \[2049, 2048\] is 2049 x 2048 pixels, more than the 2048 x 2048 \(4194304\) that are drawn$/],
  [[3, 4096, 4096], undefined, /is 4096 x 4096 pixels, more than/],
  [[1e300, 1e300, 3], undefined, /pixels, more than/],
];

test('shapes that cannot be drawn are refused with the reason, by the geometry, the run reader and the panel', () => {
  for (const [shape, layout, message] of REFUSED) {
    const { geometry, problem } = imageGeometry(shape, layout);
    assert.equal(geometry, undefined, JSON.stringify(shape));
    assert.match(problem, message);
    const file = { shape, ...(layout === undefined ? {} : { layout }), originals: [], reconstructions: [], samples: [] };
    assert.equal(runImagesOf(file).problem, problem, 'the reader says the same');
  }
  assert.equal(
    undrawableText(imageGeometry([5, 5, 2]).problem!),
    'These images cannot be drawn: shape [5, 5, 2] read as height x width x channels has 2 channels; only 1 (grey), 3 (RGB) or 4 (RGBA) can be drawn.',
  );
  // The limit is on pixels, not numbers: a 2048 x 2048 colour image is drawn.
  assert.equal(imageGeometry([2048, 2048, 3]).geometry?.values, 3 * MAX_IMAGE_PIXELS);
  assert.equal(imageGeometry([4, 2048, 2048]).geometry?.channels, 4);
});

test('the reader keeps images of every layout, refuses wrong sizes by name, and passes on only the fields the panel takes', () => {
  fc.assert(
    fc.property(anyLayout, fc.boolean(), side, side, channels, (order, stated, height, width, c) => {
      const shape = shapeOf(order, height, width, c);
      const layout = stated ? order : undefined;
      const g = imageGeometry(shape, layout).geometry!;
      const image = new Array<number>(g.values).fill(0.5);
      const file = { shape, ...(layout ? { layout } : {}), originals: [image], reconstructions: [image, image], samples: [], epoch: 3 };
      const { images, problem } = runImagesOf(file);
      assert.equal(problem, undefined);
      assert.deepEqual(images, { shape, ...(layout ? { layout } : {}), originals: [image], reconstructions: [image, image], samples: [] });
      assert.deepEqual(validImages(images), images, 'the panel keeps the layout');
      const short = runImagesOf({ ...file, samples: [image.slice(1)] });
      assert.equal(short.problem, `samples[0] is not the ${g.values} numbers of one image (shape [${shape.join(', ')}])`);
    }),
    { seed: SEED, numRuns: 300 },
  );
  const img = [0, 1, 0, 1];
  // A null is a value that was not finite (the format's rule, and Python's NaN): drawn as 0.
  assert.deepEqual(runImagesOf({ shape: [2, 2], originals: [[0, 1, null, 1]], reconstructions: [img], samples: [] }).images, {
    shape: [2, 2],
    originals: [[0, 1, 0, 1]],
    reconstructions: [img],
    samples: [],
  });
  assert.match(
    runImagesOf({ shape: [2, 2], originals: [[0, 1, '0.5', 1]], reconstructions: [], samples: [] }).problem ?? '',
    /^originals\[0\] has a value that is not a number/,
  );
  assert.match(imageGeometry([1, 20000]).problem ?? '', /a side longer than the 16384 a canvas is drawn with/);
  assert.ok(imageGeometry([2, 16384]).geometry);
  assert.match(runImagesOf({ shape: [2, 2], originals: img, reconstructions: [], samples: [] }).problem ?? '', /^originals\[0\] is not the 4 numbers/);
  assert.equal(runImagesOf({ shape: [2, 2], originals: [], reconstructions: {}, samples: [] }).problem, '"reconstructions" is not a list of images');
  assert.match(
    runImagesOf({ shape: [2, 2], originals: Array(65).fill(img), reconstructions: [], samples: [] }).problem ?? '',
    /holds 65 images, more than the 64 shown/,
  );
  assert.equal(runImagesOf([1, 2]).problem, 'it is not a JSON object');
});

function runWithImages(images: unknown): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'vae-lens-images-')), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, RUN_FILES.meta), JSON.stringify({ formatVersion: 1, name: 'other', specPath: '/w/train.py', startedAt: '2026-01-01T00:00:00Z' }));
  writeFileSync(join(dir, RUN_FILES.images), JSON.stringify(images));
  return dir;
}

test('a run from another trainer: channels-first colour images are shown, with fields of its own left behind', async () => {
  const image = Array.from({ length: 3 * 4 * 5 }, (_, i) => i / 59);
  const contents = await readRunContents(runWithImages({ shape: [3, 4, 5], originals: [image], reconstructions: [image], samples: [], epoch: 7 }));
  assert.deepEqual(contents.problems, []);
  assert.deepEqual(contents.images, { shape: [3, 4, 5], originals: [image], reconstructions: [image], samples: [] });
  // The panel's messages are closed: a field the format does not name would have them refused whole.
  assert.ok(isToPanel({ type: 'show', runs: [toPanelRun(contents, false)] }));
  assert.ok(isToPanel({ type: 'images', runDir: contents.runDir, images: { ...contents.images!, layout: 'chw' } }));

  // One that cannot be drawn: the reason is in the notes, and the panel is told it to show in place of the images.
  const refused = await readRunContents(runWithImages({ shape: [5, 5, 2], originals: [], reconstructions: [], samples: [] }));
  const why = 'shape [5, 5, 2] read as height x width x channels has 2 channels; only 1 (grey), 3 (RGB) or 4 (RGBA) can be drawn';
  assert.equal(refused.images, undefined);
  assert.deepEqual(
    refused.problems.map((p) => p.message),
    [`images.json was not shown: ${why}`],
  );
  const panel = toPanelRun(refused, false);
  assert.equal(panel.imagesProblem, why);
  assert.ok(isToPanel({ type: 'show', runs: [panel] }));
  assert.equal(normalizeRun(JSON.parse(JSON.stringify(panel)) as PanelRun).run.imagesProblem, why);
});
