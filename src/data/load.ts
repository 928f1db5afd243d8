/**
 * From a spec's `data` section to scaled training (and validation) sets:
 * resolve and guard the path, pick the loader, apply limit, split, scaling.
 * Errors about the spec name the spec file and field; errors inside the data
 * file name the data file (the loaders do that).
 */
import { closeSync, constants as fsConstants, existsSync, fstatSync, openSync, readlinkSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isWithin } from '../core/confinement';
import { quoted, shownPath, UserError, type SourceLocation } from '../core/errors';
import { channelsLast, looksChannelsFirst, rowsToChannelsLast, sameImageShape } from '../core/imageLayout';
import { counted } from '../core/wording';
import { pathFromElsewhereHint, pathSpellingHint } from '../core/pathHints';
import type { DataFormat, DataSpec, FileDataSpec } from '../core/spec';
import type { Dataset, ScaledDataset } from './dataset';
import { readCsvFile } from './csv';
import { readIdxFile } from './idx';
import { readJsonFile } from './json';
import { FOREIGN_HEAD_BYTES, foreignFormatByContent, foreignFormatByName } from './foreignFormats';
import { DEFAULT_MAX_BYTES, formatBytes, type LoaderOptions } from './loaderCommon';
import { readNpyFile } from './npy';
import { applyScaling, defaultScaling, fitScaling, splitValidation } from './scaling';
import { generateSynthetic } from './synthetic';

export interface LoadDataOptions {
  /** Folders the data file must lie in (after resolving symlinks), unless allowOutsideWorkspace. */
  workspaceRoots?: string[];
  allowOutsideWorkspace?: boolean;
  /** Largest data file accepted (and largest decompressed size); default 2 GiB. */
  maxBytes?: number;
}

export interface LoadedData {
  train: ScaledDataset;
  validation?: ScaledDataset;
  /** What the loader guessed about the file (Dataset.notes), for the user. */
  notes?: string[];
}

/** The seed of the validation split when the spec has no seed of its own (file data). */
const FILE_SPLIT_SEED = 0;

export async function loadData(spec: DataSpec, specPath: string, opts: LoadDataOptions = {}): Promise<LoadedData> {
  const specAt = (field: string): SourceLocation => ({ file: specPath, field });
  let ds: Dataset;
  let splitSeed: number;
  if (spec.kind === 'synthetic') {
    ds = generateSynthetic(spec, { file: specPath });
    splitSeed = spec.seed;
  } else {
    ds = loadFile(spec, specPath, opts);
    splitSeed = FILE_SPLIT_SEED;
  }
  ds = withImageShape(ds, spec, spec.kind === 'file' && detectFormat(spec, specPath) === 'npy', specAt);
  if (spec.limit !== undefined && spec.limit < ds.n) {
    ds = { ...ds, values: ds.values.subarray(0, spec.limit * ds.dim), n: spec.limit };
  }
  // Read before the data are scaled in place.
  const pixelNote = spec.scale === undefined ? unscaledPixelsNote(ds) : [];
  let split;
  try {
    // The loader's matrix is ours alone: split and scale it in place (no second copy).
    split = splitValidation(ds, spec.validation, splitSeed, { inPlace: true });
  } catch (e) {
    if (e instanceof UserError) throw new UserError(e.message, specAt('data.validation'));
    throw e;
  }
  const params = fitScaling(split.train, spec.scale ?? defaultScaling(ds));
  const train = applyScaling(split.train, params, { inPlace: true });
  const validation = split.validation ? applyScaling(split.validation, params, { inPlace: true }) : undefined;
  const allNotes = [...(ds.notes ?? []), ...pixelNote];
  const notes = allNotes.length > 0 ? { notes: allNotes } : {};
  return validation ? { train, validation, ...notes } : { train, ...notes };
}

/**
 * Data of whole numbers from 0 to 255 reaching above 127 are most likely 8-bit pixels, as Kaggle's
 * Fashion-MNIST CSV holds them, or images saved by pandas (int64) or after astype(float32). Only
 * uint8 files are divided by 255 by default; other sources are trained as they are, so say how.
 * (Small counts, 0 to 20 say, are not taken for pixels.)
 */
function unscaledPixelsNote(ds: Dataset): string[] {
  if (ds.sourceType === 'uint8') return [];
  let max = 0;
  for (const v of ds.values) {
    if (!(v >= 0 && v <= 255 && Number.isInteger(v))) return [];
    if (v > max) max = v;
  }
  if (max <= 127) return [];
  const source = ds.sourceType === 'text' ? 'text files' : ds.sourceType === 'int' ? 'integer files' : `${ds.sourceType} files`;
  return [
    `the values are whole numbers from 0 to ${max}, as 8-bit pixels are, and are trained as they are (data.scale is "none" for ${source}): if they are pixels, set data.scale to "unit" to divide them by 255`,
  ];
}

/**
 * The example shape the spec states (`data.shape`, in `data.layout`'s order) put on what the loader
 * read, and rows that hold their images channels first reordered to channels last. The loader of
 * a 4-D NPY file (`npy`) has read it in its layout already.
 */
function withImageShape(ds: Dataset, spec: DataSpec, npy: boolean, specAt: (field: string) => SourceLocation): Dataset {
  const { shape: stated, layout } = spec;
  const laidOut = npy && ds.imageShape?.length === 3;
  const first = layout === 'channels-first' ? ' (channels first)' : '';
  if (stated) {
    const values = stated.reduce((a, b) => a * b, 1);
    if (values !== ds.dim)
      throw new UserError(
        `data.shape ${stated.join('×')}${first} has ${counted(values, 'value')}, but the rows of ${ds.source} have ${ds.dim}`,
        specAt('data.shape'),
      );
  }
  // One example's shape in the file's order, where the rows are still in it.
  const inFileOrder = stated ?? (laidOut ? undefined : ds.imageShape);
  const fileShape = ds.imageShape && (laidOut ? ds.imageShape : channelsLast(ds.imageShape, layout));
  const shape = stated ? channelsLast(stated, layout) : fileShape;
  if (stated && fileShape && !sameImageShape(shape!, fileShape))
    throw new UserError(
      `data.shape ${stated.join('×')}${first} is one example of ${describeImage(shape!)}, but ${shownPath(ds.source)} holds images of ${describeImage(fileShape)}; leave data.shape out (the file knows its shape)${layout ? '' : ', or set data.layout'}`,
      specAt('data.shape'),
    );
  if (layout === 'channels-first' && !laidOut) {
    if (!inFileOrder)
      throw new UserError(
        `data.layout "channels-first" needs the images' shape: ${ds.source} holds rows of ${counted(ds.dim, 'value')}; give data.shape as [channels, height, width]`,
        specAt('data.layout'),
      );
    if (inFileOrder.length === 3) rowsToChannelsLast(ds.values, ds.n, inFileOrder);
  }
  // Images a JSON file nests as (3, 32, 32), read as they stand: 3 rows of 32 pixels with 32 channels.
  const unsure = !stated && !layout && !laidOut && ds.imageShape !== undefined && looksChannelsFirst(ds.imageShape);
  const notes = unsure
    ? [
        ...(ds.notes ?? []),
        `its images of [${ds.imageShape!.join(', ')}] are read as height, width, channels; if they hold their channels first, set data.layout to "channels-first"`,
      ]
    : ds.notes;
  return shape ? { ...ds, imageShape: shape, ...(notes ? { notes } : {}) } : ds;
}

function describeImage(shape: readonly number[]): string {
  const [h, w, c = 1] = shape;
  return `${h}×${w} pixels with ${counted(c, 'channel')}`;
}

/** Resolve `data.path` against the spec's folder and check it may and can be read. */
export function resolveDataPath(spec: FileDataSpec, specPath: string, opts: LoadDataOptions = {}): string {
  const at = { file: specPath, field: 'data.path' };
  const resolved = resolve(dirname(specPath), spec.path);
  let stat;
  try {
    stat = statSync(resolved);
  } catch {
    throw new UserError(
      `data file not found: ${quoted(spec.path)} resolves to ${shownPath(resolved)} (paths are relative to the spec's folder)${pathSpellingHint(spec.path, dirname(specPath)) || pathFromElsewhereHint(spec.path, dirname(specPath))}`,
      at,
    );
  }
  if (!stat.isFile()) throw new UserError(`data.path must name a file, but ${shownPath(resolved)} is not a regular file`, at);
  if (opts.workspaceRoots && !opts.allowOutsideWorkspace) {
    const real = realpathSync(resolved);
    if (!insideWorkspace(real, opts.workspaceRoots)) {
      const via = real !== resolved ? ` (it is a link to ${shownPath(real)})` : '';
      throw new UserError(
        `data file ${shownPath(resolved)}${via} is outside the workspace; move it into the workspace or allow data outside it with the setting vaeLens.allowDataOutsideWorkspace`,
        at,
      );
    }
  }
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (stat.size > maxBytes) {
    throw new UserError(
      `data file ${shownPath(resolved)} is ${formatBytes(stat.size)}, more than the ${formatBytes(maxBytes)} limit of what VAE Lens reads into memory; write a smaller file with a subset of the rows and point data.path at it`,
      at,
    );
  }
  return resolved;
}

/** The format named by `data.format`, else guessed from the file name. */
export function detectFormat(spec: FileDataSpec, specPath: string): DataFormat {
  if (spec.format) return spec.format;
  const name = basename(spec.path).toLowerCase();
  const inner = name.endsWith('.gz') ? name.slice(0, -3) : name;
  if (/\.(csv|tsv|txt)$/.test(inner)) return 'csv';
  if (inner.endsWith('.npy')) return 'npy';
  if (/\.(json|jsonl|ndjson)$/.test(inner)) return 'json';
  const foreign = foreignFormatByName(inner);
  if (foreign) throw new UserError(`${quoted(spec.path)} ${foreign}`, { file: specPath, field: 'data.path' });
  if (/\.idx$|-ubyte$|\.idx\d-ubyte$/.test(inner) || name.endsWith('.gz')) return 'idx';
  const archive = arrayArchiveProblem(inner);
  if (archive) throw new UserError(`${quoted(spec.path)} ${archive}`, { file: specPath, field: 'data.path' });
  throw new UserError(`cannot tell the format of ${quoted(spec.path)} from its name; set data.format to "csv", "npy", "idx" or "json"`, {
    file: specPath,
    field: 'data.path',
  });
}

/** What is wrong with a file of arrays that is no NPY, told by its name (undefined for other names). */
function arrayArchiveProblem(name: string): string | undefined {
  if (name.endsWith('.npz'))
    return `is an .npz archive (np.savez), which holds named arrays; VAE Lens reads one array from an .npy file: write it with np.save("data.npy", archive["name"]) and point data.path at that`;
  if (/\.(pt|pth)$/.test(name))
    return 'is a PyTorch file (torch.save); VAE Lens reads NumPy .npy files: write the tensor with np.save("data.npy", tensor.numpy()) and point data.path at that';
  return undefined;
}

/** Is the real path `real` inside one of the workspace folders (their links resolved too)? */
function insideWorkspace(real: string, roots: readonly string[]): boolean {
  return roots.some((root) => {
    try {
      return isWithin(realpathSync(root), real);
    } catch {
      return false;
    }
  });
}

/** Linux names every open file descriptor here; opening it reaches the same file, whatever its name points at now. */
const FD_DIR = '/proc/self/fd';

/**
 * The data file opened once: the checks by name in resolveDataPath could be raced (a link
 * swapped for one pointing outside between the check and the read), so the open descriptor is
 * checked again, by its own real path, and the loaders read through it rather than the name.
 * Opened non-blocking: a FIFO swapped in is refused, not waited on.
 */
function openPinned(file: string, specPath: string, opts: LoadDataOptions): { fd: number; readPath: string } {
  const at = { file: specPath, field: 'data.path' };
  const fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    if (!fstatSync(fd).isFile()) throw new UserError(`data.path must name a file, but ${shownPath(file)} is not a regular file`, at);
    const viaFd = `${FD_DIR}/${fd}`;
    if (!existsSync(viaFd)) return { fd, readPath: file }; // not Linux: the check by name stands
    const real = readlinkSync(viaFd);
    if (opts.workspaceRoots && !opts.allowOutsideWorkspace && !insideWorkspace(real, opts.workspaceRoots))
      throw new UserError(
        `data file ${shownPath(file)} is outside the workspace (it was opened as ${shownPath(real)}); move it into the workspace or allow data outside it with the setting vaeLens.allowDataOutsideWorkspace`,
        at,
      );
    return { fd, readPath: viaFd };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Messages and the data set name the file as the user gave it, not the descriptor it was read through. */
function shownAs(e: unknown, readPath: string, file: string): unknown {
  if (readPath === file || !(e instanceof UserError)) return e;
  const fix = (text: string) => text.split(readPath).join(file);
  const loc = (l: SourceLocation): SourceLocation => (l.file === readPath ? { ...l, file } : l);
  return new UserError(
    fix(e.message),
    loc(e.location),
    e.more.map((m) => ({ message: fix(m.message), location: loc(m.location) })),
  );
}

function loadFile(spec: FileDataSpec, specPath: string, opts: LoadDataOptions): Dataset {
  const path = resolveDataPath(spec, specPath, opts);
  const format = detectFormat(spec, specPath);
  const loaderOpts: LoaderOptions = { maxRows: spec.limit, maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES };
  const { fd, readPath } = openPinned(path, specPath, opts);
  try {
    refuseForeignContent(fd, path);
    const ds = readFormat(format, readPath, loaderOpts, spec);
    return ds.source === readPath ? { ...ds, source: path } : ds;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) {
      throw new UserError(`cannot read the data file: ${(e as Error).message.split(readPath).join(shownPath(path))}`, { file: path });
    }
    throw shownAs(e, readPath, path);
  } finally {
    closeSync(fd);
  }
}

/** A Parquet, HDF5, workbook, … file under a name of a format read here (data.csv that is an .xlsx) is named as what it is. */
function refuseForeignContent(fd: number, file: string): void {
  const head = Buffer.alloc(FOREIGN_HEAD_BYTES);
  const problem = foreignFormatByContent(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
  if (problem) throw new UserError(`data file ${shownPath(file)} ${problem}`, { file, offset: 0 });
}

function readFormat(format: DataFormat, path: string, loaderOpts: LoaderOptions, { header, layout }: FileDataSpec): Dataset {
  switch (format) {
    case 'csv':
      return readCsvFile(path, { ...loaderOpts, header });
    case 'npy':
      return readNpyFile(path, { ...loaderOpts, layout });
    case 'idx':
      return readIdxFile(path, loaderOpts);
    case 'json':
      return readJsonFile(path, loaderOpts);
  }
}
