/**
 * Every dtype and shape numpy writes that VAE Lens does not read gets a message naming it and the
 * NumPy line that writes one it does read: files made by numpy itself, and the line in each message
 * run on them, whose output must then load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isUserError, type UserError } from '../../src/core/errors';
import { parseNpy, readNpyFile } from '../../src/data/npy';
import { assertWellFormed, expectUserError, npyBytes, tempDir } from './data-testkit';

const PYTHON = '/usr/bin/python3';

function python(script: string, ...args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${PYTHON} failed (numpy is a test requirement: python3-numpy): ${r.stderr}`);
  return r.stdout;
}

function refusal(path: string): UserError {
  try {
    readNpyFile(path);
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
  assert.fail(`${path} was read`);
}

/** The NumPy line a message gives: "np.save(path, …)", with the import before it when it has one. */
function adviceOf(message: string): string | undefined {
  const start = message.indexOf('np.save(path, ');
  if (start < 0) return undefined;
  let depth = 0;
  let end = start;
  for (; end < message.length; end++) {
    if (message[end] === '(') depth++;
    else if (message[end] === ')' && --depth === 0) break;
  }
  const imports = 'from numpy.lib import recfunctions as rfn; ';
  const from = start - imports.length;
  return message.slice(from >= 0 && message.startsWith(imports, from) ? from : start, end + 1);
}

// Arrays numpy writes, each as `name: expression` over r = np.arange(6.0) / 4 - 0.5 (values exact in float32).
const ARRAYS: Record<string, string> = {
  'longdouble-1d': 'r.astype(np.longdouble)',
  'longdouble-2d': 'r.reshape(3, 2).astype(np.longdouble)',
  'longdouble-big-endian': 'r.reshape(3, 2).astype(np.longdouble).astype(np.dtype(np.longdouble).newbyteorder(">"))',
  'complex64-1d': 'r.astype(np.complex64) + 0.5j',
  'complex128-2d': 'r.reshape(3, 2).astype(np.complex128) - 1j',
  'clongdouble-2d': 'r.reshape(3, 2).astype(np.clongdouble) * (1 + 1j)',
  'complex128-3d': 'r.reshape(3, 2, 1).astype(np.complex128)',
  'complex128-big-endian': 'r.reshape(3, 2).astype(">c16")',
  'object-numbers': 'np.array(r.reshape(3, 2).tolist(), dtype=object)',
  'unicode-numbers': 'r.reshape(3, 2).astype(str)',
  'bytes-numbers': 'r.reshape(3, 2).astype("S8")',
  datetime: 'np.array([0, 1, 2], dtype="datetime64[D]")',
  'timedelta-big-endian': 'np.array([0, 1, 2], dtype=">m8[s]")',
  structured: 'np.array([(0.5, 1), (1.5, 2), (2.5, 3)], dtype=[("x", "<f4"), ("y", "<i4")])',
  'structured-with-text': 'np.array([(0.5, "a"), (1.5, "b")], dtype=[("x", "<f8"), ("name", "<U3")])',
  'structured-subarray': 'np.zeros(3, dtype=[("xy", "<f4", (2,)), ("w", ">f8")])',
  'five-axes': 'r.reshape(1, 3, 2, 1, 1)',
};

test('npy: every dtype and shape numpy writes that is not read names itself and a NumPy line that writes a file that is (numpy-made, advice run)', () => {
  const dir = tempDir();
  const names = Object.keys(ARRAYS);
  python(
    `import sys, numpy as np
r = np.arange(6.0) / 4 - 0.5
for name, expr in zip(sys.argv[2::2], sys.argv[3::2]):
    np.save(sys.argv[1] + "/" + name + ".npy", eval(expr), allow_pickle=True)`,
    dir,
    ...names.flatMap((n) => [n, ARRAYS[n]!]),
  );
  const advice: Array<{ name: string; line: string }> = [];
  for (const name of names) {
    const path = join(dir, `${name}.npy`);
    const err = refusal(path);
    assert.equal(err.location.file, path, name);
    assert.doesNotMatch(err.message, /\n|\bat \w+ \(/, `${name}: one line, no stack: ${err.message}`);
    if (name === 'five-axes') assert.match(err.message, /shape \(1, 3, 2, 1, 1\), 5 axes/);
    else if (name.startsWith('structured')) assert.match(err.message, /structured \(record\) array with fields "/, name);
    else assert.match(err.message, /^dtype "[<>|=][A-Za-z]\d*(\[\w+\])?" \(/, `${name}: ${err.message}`);
    if (name.startsWith('longdouble'))
      assert.match(err.message, /long double, np\.longdouble: \d+-bit floats.*np\.save\(path, a\.astype\(np\.float64\)\)/, name);
    const line = adviceOf(err.message);
    assert.ok(line, `${name}: no NumPy line in ${err.message}`);
    advice.push({ name, line });
  }
  // Each line run on its own array (`a`, as the user has it) writes a file VAE Lens reads.
  python(
    `import sys, json, numpy as np
for item in json.loads(sys.argv[2]):
    a = np.load(sys.argv[1] + "/" + item["name"] + ".npy", allow_pickle=True)
    path = sys.argv[1] + "/" + item["name"] + ".fixed.npy"
    exec(item["line"])`,
    dir,
    JSON.stringify(advice),
  );
  for (const { name, line } of advice) {
    const ds = readNpyFile(join(dir, `${name}.fixed.npy`));
    assertWellFormed(ds);
    assert.ok(ds.n >= 1, `${name}: ${line}`);
    if (name.startsWith('longdouble') || name === 'unicode-numbers' || name === 'object-numbers' || name === 'bytes-numbers') {
      assert.deepEqual(Array.from(ds.values).slice(0, 6), [-0.5, -0.25, 0, 0.25, 0.5, 0.75], `${name}: ${line}`);
    }
    if (name === 'structured') assert.deepEqual([ds.n, ds.dim, ...ds.values], [3, 2, 0.5, 1, 1.5, 2, 2.5, 3], line);
    if (name.startsWith('complex') || name.startsWith('clong')) assert.equal(ds.n * ds.dim, 12, `${name}: real and imaginary parts, ${line}`);
  }
});

test('npy: long double and complex dtypes written by hand (every byte order and width) name the dtype and np.save(path, a.astype(np.float64))', () => {
  for (const order of ['<', '>', '=', ''])
    for (const bytes of [10, 12, 16]) {
      const descr = `${order}f${bytes}`;
      const err = expectUserError(
        () => parseNpy(npyBytes(descr, [2], new Uint8Array(2 * bytes)), 'a.npy'),
        new RegExp(
          `^dtype ${JSON.stringify(descr)} \\(long double, np\\.longdouble: ${bytes * 8}-bit floats, wider than float64\\) is not supported: save it as float64, `,
        ),
        { file: 'a.npy', offset: 10 },
      );
      assert.match(err.message, /np\.save\(path, a\.astype\(np\.float64\)\)/);
    }
  for (const [descr, shape, fix] of [
    ['<c16', [2], 'np.stack([a.real, a.imag], axis=1)'],
    ['>c8', [2, 1], 'np.concatenate([a.real, a.imag], axis=1)'],
    ['<c32', [2, 1], 'np.concatenate([a.real, a.imag], axis=1).astype(np.float64)'],
    ['<c16', [1, 1, 1], 'np.concatenate([a.real, a.imag], axis=-1)'],
  ] as const) {
    const err = expectUserError(() => parseNpy(npyBytes(descr, [...shape], new Uint8Array(64)), 'a.npy'), /complex numbers of \d+ bits/, { file: 'a.npy' });
    assert.ok(err.message.includes(`np.save(path, ${fix})`), err.message);
  }
});

test('npy: a 0-d array (one value) and arrays of more than 4 axes say what they are and what to save', () => {
  expectUserError(
    () => parseNpy(npyBytes('<f8', [], new Uint8Array(8)), 'a.npy'),
    /^the array holds a single value \(a 0-d array, shape \(\)\), not rows of data/,
    { file: 'a.npy' },
  );
  for (const shape of [
    [2, 1, 1, 1, 1],
    [3, 2, 2, 2, 2, 2],
  ])
    expectUserError(
      () => parseNpy(npyBytes('|u1', shape, new Uint8Array(shape.reduce((a, b) => a * b, 1))), 'a.npy'),
      new RegExp(`shape \\(${shape.join(', ')}\\), ${shape.length} axes; .*np\\.save\\(path, a\\.reshape\\(len\\(a\\), -1\\)\\)`),
      { file: 'a.npy' },
    );
});

test('npy: every dtype read, in both byte orders, C and Fortran order, 1-D to 4-D, gives the values numpy holds (numpy-made files)', () => {
  const dir = tempDir();
  const listing = python(
    `import sys, json, numpy as np
out = []
for kind in ["f2", "f4", "f8", "b1", "u1", "i1", "i2", "u2", "i4", "u4", "i8", "u8"]:
    for order in ["<", ">"]:
        dt = np.dtype(("|" if kind in ("b1", "u1", "i1") else order) + kind)
        for shape in [(5,), (5, 3), (4, 3, 2), (3, 2, 5, 2)]:
            for fortran in [False, True]:
                n = int(np.prod(shape))
                v = np.arange(n) % 7 - (3 if kind[0] in "fi" else 0)
                a = (v != 0) if kind == "b1" else (v / 4 if kind[0] == "f" else v)
                a = np.asarray(a, dtype=dt).reshape(shape)
                if fortran: a = np.asfortranarray(a)
                name = f"{dt.str.replace('<', 'le').replace('>', 'be').replace('|', '')}-{'x'.join(map(str, shape))}-{'F' if fortran else 'C'}"
                np.save(sys.argv[1] + "/" + name + ".npy", a)
                out.append({"name": name, "shape": list(shape), "values": a.astype(np.float64).ravel(order="C").tolist()})
print(json.dumps(out))`,
    dir,
  );
  const files = JSON.parse(listing) as Array<{ name: string; shape: number[]; values: number[] }>;
  assert.equal(files.length, 12 * 2 * 4 * 2);
  for (const { name, shape, values } of files) {
    const ds = readNpyFile(join(dir, `${name}.npy`));
    assertWellFormed(ds);
    assert.deepEqual([ds.n, ds.dim], [shape[0], values.length / shape[0]!], name);
    assert.deepEqual(Array.from(ds.values), values.map(Math.fround), name);
  }
});
