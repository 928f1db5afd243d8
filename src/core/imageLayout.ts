/**
 * Where an image's channels go. Everything in VAE Lens keeps images channels last (height, width,
 * channels: tfjs's convolutions, the panel's pictures); PyTorch keeps them channels first, and so
 * do the rows it flattens and the arrays it saves. `data.layout` says which a file holds where its
 * shape cannot: rows given a shape by `data.shape`, and 4-D NPY files whose width is too small to
 * tell the layouts apart (looksChannelsFirst). The run format's `images.json`, which is drawn and
 * not trained on, has its own rule (imageGeometry.ts): any channel count can be trained on, while
 * only 1, 3 or 4 can be drawn, so each guess is made from what its reader can take.
 */
export const DATA_LAYOUTS = ['channels-last', 'channels-first'] as const;
export type DataLayout = (typeof DATA_LAYOUTS)[number];

/** Images have at most this many channels (grey, grey and alpha, RGB, RGBA). */
export const MAX_IMAGE_CHANNELS = 4;

/** A three-axis example shape that reads as (C, H, W) without being told: few channels before a wider image. */
export function looksChannelsFirst(shape: readonly number[]): boolean {
  return shape.length === 3 && shape[0]! <= MAX_IMAGE_CHANNELS && shape[2]! > MAX_IMAGE_CHANNELS;
}

/** One example's shape, channels last, from the shape as written in `layout`. */
export function channelsLast(shape: readonly number[], layout: DataLayout | undefined): number[] {
  return layout === 'channels-first' && shape.length === 3 ? [shape[1]!, shape[2]!, shape[0]!] : [...shape];
}

/** Reorders n rows of (C, H, W) values to (H, W, C), in place (one row of scratch). */
export function rowsToChannelsLast(values: Float32Array, n: number, [c, h, w]: readonly number[]): void {
  const plane = h! * w!;
  const dim = c! * plane;
  const row = new Float32Array(dim);
  for (let i = 0; i < n; i++) {
    const at = i * dim;
    row.set(values.subarray(at, at + dim));
    for (let ch = 0; ch < c!; ch++) for (let p = 0; p < plane; p++) values[at + p * c! + ch] = row[ch * plane + p]!;
  }
}

/** The same image shape, a single channel written or not ([28, 28] and [28, 28, 1]). */
export function sameImageShape(a: readonly number[], b: readonly number[]): boolean {
  const bare = (s: readonly number[]) => (s.length === 3 && s[2] === 1 ? s.slice(0, 2) : [...s]);
  const x = bare(a);
  const y = bare(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/**
 * A warning where `data.shape` reads as channels last but looks channels first and no `data.layout`
 * says which, or where `data.layout` says channels first of a shape that looks channels last.
 */
export function shapeLayoutWarning(shape: readonly number[] | undefined, layout: DataLayout | undefined): string | undefined {
  if (!shape || shape.length !== 3) return undefined;
  if (layout === 'channels-first')
    return looksChannelsFirst([shape[2]!, shape[0]!, shape[1]!]) && !looksChannelsFirst(shape)
      ? `data.shape [${shape.join(', ')}] with "layout": "channels-first" reads as ${shape[0]} channels of ${shape[1]} x ${shape[2]} pixels; a shape written as (height, width, channels) needs "layout": "channels-last", or no layout`
      : undefined;
  if (layout || !looksChannelsFirst(shape)) return undefined;
  const [h, w, c] = shape;
  return `data.shape [${shape.join(', ')}] reads as images ${h} pixels high and ${w} wide with ${c} channels (height, width, channels); if the rows hold their channels first (channels, height, width: as PyTorch flattens and saves images), add "layout": "channels-first"`;
}
