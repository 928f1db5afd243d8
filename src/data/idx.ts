/**
 * IDX files, plain or gzipped: the MNIST family's format. A big-endian header
 * (two zero bytes, a type code, the number of dimensions, then one uint32 per
 * dimension) followed by the elements.
 * (N, D) is N x D; (N, H, W) are N images of H x W; 1-D files hold labels, not data.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { UserError } from '../core/errors';
import { counted } from '../core/wording';
import type { Dataset } from './dataset';
import { decodeElements, describeElementType, sourceTypeOf, type ElementType } from './binaryElements';
import { assertAllFinite, checkMatrixFits, exactBytes, gunzipIfNeeded, isGzip, rowsToRead, type LoaderOptions } from './loaderCommon';

const TYPE_CODES: Record<number, ElementType> = {
  0x08: { kind: 'uint', bytes: 1, littleEndian: false },
  0x09: { kind: 'int', bytes: 1, littleEndian: false },
  0x0b: { kind: 'int', bytes: 2, littleEndian: false },
  0x0c: { kind: 'int', bytes: 4, littleEndian: false },
  0x0d: { kind: 'float', bytes: 4, littleEndian: false },
  0x0e: { kind: 'float', bytes: 8, littleEndian: false },
};

export function readIdxFile(path: string, opts?: LoaderOptions): Dataset {
  precheckSize(path, opts);
  return parseIdx(readFileSync(path), path, opts);
}

/**
 * An uncompressed IDX file is read whole: check from its header that the data fit as float32
 * before reading gigabytes. (Anything odd in the header is left to parseIdx to describe.)
 */
function precheckSize(path: string, opts: LoaderOptions | undefined): void {
  const head = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const ndims = head[3]!;
  if (got < 4 + 4 * ndims || isGzip(head) || head[0] !== 0 || head[1] !== 0 || ndims < 2 || ndims > 3) return;
  const shape = Array.from({ length: ndims }, (_, i) => head.readUInt32BE(4 + 4 * i));
  const dim = shape.slice(1).reduce((a, b) => a * b, 1);
  checkMatrixFits(rowsToRead(shape[0]!, opts), dim, { file: path, offset: 4 });
}

/** Accepts the raw or the gzipped bytes. */
export function parseIdx(raw: Buffer, file: string, opts?: LoaderOptions): Dataset {
  const wasGzip = isGzip(raw);
  const data = gunzipIfNeeded(raw, file, opts?.maxBytes);
  // Byte offsets only point into the file when it was not compressed.
  const locate = (offset: number) => (wasGzip ? { file } : { file, offset });
  const inflated = wasGzip ? ' (after decompression)' : '';
  if (data.length === 0) throw new UserError(`the file is empty${wasGzip ? ' after decompression' : ' (0 bytes)'}; check data.path`, locate(0));
  if (data.length < 4 || data[0] !== 0 || data[1] !== 0) {
    throw new UserError(
      `not an IDX file: it must start with two zero bytes, a type code and a dimension count${inflated}; check data.path and data.format`,
      locate(0),
    );
  }
  const type = TYPE_CODES[data[2]!];
  if (!type) {
    throw new UserError(
      `unknown IDX element type 0x${data[2]!.toString(16).padStart(2, '0')} in byte 3${inflated}; IDX defines 0x08 (ubyte), 0x09, 0x0B, 0x0C, 0x0D, 0x0E`,
      locate(2),
    );
  }
  const ndims = data[3]!;
  if (ndims === 1) {
    throw new UserError(
      'this is an IDX label file (one number per example), not data: point data.path at the matching images file (e.g. train-images-idx3-ubyte.gz, not train-labels-idx1-ubyte.gz)',
      locate(3),
    );
  }
  if (ndims === 0 || ndims > 3) {
    throw new UserError(`the IDX file has ${counted(ndims, 'dimension')}; VAE Lens reads 2 (N x D) or 3 (N x H x W images)`, locate(3));
  }
  const headerBytes = 4 + 4 * ndims;
  if (data.length < headerBytes) throw new UserError(`the file is truncated inside the IDX header${inflated}`, locate(4));
  const shape: number[] = [];
  for (let i = 0; i < ndims; i++) shape.push(data.readUInt32BE(4 + 4 * i));
  const typeName = describeElementType(type);
  const expected = shape.reduce((a, b) => a * b, 1) * type.bytes;
  const available = data.length - headerBytes;
  if (available !== expected) {
    const problem =
      available < expected
        ? `the file is truncated: shape ${shape.join(' x ')} of ${typeName} needs ${exactBytes(expected)} after the header, but the file holds only ${counted(available, 'byte')} after it${inflated}`
        : `the header does not match the data: shape ${shape.join(' x ')} of ${typeName} is ${exactBytes(expected)}, but the file holds ${exactBytes(available)} after the header${inflated} (mislabelled header?)`;
    throw new UserError(problem, locate(4));
  }
  const rows = shape[0]!;
  const dim = shape.slice(1).reduce((a, b) => a * b, 1);
  if (rows === 0 || dim === 0) throw new UserError(`the IDX file holds no data (shape ${shape.join(' x ')})`, locate(4));
  const n = rowsToRead(rows, opts);
  checkMatrixFits(n, dim, locate(4));
  const values = decodeElements(data, headerBytes, n * dim, type);
  if (type.kind === 'float') assertAllFinite(values, dim, file, 'IDX data');
  const ds: Dataset = { values, n, dim, sourceType: sourceTypeOf(type), source: file };
  if (ndims === 3) ds.imageShape = [shape[1]!, shape[2]!];
  return ds;
}
