/** Originals, reconstructions and samples drawn to small canvases through ImageData (no image URLs). */
import type { PanelRun } from '../core/panelProtocol';
import { h } from './dom';

type Images = NonNullable<PanelRun['images']>;

/** Images per row: enough to judge quality, few enough to stay small. */
const MAX_PER_ROW = 10;

/**
 * RGBA bytes for one image of values in [0, 1], row-major, `channels` 1 (grey) or 3 (RGB) per pixel.
 * Non-finite values are drawn as 0.
 */
export function toRgba(values: readonly number[], width: number, height: number, channels: 1 | 3): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(new ArrayBuffer(width * height * 4));
  const byte = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(Math.min(Math.max(v, 0), 1) * 255) : 0);
  for (let i = 0; i < width * height; i++) {
    const o = i * 4;
    if (channels === 3) {
      out[o] = byte(values[i * 3]);
      out[o + 1] = byte(values[i * 3 + 1]);
      out[o + 2] = byte(values[i * 3 + 2]);
    } else {
      const g = byte(values[i]);
      out[o] = g;
      out[o + 1] = g;
      out[o + 2] = g;
    }
    out[o + 3] = 255;
  }
  return out;
}

/** [h, w] or [h, w, c]; undefined when the shape cannot be drawn. */
export function imageGeometry(shape: readonly number[]): { width: number; height: number; channels: 1 | 3 } | undefined {
  const [height, width, c = 1] = shape;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) return undefined;
  if (c !== 1 && c !== 3) return undefined;
  return { width, height, channels: c };
}

function thumb(values: readonly number[], g: { width: number; height: number; channels: 1 | 3 }): HTMLCanvasElement {
  const canvas = h('canvas', { className: 'vl-thumb' });
  canvas.width = g.width;
  canvas.height = g.height;
  const ctx = canvas.getContext('2d');
  if (ctx) ctx.putImageData(new ImageData(toRgba(values, g.width, g.height, g.channels), g.width, g.height), 0, 0);
  return canvas;
}

function strip(label: string, images: readonly number[][], g: { width: number; height: number; channels: 1 | 3 }): HTMLElement {
  return h(
    'div',
    { className: 'vl-image-row' },
    h('span', { className: 'vl-image-label', text: label }),
    h('div', { className: 'vl-image-strip' }, ...images.slice(0, MAX_PER_ROW).map((img) => thumb(img, g))),
  );
}

/** The image block of one run, or null when it has none (or an undrawable shape). */
export function renderImages(images: Images | undefined): HTMLElement | null {
  if (!images) return null;
  const g = imageGeometry(images.shape);
  if (!g) return h('p', { className: 'vl-muted', text: `Images of shape [${images.shape.join(', ')}] cannot be drawn.` });
  return h(
    'div',
    { className: 'vl-images' },
    images.originals.length ? strip('Originals', images.originals, g) : null,
    images.reconstructions.length ? strip('Reconstructions', images.reconstructions, g) : null,
    images.samples.length ? strip('Samples', images.samples, g) : null,
  );
}
