// Ending a process with the processes it started: the group on POSIX, taskkill's tree on Windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { killProcessTree, signalQuietly } from '../../src/core/processTree';
import { isProcessAlive as alive } from '../../src/core/run/liveness';

async function until(ok: () => boolean, ms = 3000): Promise<boolean> {
  for (const t0 = performance.now(); performance.now() - t0 < ms; await new Promise((r) => setTimeout(r, 30))) if (ok()) return true;
  return ok();
}

/** A detached parent that starts a child and prints the child's pid. */
async function family(): Promise<{ parent: number; child: number }> {
  const parent = spawn(
    process.execPath,
    [
      '-e',
      "const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000)",
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const child = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  return { parent: parent.pid!, child };
}

test('a group kill ends the leader and the process it started; a plain kill leaves that process', { skip: process.platform === 'win32' }, async () => {
  const a = await family();
  killProcessTree(a.parent, { group: true });
  assert.ok(await until(() => !alive(a.parent) && !alive(a.child)), 'the group outlived its kill');

  const b = await family();
  killProcessTree(b.parent, { group: false });
  assert.ok(await until(() => !alive(b.parent)));
  const orphan = alive(b.child);
  signalQuietly(b.child, 'SIGKILL');
  assert.ok(orphan, 'a kill of the pid alone reaches only that process');
});

test('where taskkill cannot be run, the Windows path still ends the process itself', { skip: process.platform === 'win32' }, async () => {
  const a = await family();
  killProcessTree(a.parent, { group: false }, 'win32');
  const gone = await until(() => !alive(a.parent));
  signalQuietly(a.child, 'SIGKILL');
  signalQuietly(a.parent, 'SIGKILL');
  assert.ok(gone);
});

test('a process already gone is no error', () => {
  assert.doesNotThrow(() => killProcessTree(2 ** 22 + 12345, { group: true }));
  assert.equal(signalQuietly(2 ** 22 + 12345, 'SIGKILL'), false);
});
