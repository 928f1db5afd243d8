/**
 * IDX files, plain or gzipped: the MNIST family's format. A big-endian header
 * (two zero bytes, a type code, the number of dimensions, then one uint32 per
 * dimension) followed by the elements.
 * (N, D) is N x D; (N, H, W) are N images of H x W; 1-D files hold labels, not data.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
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
  let size: number;
  try {
    got = readSync(fd, head, 0, head.length, 0);
    size = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  const ndims = head[3]!;
  const type = TYPE_CODES[head[2]!];
  if (got < 4 + 4 * ndims || isGzip(head) || head[0] !== 0 || head[1] !== 0 || !type || ndims < 2 || ndims > 3) return;
  const shape = Array.from({ length: ndims }, (_, i) => head.readUInt32BE(4 + 4 * i));
  // A header the file's size contradicts is described by parseIdx, not sized here.
  if (shape.reduce((a, b) => a * b, 1) * type.bytes !== size - 4 - 4 * ndims) return;
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
  const elements = shape.reduce((a, b) => a * b, 1);
  const expected = elements * type.bytes;
  const available = data.length - headerBytes;
  if (available !== expected) {
    const swapped = shape.map((_, i) => data.readUInt32LE(4 + 4 * i));
    if (swapped.reduce((a, b) => a * b, 1) * type.bytes === available)
      throw new UserError(
        `the header's dimensions are written little-endian: read as IDX has them (most significant byte first) they are ${shape.join(' x ')}, which the data do not fill; ` +
          `read the other way they are ${swapped.join(' x ')}, which they do: write each dimension big-endian, e.g. struct.pack(">I", n) in Python`,
        locate(4),
      );
    const fitting = Object.entries(TYPE_CODES).filter(([, t]) => t.bytes !== type.bytes && elements * t.bytes === available);
    if (fitting.length > 0)
      throw new UserError(
        `the type code in byte 3, 0x${data[2]!.toString(16).padStart(2, '0')} (${typeName}), does not fit the data: shape ${shape.join(' x ')} of ${typeName} needs ${exactBytes(expected)} after the header, ` +
          `but the file holds ${exactBytes(available)}${inflated}, just what ${fitting.map(([code, t]) => `${describeElementType(t)} (0x${Number(code).toString(16).padStart(2, '0')})`).join(' or ')} elements take: ` +
          'write the type code of the elements the file holds',
        locate(2),
      );
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
  if (type.kind === 'float' && floatsLookLittleEndian(data, headerBytes, rows * dim, type.bytes))
    throw new UserError(
      `the ${typeName} values are stored little-endian (as numpy's tobytes writes them on a PC): IDX stores them big-endian, and read so they are tiny or huge nonsense; ` +
        'write them with the bytes swapped, e.g. array.astype(">f4").tobytes(), or save an .npy file with np.save instead',
      locate(headerBytes),
    );
  if (type.kind === 'int' && type.bytes > 1 && intsLookLittleEndian(data, headerBytes, rows * dim, type.bytes))
    throw new UserError(
      `the ${typeName} values are stored little-endian (as numpy's tobytes writes them on a PC): IDX stores them big-endian, and read so they are 256 times too large or more; ` +
        `write them with the bytes swapped, e.g. array.astype(">i${type.bytes}").tobytes(), or save an .npy file with np.save instead`,
      locate(headerBytes),
    );
  const values = decodeElements(data, headerBytes, n * dim, type);
  if (type.kind === 'float') assertAllFinite(values, dim, file, 'IDX data');
  const ds: Dataset = { values, n, dim, sourceType: sourceTypeOf(type), source: file };
  if (ndims === 3) ds.imageShape = [shape[1]!, shape[2]!];
  return ds;
}

/** Elements looked at to tell the byte order of a file's numbers. */
const SAMPLED_FLOATS = 4096;

/**
 * Zero, or a magnitude that data hold. Floats read in the wrong byte order take their exponent from
 * mantissa bytes, spread over the whole range: most fall outside (or are subnormal, huge, NaN).
 */
const plausible = (v: number) => v === 0 || (Math.abs(v) >= 1e-10 && Math.abs(v) <= 1e10);

/**
 * Whether float elements were written little-endian: read big-endian (as IDX has them), most of a
 * sample is subnormal, huge or not a number, and read little-endian nearly all of it is ordinary.
 */
function floatsLookLittleEndian(data: Buffer, start: number, count: number, bytes: number): boolean {
  const view = new DataView(data.buffer, data.byteOffset + start, count * bytes);
  const step = Math.max(1, Math.floor(count / SAMPLED_FLOATS));
  let sampled = 0;
  let asStored = 0;
  let swapped = 0;
  for (let i = 0; i < count; i += step) {
    const o = i * bytes;
    const big = bytes === 8 ? view.getFloat64(o, false) : view.getFloat32(o, false);
    const little = bytes === 8 ? view.getFloat64(o, true) : view.getFloat32(o, true);
    sampled++;
    if (plausible(big)) asStored++;
    if (plausible(little)) swapped++;
  }
  // A few values are no sign: one tiny value read swapped is ordinary about one time in four.
  return sampled >= MIN_SAMPLED_FLOATS && asStored < 0.5 * sampled && swapped >= 0.9 * sampled;
}

/** Enough that tiny values stored big-endian all read ordinary swapped by chance (about 1 in 4 each) less than once in 10^4. */
const MIN_SAMPLED_FLOATS = 8;

/** Fewer elements that read smaller the other way round are no sign (a file of zeros and a few values). */
const MIN_SWAPPED_SMALLER = 4;

/**
 * Whether integers were written little-endian: small numbers so written read big-endian (as IDX has
 * them) with their low byte moved up, 256 times too large or more. Read the other way round, every
 * nonzero element of a sample is then no larger, and several are smaller; big-endian data of any
 * spread has elements that read larger swapped.
 */
function intsLookLittleEndian(data: Buffer, start: number, count: number, bytes: number): boolean {
  const view = new DataView(data.buffer, data.byteOffset + start, count * bytes);
  const step = Math.max(1, Math.floor(count / SAMPLED_FLOATS));
  let smaller = 0;
  for (let i = 0; i < count; i += step) {
    const o = i * bytes;
    const big = Math.abs(bytes === 2 ? view.getInt16(o, false) : view.getInt32(o, false));
    const little = Math.abs(bytes === 2 ? view.getInt16(o, true) : view.getInt32(o, true));
    if (little > big) return false;
    if (little < big) smaller++;
  }
  return smaller >= MIN_SWAPPED_SMALLER;
}
