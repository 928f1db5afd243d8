/**
 * Files that tests read from Debian packages. `npm test` installs the packages first
 * (scripts/setup-tests.mjs); a test that finds one missing fails and says how to get it, rather
 * than skipping: a green run must have run everything it lists.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const SKLEARN_DIGITS = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';

/** Fails the calling test, naming the package to install, when `file` is missing. */
export function requireMachineFile(file: string, debianPackage: string): void {
  assert.ok(
    existsSync(file),
    `${file} is missing: install the Debian package ${debianPackage} (\`node scripts/setup-tests.mjs\` does, and \`npm test\` runs it first)`,
  );
}
