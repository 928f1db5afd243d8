/**
 * The one place that says how much memory an input asks for and whether VAE Lens will allocate
 * it. Every size that comes from a spec, a file header or a command line (a synthetic set's
 * n x dim, a ppca covariance, a data matrix after conversion to float32, an evaluation's samples,
 * a checkpoint's JSON text, an image grid's shape) is checked here before anything is allocated,
 * so a hostile or mistaken size is refused at once with the size and the limit, rather than
 * ending in an engine error or minutes of work.
 */
import { constants as bufferConstants } from 'node:buffer';
import { UserError, type SourceLocation } from './errors';

/** Largest single array VAE Lens allocates (the data matrix, a covariance): 2 GiB. */
export const MAX_ARRAY_BYTES = 2 * 1024 ** 3;

/** The longest string V8 can build (about 512 M characters in 64-bit Node); a JSON file is written as one. */
export const MAX_STRING_CHARS = bufferConstants.MAX_STRING_LENGTH;

/** Pixels of one displayed image; declared with the image geometry, which the panel shares (no Node API there). */
export { MAX_IMAGE_PIXELS } from './imageGeometry';

/** A size exactly, with its rounded form beside it when that differs: "480 bytes", "1.5 KiB (1536 bytes)". */
export function exactBytes(n: number): string {
  return n < 1024 ? formatBytes(n) : `${formatBytes(n)} (${n} bytes)`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return n === 1 ? '1 byte' : `${n} bytes`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n < 1024 ** 4) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  return `${(n / 1024 ** 4).toFixed(2)} TiB`;
}

export interface AllocationRequest {
  /** What would be allocated, for the message: "the data matrix (2000 x 100000 float32)". */
  what: string;
  elements: number;
  bytesPerElement: number;
  /** Where the size came from: the spec field, the file and its header. */
  at: SourceLocation;
  /** What the user can do about it. */
  advice: string;
  limit?: number;
}

/** Bytes of the request; infinite when the element count is not a sane number. */
export function allocationBytes(r: Pick<AllocationRequest, 'elements' | 'bytesPerElement'>): number {
  return Number.isFinite(r.elements) && r.elements >= 0 ? r.elements * r.bytesPerElement : Infinity;
}

/** Throw a located UserError naming the size and the limit when the request is over it. */
export function checkAllocation(r: AllocationRequest): void {
  const limit = r.limit ?? MAX_ARRAY_BYTES;
  const bytes = allocationBytes(r);
  if (bytes <= limit) return;
  throw new UserError(
    `${r.what} would need ${formatBytes(bytes)} of memory, more than the ${formatBytes(limit)} VAE Lens allocates at once; ${r.advice}`,
    r.at,
  );
}
