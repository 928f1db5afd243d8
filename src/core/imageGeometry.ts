/**
 * The one place that reads an `images.json` shape (docs/run-format.md, "images.json"): an image's
 * height, width, channels and the order of its numbers, or why it cannot be drawn. The run reader
 * checks a file with it and the panel draws with it, so what is read is what is drawn. No Node or
 * DOM API here: the webview imports it. (Training data have their own layout rule, imageLayout.ts.)
 */

/** Pixels of one displayed image (a 2048 x 2048 picture); the panel draws every one of them. */
export const MAX_IMAGE_PIXELS = 2048 * 2048;
/** The longest side of a canvas that browsers draw (Chromium's limit is 32767; a narrow strip may not be longer). */
export const MAX_IMAGE_SIDE = 16384;

/**
 * The order of one image's numbers: `hwc`, channels last (row-major pixels, a pixel's channels
 * together), or `chw`, channels first (one row-major plane per channel, as PyTorch holds images).
 */
export const IMAGE_LAYOUTS = ['hwc', 'chw'] as const;
export type ImageLayout = (typeof IMAGE_LAYOUTS)[number];

/** Channels that can be drawn: grey, RGB and RGBA. */
export const IMAGE_CHANNELS = [1, 3, 4] as const;
export type ImageChannels = (typeof IMAGE_CHANNELS)[number];

export interface ImageGeometry {
  width: number;
  height: number;
  channels: ImageChannels;
  layout: ImageLayout;
  /** Numbers per image: height x width x channels. */
  values: number;
}

export type ImageGeometryResult = { geometry: ImageGeometry; problem?: undefined } | { geometry?: undefined; problem: string };

export const isImageLayout = (v: unknown): v is ImageLayout => (IMAGE_LAYOUTS as readonly unknown[]).includes(v);
const isChannelCount = (n: number): n is ImageChannels => (IMAGE_CHANNELS as readonly number[]).includes(n);

/**
 * The layout of a three-dimensional shape written without one: channels first when only the first
 * size is a channel count ([3, 32, 32]), else channels last ([32, 32, 3], and the ambiguous
 * [3, 3, 3] or [3, 4, 4], as the format read them before it had a layout).
 */
export function inferredLayout(shape: readonly [number, number, number]): ImageLayout {
  return isChannelCount(shape[0]) && !isChannelCount(shape[2]) ? 'chw' : 'hwc';
}

const shapeText = (shape: readonly unknown[]) => `[${shape.map((n) => JSON.stringify(n) ?? String(n)).join(', ')}]`;

const READINGS: Record<ImageLayout, string> = {
  hwc: 'height x width x channels',
  chw: 'channels x height x width',
};

/**
 * How to draw one image of `shape` ([h, w], [h, w, c] or [c, h, w]) with the optional `layout`
 * of the file; the problem says why not, naming the shape.
 */
export function imageGeometry(shape: unknown, layout?: unknown): ImageGeometryResult {
  if (!Array.isArray(shape)) return { problem: 'its shape is not a list of sizes' };
  const text = shapeText(shape);
  if (shape.length !== 2 && shape.length !== 3)
    return {
      problem: `shape ${text} has ${shape.length} ${shape.length === 1 ? 'dimension' : 'dimensions'}; images are [height, width], [height, width, channels] or [channels, height, width]`,
    };
  if (!shape.every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0))
    return { problem: `shape ${text} has a size that is not a whole number above 0` };
  if (layout !== undefined && !isImageLayout(layout)) return { problem: `layout ${JSON.stringify(layout) ?? String(layout)} is neither "hwc" nor "chw"` };
  const sizes = shape as number[];
  const order = layout ?? (sizes.length === 3 ? inferredLayout(sizes as [number, number, number]) : 'hwc');
  const [height, width, channels] = (sizes.length === 2 ? [...sizes, 1] : order === 'chw' ? [sizes[1], sizes[2], sizes[0]] : sizes) as [number, number, number];
  if (!isChannelCount(channels)) {
    const read = layout === undefined ? `read as ${READINGS[order]}` : `with layout "${layout}" (${READINGS[order]})`;
    return { problem: `shape ${text} ${read} has ${channels} channels; only 1 (grey), 3 (RGB) or 4 (RGBA) can be drawn` };
  }
  if (height * width > MAX_IMAGE_PIXELS)
    return { problem: `shape ${text} is ${height} x ${width} pixels, more than the 2048 x 2048 (${MAX_IMAGE_PIXELS}) that are drawn` };
  if (Math.max(height, width) > MAX_IMAGE_SIDE)
    return { problem: `shape ${text} is ${height} x ${width} pixels, a side longer than the ${MAX_IMAGE_SIDE} a canvas is drawn with` };
  return { geometry: { width, height, channels, layout: order, values: height * width * channels } };
}
