/** Originals, reconstructions and samples drawn to small canvases through ImageData (no image URLs). */
import { imageGeometry, type ImageGeometry } from '../core/imageGeometry';
import type { PanelRun } from '../core/panelProtocol';
import { h } from './dom';

type Images = NonNullable<PanelRun['images']>;

/** Images per row: enough to judge quality, few enough to stay small. */
const MAX_PER_ROW = 10;

/**
 * RGBA bytes for one image of values in [0, 1] laid out as `g` says: grey (1 channel), RGB (3) or
 * RGBA (4, its alpha kept, so a transparent pixel shows the panel behind it), channels last or
 * first. Non-finite values are drawn as 0.
 */
export function toRgba(values: readonly number[], g: ImageGeometry): Uint8ClampedArray<ArrayBuffer> {
  const pixels = g.width * g.height;
  const out = new Uint8ClampedArray(new ArrayBuffer(pixels * 4));
  const byte = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(Math.min(Math.max(v, 0), 1) * 255) : 0);
  // Channel c of pixel i is at i * pixelStep + c * channelStep.
  const [pixelStep, channelStep] = g.layout === 'chw' ? [1, pixels] : [g.channels, 1];
  for (let i = 0; i < pixels; i++) {
    const o = i * 4;
    const at = i * pixelStep;
    if (g.channels === 1) {
      const v = byte(values[at]);
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    } else {
      out[o] = byte(values[at]);
      out[o + 1] = byte(values[at + channelStep]);
      out[o + 2] = byte(values[at + 2 * channelStep]);
    }
    out[o + 3] = g.channels === 4 ? byte(values[at + 3 * channelStep]) : 255;
  }
  return out;
}

/** The three rows of images: what each holds, and how one of its images is named. */
const ROWS = {
  originals: { label: 'Originals', name: (i: number, n: number) => `Training example ${i} of ${n}` },
  reconstructions: { label: 'Reconstructions', name: (i: number) => `Reconstruction of training example ${i}` },
  samples: { label: 'Samples', name: (i: number, n: number) => `Sample ${i} of ${n} from the prior` },
} as const;
export type ImageRow = keyof typeof ROWS;

/** Whose images they are and at which pass ("a11y-long", "epoch 12"), for their names. */
export interface ImagesSource {
  runName: string;
  /** The pass the images were drawn from (the latest when they arrived), if any. */
  pass?: string;
}

/** A thumbnail's accessible name: what it shows, which of them, whose run, and from which pass. Pure. */
export function thumbnailName(row: ImageRow, index: number, count: number, source: ImagesSource): string {
  return [ROWS[row].name(index + 1, count), source.runName, source.pass].filter(Boolean).join(', ');
}

function thumb(values: readonly number[], g: ImageGeometry, name: string): HTMLCanvasElement {
  const canvas = h('canvas', { className: 'vl-thumb', attrs: { role: 'img', 'aria-label': name } });
  canvas.width = g.width;
  canvas.height = g.height;
  const ctx = canvas.getContext('2d');
  if (ctx) ctx.putImageData(new ImageData(toRgba(values, g), g.width, g.height), 0, 0);
  return canvas;
}

function strip(row: ImageRow, images: readonly number[][], g: ImageGeometry, source: ImagesSource): HTMLElement | null {
  if (images.length === 0) return null;
  const shown = images.slice(0, MAX_PER_ROW);
  return h(
    'div',
    { className: 'vl-image-row', attrs: { role: 'group', 'aria-label': ROWS[row].label } },
    h('span', { className: 'vl-image-label', text: ROWS[row].label, attrs: { 'aria-hidden': 'true' } }),
    h('div', { className: 'vl-image-strip' }, ...shown.map((img, i) => thumb(img, g, thumbnailName(row, i, shown.length, source)))),
  );
}

/** What the panel says instead of images it cannot draw. */
export const undrawableText = (problem: string): string => `These images cannot be drawn: ${problem}.`;

/** The image block of one run, or null when it has none (a note instead when they cannot be drawn, or the run reader said why it left them out). */
export function renderImages(images: Images | undefined, source: ImagesSource, readProblem?: string): HTMLElement | null {
  const note = (problem: string) => h('p', { className: 'vl-muted', text: undrawableText(problem) });
  if (!images) return readProblem === undefined ? null : note(readProblem);
  const { geometry: g, problem } = imageGeometry(images.shape, images.layout);
  if (!g) return note(problem);
  return h(
    'div',
    { className: 'vl-images' },
    strip('originals', images.originals, g, source),
    strip('reconstructions', images.reconstructions, g, source),
    strip('samples', images.samples, g, source),
  );
}
