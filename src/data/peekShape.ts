/**
 * One example's shape from the first bytes of a data file, without loading it: what the editor
 * needs to check a network's layers against the data as the user types. IDX and NPY state it
 * in their headers (read through gzip where compressed); other formats give undefined.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import type { DataLayout } from '../core/imageLayout';
import type { DataFormat } from '../core/spec';
import { isGzip } from './loaderCommon';
import { npyExampleShape } from './npy';

const HEAD_BYTES = 1 << 16;

function readStart(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(HEAD_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, HEAD_BYTES, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** [h, w] or [h, w, c] for images, [D] for flat rows, undefined when the header does not say. */
export function peekExampleShape(file: string, format: DataFormat, layout?: DataLayout): number[] | undefined {
  let head = readStart(file);
  if (!head) return undefined;
  if (isGzip(head)) {
    try {
      // The start of the stream is enough: a sync flush inflates what has arrived without complaint.
      head = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      return undefined;
    }
  }
  if (format === 'npy') return npyExampleShape(head, file, layout);
  if (format === 'idx') {
    if (head.length < 4 || head[0] !== 0 || head[1] !== 0) return undefined;
    const ndims = head[3]!;
    if (ndims < 1 || ndims > 3 || head.length < 4 + 4 * ndims) return undefined;
    const shape = Array.from({ length: ndims }, (_, i) => head!.readUInt32BE(4 + 4 * i)).slice(1);
    return shape.length === 0 ? [1] : shape;
  }
  return undefined;
}
