// What the test suites need from the machine, each with the reason a contributor sees when it is
// missing. `npm test` (scripts/setup-tests.mjs) installs these before the first test runs.

/** @typedef {{ name: string, for: string }} DebianPackage */

/** @type {DebianPackage[]} */
export const DEBIAN_PACKAGES = [
  // Data the unit tests read.
  { name: 'dataset-fashion-mnist', for: 'Fashion-MNIST, read by the IDX loader tests' },
  { name: 'python3-sklearn', for: "scikit-learn's digits.csv.gz, read by the CSV loader tests" },
  // The end-to-end tests and `vae-lens report --png`.
  { name: 'chromium', for: 'the browser that drives VS Code (code-server) in the end-to-end tests' },
  // Headers and tools code-server's native modules build against (scripts/setup-code-server.sh).
  { name: 'build-essential', for: "compiling code-server's native modules" },
  { name: 'pkg-config', for: "compiling code-server's native modules" },
  { name: 'libkrb5-dev', for: "code-server's native modules (kerberos)" },
  { name: 'libx11-dev', for: "code-server's native modules (native-keymap)" },
  { name: 'libxkbfile-dev', for: "code-server's native modules (native-keymap)" },
  { name: 'libsecret-1-dev', for: "code-server's native modules (keytar)" },
  // The Python tests (python/tests, run with /usr/bin/python3 -m pytest) and the PyTorch anchor.
  { name: 'python3-torch', for: 'PyTorch, for the Python companion tests' },
  { name: 'libopenblas0-pthread', for: "OpenBLAS: PyTorch's matrix products (the reference BLAS is ~20x slower)" },
  { name: 'python3-numpy', for: 'numpy, for the Python companion tests' },
  { name: 'python3-pytest', for: 'pytest, which runs the Python tests' },
  { name: 'python3-hypothesis', for: 'hypothesis, property tests in the Python tests' },
];

/** Modules /usr/bin/python3 must import once the packages are in (checked right after an install). */
export const PYTHON = '/usr/bin/python3';
export const PYTHON_MODULES = ['torch', 'numpy', 'pytest', 'hypothesis', 'sklearn'];
