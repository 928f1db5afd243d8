/**
 * NumPy .npy files (format versions 1, 2 and 3) into a Dataset.
 * Shapes: (N,) is N x 1, (N, D) is N x D, (N, H, W) are N images of H x W, (N, H, W, C) images
 * with channels, and (N, C, H, W) channels-first images (PyTorch's layout), read as H x W x C:
 * as `data.layout` says, or without it where C <= 4 < W. Fortran order (np.save of a transposed
 * array writes it) is read too.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { UserError } from '../core/errors';
import { looksChannelsFirst, type DataLayout } from '../core/imageLayout';
import { counted } from '../core/wording';
import type { Dataset } from './dataset';
import { decodeElements, decodeInto, describeElementType, isHostFloat32, sourceTypeOf, type ElementType } from './binaryElements';
import { assertAllFinite, checkMatrixFits, exactBytes, fileStartsWithGzip, gunzipIfNeeded, rowsToRead, type LoaderOptions } from './loaderCommon';
import { structuredDtypeMessage, unreadDtypeMessage, unreadShapeMessage } from './npyAdvice';
import { parsePyLiteral, PyLiteralError, type PyValue } from './pyLiteral';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** "PK\x03\x04": how np.savez's .npz and torch.save's files start. */
const ZIP_LOCAL_HEADER = 0x04034b50;

export interface NpyOptions extends LoaderOptions {
  /** Let the result view `data` instead of copying float32 bytes (only when the caller owns `data`). */
  shareBuffer?: boolean;
  /** How a 4-D file holds its images (`data.layout`); without it, told by the shape. */
  layout?: DataLayout;
}

/**
 * Plain files are read header first, then the data in chunks straight into the
 * result, so a float64 file never sits in memory next to its float32 copy.
 */
export function readNpyFile(path: string, opts?: NpyOptions): Dataset {
  if (fileStartsWithGzip(path)) {
    const data = gunzipIfNeeded(readFileSync(path), path, opts?.maxBytes);
    return parseNpy(data, path, { ...opts, shareBuffer: opts?.shareBuffer ?? true });
  }
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const prefix = Buffer.alloc(Math.min(size, 12));
    readFully(fd, prefix, 0, path);
    const headerEnd = npyDataStart(prefix) ?? prefix.length;
    const head = Buffer.alloc(Math.min(size, headerEnd, 12 + MAX_HEADER_BYTES));
    readFully(fd, head, 0, path);
    const header = readHeader(head, path);
    const peek: Peek = (offset, length) => {
      const into = Buffer.alloc(length);
      return into.subarray(0, readSync(fd, into, 0, length, offset));
    };
    const layout = checkLayout(header, size - header.dataStart, peek, path, opts);
    const values = new Float32Array(layout.n * layout.dim);
    const { type, dataStart } = header;
    if (layout.order) {
      // Reordered elements: every element of the file is read (a row is spread over all of it).
      const total = layout.rows * layout.dim;
      const perChunk = Math.max(1, Math.floor(READ_CHUNK_BYTES / Math.max(4, type.bytes)));
      const chunk = Buffer.allocUnsafe(Math.min(perChunk, total) * type.bytes);
      const decoded = new Float32Array(Math.min(perChunk, total));
      for (let done = 0; done < total; done += perChunk) {
        const count = Math.min(perChunk, total - done);
        readFully(fd, chunk.subarray(0, count * type.bytes), dataStart + done * type.bytes, path);
        decodeInto(decoded, 0, chunk, 0, count, type);
        scatter(values, decoded, done, count, layout, layout.order);
      }
    } else if (isHostFloat32(type)) {
      readFully(fd, new Uint8Array(values.buffer), dataStart, path);
    } else {
      const perChunk = Math.max(1, Math.floor(READ_CHUNK_BYTES / type.bytes));
      const chunk = Buffer.allocUnsafe(Math.min(perChunk, values.length) * type.bytes);
      for (let done = 0; done < values.length; done += perChunk) {
        const count = Math.min(perChunk, values.length - done);
        const part = chunk.subarray(0, count * type.bytes);
        readFully(fd, part, dataStart + done * type.bytes, path);
        decodeInto(values, done, part, 0, count, type);
      }
    }
    return finish(values, header, layout, path, opts?.layout);
  } finally {
    closeSync(fd);
  }
}

const READ_CHUNK_BYTES = 4 << 20;
/** NumPy itself refuses headers over 10000 bytes by default; allow far more, but not gigabytes. */
const MAX_HEADER_BYTES = 1 << 20;

/** Fill `into` from the file at `position`; a short read means the file shrank under us. */
function readFully(fd: number, into: Uint8Array, position: number, file: string): void {
  let got = 0;
  while (got < into.length) {
    const k = readSync(fd, into, got, into.length - got, position + got);
    if (k === 0) throw new UserError('the file ended early while it was being read (did it change?); try again', { file, offset: position + got });
    got += k;
  }
}

/** Where the data start according to the fixed prefix, or undefined if the prefix is not NPY. */
function npyDataStart(prefix: Buffer): number | undefined {
  if (prefix.length < 12 || MAGIC.some((b, i) => prefix[i] !== b)) return undefined;
  const major = prefix[6]!;
  if (major === 1) return 10 + prefix.readUInt16LE(8);
  if (major === 2 || major === 3) return 12 + prefix.readUInt32LE(8);
  return undefined;
}

interface NpyHeader {
  type: ElementType;
  shape: number[];
  fortran: boolean;
  dataStart: number;
}

interface NpyLayout {
  /** Rows to read (after the limit), all rows in the file, values per row. */
  n: number;
  rows: number;
  dim: number;
  /** Where the file's elements go when they are not in our row-major order already (see elementOrder). */
  order?: ElementOrder;
}

/**
 * The file's order of elements against ours (rows one after the other, each row's values in H, W, C
 * order): element k of the file is row k % rows (Fortran order) or k / dim (C order), and its
 * place in the file's row goes to column `column[place]` of ours.
 */
interface ElementOrder {
  fortran: boolean;
  column: Int32Array;
}

/** Whether a file of this shape holds (N, C, H, W) images: as `layout` says, else when it looks so. */
function channelsFirst(shape: readonly number[], layout: DataLayout | undefined): boolean {
  return shape.length === 4 && (layout ? layout === 'channels-first' : looksChannelsFirst(shape.slice(1)));
}

/** One example's shape as the data set keeps it (channels last), from the file's shape. */
function exampleShape(shape: readonly number[], layout: DataLayout | undefined): number[] {
  const row = shape.slice(1);
  return channelsFirst(shape, layout) ? [row[1]!, row[2]!, row[0]!] : row;
}

/** The order of a file's elements when it differs from ours; undefined when the bytes are in our order. */
function elementOrder(header: NpyHeader, layout: DataLayout | undefined): ElementOrder | undefined {
  const fileRow = header.shape.slice(1);
  const permuted = channelsFirst(header.shape, layout) && fileRow[0]! > 1;
  if (!permuted && (!header.fortran || fileRow.length === 0)) return undefined;
  // Our row's axes in the file's row: channels-first files hold (C, H, W), ours is (H, W, C).
  const axes = permuted ? [1, 2, 0] : fileRow.map((_, a) => a);
  const ours = axes.map((a) => fileRow[a]!);
  // The file's strides within a row: the first axis varies fastest in Fortran order, the last in C order.
  const strides = new Array<number>(fileRow.length);
  let stride = 1;
  for (let k = 0; k < fileRow.length; k++) {
    const a = header.fortran ? k : fileRow.length - 1 - k;
    strides[a] = stride;
    stride *= fileRow[a]!;
  }
  const column = new Int32Array(stride);
  const index = new Array<number>(ours.length).fill(0);
  for (let j = 0; j < column.length; j++) {
    let place = 0;
    for (let t = 0; t < ours.length; t++) place += index[t]! * strides[axes[t]!]!;
    column[place] = j;
    for (let t = ours.length - 1; t >= 0 && ++index[t]! === ours[t]!; t--) index[t] = 0;
  }
  return { fortran: header.fortran, column };
}

/** Put `count` decoded elements, the file's elements from `first` on, in their places in `values`. */
function scatter(values: Float32Array, decoded: Float32Array, first: number, count: number, layout: NpyLayout, order: ElementOrder): void {
  const { n, rows, dim } = layout;
  for (let t = 0; t < count; t++) {
    const k = first + t;
    const row = order.fortran ? k % rows : Math.floor(k / dim);
    const place = order.fortran ? Math.floor(k / rows) : k % dim;
    if (row < n) values[row * dim + order.column[place]!] = decoded[t]!;
  }
}

export function parseNpy(data: Buffer, file: string, opts?: NpyOptions): Dataset {
  const header = readHeader(data, file);
  const layout = checkLayout(header, data.length - header.dataStart, (offset, length) => data.subarray(offset, offset + length), file, opts);
  if (layout.order) {
    const all = decodeElements(data, header.dataStart, layout.rows * layout.dim, header.type);
    const values = new Float32Array(layout.n * layout.dim);
    scatter(values, all, 0, all.length, layout, layout.order);
    return finish(values, header, layout, file, opts?.layout);
  }
  const count = layout.n * layout.dim;
  const values = decodeElements(data, header.dataStart, count, header.type, (opts?.shareBuffer ?? false) && layout.n === layout.rows);
  return finish(values, header, layout, file, opts?.layout);
}

/** Shape and data length must agree before anything is allocated. */
/** The file's bytes at an offset (fewer at its end), for a look past the array's data. */
type Peek = (offset: number, length: number) => Uint8Array;

function checkLayout(header: NpyHeader, available: number, peek: Peek, file: string, opts: NpyOptions | undefined): NpyLayout {
  const { type, shape, dataStart } = header;
  const typeName = describeElementType(type);
  if (shape.length === 0 || shape.length > 4) {
    throw new UserError(unreadShapeMessage(shape), { file, offset: 8 });
  }
  const total = shape.reduce((a, b) => a * b, 1);
  const expected = total * type.bytes;
  if (available < expected) {
    throw new UserError(
      `the file is truncated: shape (${shape.join(', ')}) of ${typeName} needs ${exactBytes(expected)} after the header, but the file holds only ${counted(available, 'byte')} after it`,
      { file, offset: dataStart },
    );
  }
  if (available > expected) {
    if (MAGIC.every((b, i) => peek(dataStart + expected, MAGIC.length)[i] === b))
      throw new UserError(
        `the file holds more than one array: another starts after this one's ${exactBytes(expected)} (np.save called more than once on one open file); ` +
          'VAE Lens reads one array per file: save the one to train on alone, np.save("data.npy", array)',
        { file, offset: dataStart + expected, length: MAGIC.length },
      );
    throw new UserError(
      `the header does not match the data: shape (${shape.join(', ')}) of ${typeName} is ${exactBytes(expected)}, but the file holds ${exactBytes(available)} after the header (mislabelled shape or dtype?)`,
      { file, offset: dataStart + expected },
    );
  }
  const rows = shape[0]!;
  if (rows === 0) throw new UserError('the array has no rows (its first dimension is 0)', { file, offset: 8 });
  const dim = shape.length === 1 ? 1 : shape.slice(1).reduce((a, b) => a * b, 1);
  if (dim === 0) throw new UserError(`the array has shape (${shape.join(', ')}): its rows are empty`, { file, offset: 8 });
  const n = rowsToRead(rows, opts);
  checkMatrixFits(n, dim, { file, offset: 8 });
  const order = elementOrder(header, opts?.layout);
  return order ? { n, rows, dim, order } : { n, rows, dim };
}

function finish(values: Float32Array, header: NpyHeader, layout: NpyLayout, file: string, imageLayout: DataLayout | undefined): Dataset {
  if (header.type.kind === 'float') assertAllFinite(values, layout.dim, file, 'array');
  const ds: Dataset = { values, n: layout.n, dim: layout.dim, sourceType: sourceTypeOf(header.type), source: file };
  if (header.shape.length >= 3) ds.imageShape = exampleShape(header.shape, imageLayout);
  return ds;
}

/** One example's shape from the start of an .npy file (the header alone), for the editor. */
export function npyExampleShape(prefix: Buffer, file: string, layout?: DataLayout): number[] | undefined {
  try {
    return exampleShape(readHeader(prefix, file).shape, layout);
  } catch {
    return undefined;
  }
}

function readHeader(data: Buffer, file: string): NpyHeader {
  if (data.length === 0) throw new UserError('the file is empty (0 bytes); check data.path', { file, offset: 0 });
  if (data.length >= 4 && data.readUInt32LE(0) === ZIP_LOCAL_HEADER) {
    throw new UserError(
      'not an .npy file but a zip archive: an .npz of several arrays (np.savez) or a torch.save file; write the one array with np.save("data.npy", array) and point data.path at that',
      { file, offset: 0, length: 4 },
    );
  }
  if (data.length < 10 || MAGIC.some((b, i) => data[i] !== b)) {
    throw new UserError('not an .npy file: it does not start with the NPY magic bytes "\\x93NUMPY"; check data.path and data.format', {
      file,
      offset: 0,
      length: 6,
    });
  }
  const major = data[6]!;
  if (major < 1 || major > 3) {
    throw new UserError(`NPY format version ${major}.${data[7]} is not supported (versions 1, 2 and 3 are)`, { file, offset: 6 });
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (data.length < 8 + lengthBytes) throw new UserError('the file is truncated inside the NPY header', { file, offset: 8 });
  const headerLength = major === 1 ? data.readUInt16LE(8) : data.readUInt32LE(8);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new UserError(`the NPY header claims to be ${counted(headerLength, 'byte')} long; real headers are a few hundred bytes, so the file is corrupt`, {
      file,
      offset: 8,
    });
  }
  const headerStart = 8 + lengthBytes;
  const dataStart = headerStart + headerLength;
  if (dataStart > data.length) {
    throw new UserError(`the file is truncated: the header says it is ${counted(headerLength, 'byte')} long but the file ends first`, {
      file,
      offset: 8,
    });
  }
  const text = data.toString(major === 3 ? 'utf8' : 'latin1', headerStart, dataStart);
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (e) {
    if (!(e instanceof PyLiteralError)) throw e;
    throw new UserError(`the NPY header is not a valid Python dict literal: ${e.message}`, { file, offset: headerStart + e.offset });
  }
  const at = { file, offset: headerStart, length: headerLength };
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
    throw new UserError("the NPY header is not a dict with 'descr', 'fortran_order' and 'shape'", at);
  }
  const { descr, fortran_order: fortran, shape } = dict;
  if (typeof descr !== 'string') throw new UserError(structuredDtypeMessage(descr), at);
  if (fortran !== true && fortran !== false) throw new UserError("the NPY header's 'fortran_order' must be True or False", at);
  if (!Array.isArray(shape) || !shape.every((s) => typeof s === 'number' && Number.isSafeInteger(s) && s >= 0)) {
    throw new UserError("the NPY header's 'shape' must be a tuple of non-negative integers", at);
  }
  return { type: parseDescr(descr, shape.length, file, at), shape: shape as number[], fortran, dataStart };
}

function parseDescr(descr: string, ndim: number, file: string, at: { offset: number; length: number }): ElementType {
  // No byte-order character ('f4', as some writers other than NumPy put it) is native order, as NumPy reads it.
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  const unsupported = (): never => {
    throw new UserError(unreadDtypeMessage(descr, ndim), { file, ...at });
  };
  if (!m) return unsupported();
  const kind = m[2] === 'f' ? 'float' : m[2] === 'i' ? 'int' : m[2] === 'u' ? 'uint' : 'bool';
  const bytes = Number(m[3]);
  const fits =
    kind === 'float' ? bytes === 2 || bytes === 4 || bytes === 8 : kind === 'bool' ? bytes === 1 : bytes === 1 || bytes === 2 || bytes === 4 || bytes === 8;
  if (!fits) return unsupported();
  // '=' is native order; NumPy writes it only on the machine that made the file, nearly always little-endian.
  return { kind, bytes: bytes as ElementType['bytes'], littleEndian: m[1] !== '>' };
}
