/**
 * What to say of an .npy file whose dtype or shape is not read, with the NumPy line that writes one
 * that is. `a` in the advice is the user's array; `path` the file to point data.path at.
 */
import type { PyValue } from './pyLiteral';

export const READ_DTYPES = '<f2, <f4, <f8, |b1, |u1, |i1, <i2, <u2, <i4, <u4, <i8, <u8 (and big-endian ">" forms)';

const AS_FLOAT64 = 'np.save(path, a.astype(np.float64))';

/** The message for a plain dtype string that is not read (`ndim`: the array's number of axes). */
export function unreadDtypeMessage(descr: string, ndim: number): string {
  const { holds, fix } = unreadDtype(descr, ndim);
  return `dtype ${JSON.stringify(descr)}${holds ? ` (${holds})` : ''} is not supported: ${fix}; VAE Lens reads ${READ_DTYPES}`;
}

function unreadDtype(descr: string, ndim: number): { holds?: string; fix: string } {
  const m = /^[<>|=]?([A-Za-z])(\d*)/.exec(descr);
  const kind = m?.[1] ?? '';
  const bytes = Number(m?.[2] || 0);
  switch (kind) {
    case 'f':
      if (bytes > 8)
        return {
          holds: `long double, np.longdouble: ${bytes * 8}-bit floats, wider than float64`,
          fix: `save it as float64, ${AS_FLOAT64}`,
        };
      break;
    case 'c':
      return { holds: `complex numbers of ${bytes * 8} bits`, fix: `save their real and imaginary parts as columns, ${complexFix(ndim, bytes > 16)}` };
    case 'O':
      return {
        holds: 'Python objects, stored pickled, which VAE Lens never unpickles',
        fix: 'save the numbers as a float array, np.save(path, np.asarray(a, dtype=np.float64))',
      };
    case 'U':
    case 'S':
      return { holds: 'text', fix: `convert it to numbers first, ${AS_FLOAT64} if the text holds numbers` };
    case 'M':
    case 'm':
      return { holds: 'dates or time spans', fix: 'convert them to numbers first, e.g. np.save(path, a.astype("int64").astype(np.float64))' };
    case 'V':
      return {
        holds: 'raw bytes, np.void, with no numbers VAE Lens can read in them',
        fix: 'save the numbers they stand for as a float array, np.save(path, numbers.astype(np.float64))',
      };
  }
  return { fix: `save it as float64, ${AS_FLOAT64}` };
}

/** Real and imaginary parts side by side, as one row's values (one more axis of 2 for 1-D arrays). */
function complexFix(ndim: number, wide: boolean): string {
  const parts = ndim <= 1 ? 'np.stack([a.real, a.imag], axis=1)' : `np.concatenate([a.real, a.imag], axis=${ndim === 2 ? 1 : -1})`;
  return `np.save(path, ${parts}${wide ? '.astype(np.float64)' : ''})`;
}

/** The message for a header whose descr is a list of fields (a structured, record array) or no string at all. */
export function structuredDtypeMessage(descr: PyValue | undefined): string {
  if (!Array.isArray(descr) || descr.length === 0)
    return `the NPY header's 'descr' is ${descr === undefined ? 'missing' : JSON.stringify(descr)}, not a dtype such as '<f4'; the file is damaged or was not written by np.save: write it again with ${AS_FLOAT64}`;
  const fields = descr.map(fieldOf);
  const shown = fields.slice(0, 5).map((f) => `${JSON.stringify(f.name)} (${f.dtype}${f.shape})`);
  const more = fields.length > 5 ? ` and ${fields.length - 5} more` : '';
  const numeric = fields.filter((f) => /^[<>|=]?[fiub]\d+$/.test(f.dtype)).map((f) => JSON.stringify(f.name));
  const intro = `the array is a structured (record) array with fields ${shown.join(', ')}${more}; VAE Lens reads plain numeric arrays: `;
  if (numeric.length === 0)
    return `${intro}none of its fields holds plain numbers; convert the ones to train on to numbers and save them as one float array, np.save(path, numbers.astype(np.float64))`;
  return (
    `${intro}save its numeric fields as the columns of one float array, ` +
    `from numpy.lib import recfunctions as rfn; np.save(path, rfn.structured_to_unstructured(a[[${numeric.join(', ')}]]).astype(np.float64))` +
    (numeric.length < fields.length ? ' (the other fields hold no plain numbers)' : '')
  );
}

/** A field of a structured descr, [name, dtype] or [name, dtype, shape] (a nested record's dtype shown as "record"). */
function fieldOf(field: PyValue): { name: string; dtype: string; shape: string } {
  if (!Array.isArray(field)) return { name: '?', dtype: '?', shape: '' };
  const name = Array.isArray(field[0]) ? String(field[0][1] ?? field[0][0]) : String(field[0] ?? '?');
  const dtype = typeof field[1] === 'string' ? field[1] : 'record';
  return { name, dtype, shape: Array.isArray(field[2]) ? `, ${field[2].join('×')} each` : '' };
}

/** The message for a shape that is not 1- to 4-D. */
export function unreadShapeMessage(shape: readonly number[]): string {
  if (shape.length === 0)
    return 'the array holds a single value (a 0-d array, shape ()), not rows of data: check that the array saved is the data, np.save(path, data) with data of shape (N, D)';
  return (
    `the array has shape (${shape.join(', ')}), ${shape.length} axes; VAE Lens reads 1-D (N,), 2-D (N, D) or image (N, H, W) and (N, H, W, C) arrays: ` +
    'save each example as one flat row, np.save(path, a.reshape(len(a), -1)), or as images of at most 3 axes'
  );
}
