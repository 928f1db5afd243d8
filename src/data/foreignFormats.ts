/**
 * Files of formats VAE Lens does not read (Parquet, HDF5, Feather, spreadsheets, pickles, MATLAB,
 * archives, compressors other than gzip),
 * told by their name or their first bytes, with what to write instead. Each problem reads after
 * the file's name: `"x.parquet" is a Parquet file; …`.
 */

interface ForeignFormat {
  /** Name endings (lower case, with the dot). */
  extensions: readonly string[];
  /** Whether the file's first bytes are this format's. */
  starts?: (head: Buffer) => boolean;
  problem: string;
}

const READS = 'VAE Lens reads CSV, NPY, IDX and JSON files';

const startsWith = (text: string) => (head: Buffer) => head.length >= text.length && head.toString('latin1', 0, text.length) === text;

const FORMATS: readonly ForeignFormat[] = [
  {
    extensions: ['.parquet', '.pq'],
    starts: startsWith('PAR1'),
    problem: `is a Parquet file; ${READS}: write the table as an array with pandas, np.save("data.npy", pd.read_parquet("data.parquet").to_numpy("float32")), and point data.path at that`,
  },
  {
    extensions: ['.h5', '.hdf5', '.hdf', '.he5'],
    starts: startsWith('\x89HDF\r\n\x1a\n'),
    problem: `is an HDF5 file (h5py, pandas' to_hdf, Keras), which holds named datasets; ${READS}: write the one you want with np.save("data.npy", h5py.File("data.h5")["name"][:]) and point data.path at that`,
  },
  {
    extensions: ['.feather', '.arrow', '.ipc'],
    starts: (head) => startsWith('ARROW1')(head) || startsWith('FEA1')(head),
    problem: `is a Feather (Arrow) file; ${READS}: write the table as an array with pandas, np.save("data.npy", pd.read_feather("data.feather").to_numpy("float32")), and point data.path at that`,
  },
  {
    extensions: ['.xlsx', '.xlsm', '.xls', '.ods'],
    starts: (head) => isOle2(head) || isSpreadsheetZip(head),
    problem: `is a spreadsheet workbook; ${READS}: save the sheet as CSV (File > Save As, "CSV"), or with pandas pd.read_excel("data.xlsx").to_csv("data.csv", index=False), and point data.path at that`,
  },
  {
    extensions: ['.pkl', '.pickle', '.joblib'],
    starts: (head) => head.length >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5,
    problem: `is a Python pickle, which VAE Lens never loads (unpickling runs code from the file); ${READS}: write the array with np.save("data.npy", array) and point data.path at that`,
  },
  {
    extensions: ['.mat'],
    starts: startsWith('MATLAB '),
    problem: `is a MATLAB .mat file; ${READS}: write the variable with np.save("data.npy", scipy.io.loadmat("data.mat")["name"]) and point data.path at that`,
  },
  {
    extensions: ['.zip'],
    starts: isZip,
    problem:
      'is a zip archive (a download of several files, an .npz of arrays from np.savez, a torch.save file); VAE Lens reads one file of data: ' +
      'unzip the one you want and point data.path at it, or write the array with np.save("data.npy", array)',
  },
  {
    extensions: ['.tar', '.tgz', '.7z', '.rar'],
    starts: (head) => startsWith('7z\xbc\xaf\x27\x1c')(head) || startsWith('Rar!\x1a\x07')(head) || isTar(head),
    problem: 'is an archive of files; VAE Lens reads one file of data: extract the one you want (tar -xf, 7z x, unrar x) and point data.path at it',
  },
  {
    extensions: ['.bz2', '.xz', '.lzma', '.zst'],
    starts: (head) => startsWith('BZh')(head) || startsWith('\xfd7zXZ\x00')(head) || startsWith('\x28\xb5\x2f\xfd')(head),
    problem:
      'is compressed with bzip2, xz or zstd; VAE Lens decompresses gzip only: decompress the file (bunzip2, unxz, unzstd) or compress it with gzip instead',
  },
];

function isZip(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === 0x04034b50;
}

/** A POSIX tar archive: "ustar" at byte 257 of its first header block. */
const isTar = (head: Buffer) => head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar';

/** Old Excel (.xls) and other Microsoft compound documents. */
function isOle2(head: Buffer): boolean {
  const magic = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

/** A zip whose first entry is a workbook's (.xlsx: [Content_Types].xml, xl/, _rels/, docProps/; .ods: mimetype). */
function isSpreadsheetZip(head: Buffer): boolean {
  if (head.length < 30 || !isZip(head)) return false;
  const nameLength = head.readUInt16LE(26);
  const name = head.toString('latin1', 30, Math.min(head.length, 30 + nameLength));
  if (name === 'mimetype') return head.includes('opendocument.spreadsheet', 30, 'latin1');
  return /^(\[Content_Types\]\.xml|xl\/|_rels\/|docProps\/)/.test(name);
}

/** Bytes enough to tell every format above (a tar archive's mark is at byte 257). */
export const FOREIGN_HEAD_BYTES = 512;

/** What is wrong with a file of this (lower-case) name, undefined for names of no format above. */
export function foreignFormatByName(name: string): string | undefined {
  return FORMATS.find((f) => f.extensions.some((e) => name.endsWith(e)))?.problem;
}

/** What is wrong with a file that starts with these bytes, undefined when they are no format above. */
export function foreignFormatByContent(head: Buffer): string | undefined {
  return FORMATS.find((f) => f.starts?.(head))?.problem;
}
