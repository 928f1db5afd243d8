/**
 * scripts/setup-tests.mjs (what `npm test` runs first) against a fake dpkg-query and apt-get put
 * first on PATH: the real packages of this machine are never touched. The fakes keep a list of
 * "missing" packages in a file; the fake apt-get either installs (removes them from the list) or
 * fails the way apt-get does without a network.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..', '..');
const script = path.join(root, 'scripts', 'setup-tests.mjs');

const FAKE_DPKG_QUERY = `#!/bin/sh
# Every package is installed except the ones listed in $FAKE_MISSING.
PATH="$PATH:/usr/bin:/bin"
shift 2
rc=0
for p in "$@"; do
  if grep -qx "$p" "$FAKE_MISSING"; then echo "dpkg-query: no packages found matching $p" >&2; rc=1
  else echo "$p install ok installed"; fi
done
exit $rc
`;
const FAKE_APT_GET = `#!/bin/sh
PATH="$PATH:/usr/bin:/bin"
echo "fake apt-get $*"
[ "$1" = install ] || exit 0
if [ "$FAKE_APT" = fail ]; then
  echo "Err:1 http://127.0.0.1/debian bookworm/main amd64 dataset-fashion-mnist"
  echo "E: Failed to fetch http://127.0.0.1/debian/pool/main/d/dataset-fashion-mnist.deb  Temporary failure resolving '127.0.0.1'"
  exit 100
fi
sleep "\${FAKE_APT_SLEEP:-0}"
for p in "$@"; do grep -vx -- "$p" "$FAKE_MISSING" > "$FAKE_MISSING.new"; mv "$FAKE_MISSING.new" "$FAKE_MISSING"; done
echo "Setting up $2 ..."
`;

interface Fake {
  dir: string;
  bin: string;
  missingFile: string;
}

/** A folder with fake dpkg-query (and apt-get unless `withApt` is false), readable by anyone. */
function fake(missing: string[], withApt = true): Fake {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-setup-'));
  fs.chmodSync(dir, 0o777);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'dpkg-query'), FAKE_DPKG_QUERY, { mode: 0o755 });
  if (withApt) fs.writeFileSync(path.join(bin, 'apt-get'), FAKE_APT_GET, { mode: 0o755 });
  const missingFile = path.join(dir, 'missing.txt');
  fs.writeFileSync(missingFile, missing.map((m) => `${m}\n`).join(''), { mode: 0o666 });
  return { dir, bin, missingFile };
}

function setup(f: Fake, args: string[], env: Record<string, string> = {}, path_ = `${f.bin}:/usr/bin:/bin`, uid?: number) {
  const r = spawnSync(process.execPath, [script, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: path_, HOME: f.dir, FAKE_MISSING: f.missingFile, VAE_LENS_E2E_CACHE: path.join(f.dir, 'cache'), ...env },
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, `a stack trace was printed:\n${s}`);

test('apt-get failing (no network): one message naming what is missing and the install command, exit 1', () => {
  const f = fake(['dataset-fashion-mnist', 'python3-torch']);
  const r = setup(f, ['debian'], { FAKE_APT: 'fail' });
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.err, /the tests cannot run here yet: apt-get install failed \(exit 100: E: Failed to fetch/);
  assert.match(r.err, /Missing:\n {2}dataset-fashion-mnist +Fashion-MNIST, read by the IDX loader tests\n {2}python3-torch +PyTorch/);
  assert.match(r.err, /apt-get install -y --no-install-recommends dataset-fashion-mnist python3-torch\n/);
  // Exactly one message, listing only what is missing.
  assert.equal(r.err.match(/cannot run here/g)?.length, 1);
  assert.doesNotMatch(r.err, /chromium/);
  assert.doesNotMatch(r.out, /ready for the tests/);
  noStack(r.err);
  assert.match(fs.readFileSync(path.join(f.dir, 'cache', 'setup-logs', 'apt-get-install.log'), 'utf8'), /Temporary failure resolving/);
});

test('no apt-get on PATH: the message says so and lists the packages', () => {
  const f = fake(['chromium'], false);
  // Only the fakes: the machine's real apt-get must not be found.
  const r = setup(f, ['debian'], {}, f.bin);
  assert.equal(r.code, 1);
  assert.match(r.err, /apt-get is not on PATH/);
  assert.match(r.err, /Missing:\n {2}chromium +the browser/);
  assert.match(r.err, /apt-get install -y --no-install-recommends chromium\n/);
  noStack(r.err);
});

test('not root and no sudo: the message says so and the command uses sudo', () => {
  const f = fake(['python3-pytest']);
  // As root (CI), run the script as "nobody"; a PATH without sudo either way.
  const asRoot = process.getuid?.() === 0;
  const r = setup(f, ['debian'], {}, `${f.bin}:${path.dirname(process.execPath)}`, asRoot ? 65534 : undefined);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.err, /this is not root and sudo is not installed/);
  assert.match(r.err, /sudo apt-get update && sudo apt-get install -y --no-install-recommends python3-pytest/);
  noStack(r.err);
});

test('missing packages are installed with a progress line and the time taken; a second run only checks', () => {
  const f = fake(['dataset-fashion-mnist', 'chromium']);
  const first = setup(f, ['debian'], { FAKE_APT_SLEEP: '2.5', VAE_LENS_SETUP_PROGRESS_SECONDS: '1' });
  assert.equal(first.code, 0, first.out + first.err);
  assert.match(first.out, /missing Debian packages: dataset-fashion-mnist chromium/);
  assert.match(first.out, /apt-get install dataset-fashion-mnist chromium: still running, \d+ s/);
  assert.match(first.out, /installed 2 Debian packages in \d+ s/);
  assert.equal(fs.readFileSync(f.missingFile, 'utf8'), '');

  const second = setup(f, ['debian']);
  assert.equal(second.code, 0, second.err);
  assert.match(second.out, /\d+ Debian packages present \(checked in [\d.]+ s\)/);
  assert.doesNotMatch(second.out, /apt-get/);
});

test('--check installs nothing and fails on what is missing', () => {
  const f = fake(['python3-hypothesis']);
  const r = setup(f, ['debian', '--check']);
  assert.equal(r.code, 1);
  assert.match(r.err, /python3-hypothesis +hypothesis/);
  assert.equal(fs.readFileSync(f.missingFile, 'utf8'), 'python3-hypothesis\n');
  assert.ok(!fs.existsSync(path.join(f.dir, 'cache', 'setup-logs', 'apt-get-update.log')), 'apt-get ran under --check');
});

test('code-server failing to set up stops the tests with the command that sets it up', () => {
  const f = fake([]);
  // A cache folder that cannot be created (a file stands in its way) makes setup-code-server.sh fail at once.
  const blocked = path.join(f.dir, 'blocked');
  fs.writeFileSync(blocked, '');
  const r = setup(f, ['code-server'], { VAE_LENS_E2E_CACHE: path.join(blocked, 'cache') });
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.err, /setting up code-server failed \(exit \d+/);
  assert.match(r.err, /code-server +VS Code for the end-to-end tests/);
  assert.match(r.err, /bash .*scripts\/setup-code-server\.sh/);
  noStack(r.err);
});
