/**
 * What every file loader shares: its options, the size guard, gunzip with a
 * ceiling, and the check that a loaded matrix holds only finite numbers.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { checkAllocation, exactBytes, formatBytes } from '../core/allocation';
import { counted } from '../core/wording';
import { UserError, type SourceLocation } from '../core/errors';
import { decodeText, isUtf16, UTF16_SNIFF_BYTES, utf16WithoutBom } from '../core/text';

export interface LoaderOptions {
  /** Read at most this many rows (the spec's `limit`); later rows are not converted. */
  maxRows?: number;
  /** Refuse inputs (or their decompressed form) larger than this many bytes. */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === GZIP_MAGIC_0 && buf[1] === GZIP_MAGIC_1;
}

export { exactBytes, formatBytes };

export function fileStartsWithGzip(path: string): boolean {
  return isGzip(fileStart(path));
}

/** Whether a text file is UTF-16 (its byte-order mark, or text without one): the line readers work on UTF-8 bytes. */
export function fileStartsWithUtf16(path: string): boolean {
  const head = fileStart(path, UTF16_SNIFF_BYTES);
  return isUtf16(head) || utf16WithoutBom(head) !== undefined;
}

function fileStart(path: string, bytes = 2): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(bytes);
    return head.subarray(0, readSync(fd, head, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

/** UTF-16 text (with its byte-order mark or without one) as UTF-8 bytes; other bytes as they are. */
export function utf16AsUtf8(buf: Buffer): Buffer {
  return isUtf16(buf) || utf16WithoutBom(buf) !== undefined ? Buffer.from(decodeText(buf), 'utf8') : buf;
}

/** deflate cannot expand data by more than about 1032:1. */
const MAX_DEFLATE_RATIO = 1032;
const MIN_CHUNK = 64 * 1024;

/**
 * The output buffer size for inflating `gz` in one piece: the size its gzip trailer states
 * (ISIZE, the length mod 2^32 of the last member), plus one byte so zlib does not allocate a
 * further buffer to look for more. Left to its 16 KiB default, zlib builds the output from
 * thousands of chunks and copies them into one buffer at the end: twice the data's size at
 * once, and a malloc heap that stays large afterwards. The trailer is only a hint: a wrong
 * one (multi-member, over 4 GiB, corrupt) costs speed or memory, never correctness, and the
 * hint is capped by what deflate could possibly produce and by the size limit.
 */
function inflatedSizeHint(gz: Buffer, maxBytes: number): number {
  const stated = gz.length >= 18 ? gz.readUInt32LE(gz.length - 4) : 0;
  const cap = Math.min(maxBytes, MAX_DEFLATE_RATIO * gz.length, 2 ** 31 - 1);
  return Math.max(MIN_CHUNK, Math.min(stated + 1, cap));
}

/** Decompress when the bytes are gzip; a corrupt, truncated or oversized stream is the user's file's fault. */
export function gunzipIfNeeded(buf: Buffer, file: string, maxBytes = DEFAULT_MAX_BYTES): Buffer {
  if (!isGzip(buf)) return buf;
  try {
    return gunzipSync(buf, {
      maxOutputLength: Math.max(1, Math.min(maxBytes, 2 ** 32 - 1)),
      chunkSize: inflatedSizeHint(buf, maxBytes),
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new UserError(`the gzip file expands to more than ${formatBytes(maxBytes)}, the size limit for data files`, {
        file,
      });
    }
    const reason = e instanceof Error ? e.message : String(e);
    throw new UserError(`the file starts like gzip but cannot be decompressed (${reason}); is it truncated or corrupt?`, {
      file,
      offset: 0,
    });
  }
}

/** Rows to keep given the file's row count and the caller's limit. */
export function rowsToRead(available: number, opts: LoaderOptions | undefined): number {
  const limit = opts?.maxRows;
  return limit !== undefined && limit >= 0 && limit < available ? Math.floor(limit) : available;
}

/**
 * Every value must be a finite float32 (float64 sources may overflow it).
 * Names the first bad entry by 1-based row and column.
 */
export function assertAllFinite(values: Float32Array, dim: number, file: string, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      const row = Math.floor(i / dim) + 1;
      const column = (i % dim) + 1;
      const kind = Number.isNaN(v) ? 'NaN' : 'an infinite value (or one beyond the float32 range)';
      throw new UserError(`row ${row}, column ${column} of the ${what} is ${kind}; VAE Lens needs finite numbers: remove or impute missing values first`, {
        file,
        row,
      });
    }
  }
}

/**
 * The data matrix is float32 whatever the file stores: a uint8 file under the size limit can
 * still ask for four times its size. Checked from the header or first pass, before allocating.
 */
export function checkMatrixFits(n: number, dim: number, at: SourceLocation): void {
  checkAllocation({
    what: `the data as float32 (${counted(n, 'row')} x ${counted(dim, 'value')})`,
    elements: n * dim,
    bytesPerElement: 4,
    at,
    advice: 'set data.limit to read fewer rows, or write a smaller file',
  });
}
