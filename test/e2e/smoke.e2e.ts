// The harness's own test: every Workbench action, on the probe extension in a real code-server.
// If this fails, the harness (or the machine) is broken, not VAE Lens.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWorkbench, type CodeServerWorkbench } from './harness';
import { probeVsix } from './vsix';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await sleep(250);
    value = await read();
  }
  return value;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('e2e harness on the probe extension', { timeout: 300_000 }, () => {
  let scratch = '';
  let wb: CodeServerWorkbench | undefined;
  const workbench = (): CodeServerWorkbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vae-lens-smoke-'));
    const workspace = join(scratch, 'workspace');
    mkdirSync(workspace);
    writeFileSync(join(workspace, 'sample.probe'), 'a good line\nthis one is bad\n');
    writeFileSync(join(workspace, 'notes.txt'), 'nothing to see\n');
    wb = await launchWorkbench({ vsix: probeVsix(scratch), workspace, label: 'smoke', copyWorkspace: false });
  });

  after(async () => {
    await wb?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('starts code-server and shows the workbench', (t) => {
    const { installMs, serverReadyMs, workbenchReadyMs } = workbench().timings;
    t.diagnostic(`install ${installMs} ms, server ready ${serverReadyMs} ms, workbench ready ${workbenchReadyMs} ms`);
    assert.ok(workbenchReadyMs >= serverReadyMs);
  });

  it("shows the extension's status bar item once the extension host is up", async () => {
    assert.equal(await workbench().waitForStatusBar(/^Probe: ready$/, 90_000), 'Probe: ready');
  });

  it('runs a palette command by its title', async () => {
    await workbench().runCommand('Probe: Count Up');
    assert.equal(await workbench().waitForStatusBar(/^Probe: \d+$/), 'Probe: 1');
    assert.equal(await workbench().statusBarText('Probe: ready'), undefined);
  });

  it('finds an element inside a webview panel and sees it update', async () => {
    await workbench().runCommand('Probe: Show Panel');
    const frame = await workbench().findWebviewFrame('#probe-title', 60_000);
    assert.equal(await frame.textContent('#probe-count'), '1');
    await workbench().runCommand('Probe: Count Up');
    const count = await eventually(
      () => frame.textContent('#probe-count'),
      (c) => c === '2',
      10_000,
    );
    assert.equal(count, '2');
    const shot = await workbench().screenshot('probe-panel');
    assert.ok(statSync(shot).size > 10_000, `${shot} looks empty`);
  });

  it('opens a file by its workspace path and reads its problems', async () => {
    await workbench().openFile('sample.probe');
    const problems = await workbench().waitForProblems((p) => p.length > 0, 20_000);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.deepEqual(
      { severity: problems[0].severity, message: problems[0].message, file: problems[0].file, line: problems[0].line, column: problems[0].column },
      { severity: 'error', message: 'probe found "bad"', file: 'sample.probe', line: 2, column: 13 },
    );
  });

  it('fails clearly, with a screenshot, when a command does not exist', async () => {
    await assert.rejects(workbench().runCommand('Probe: No Such Command'), (err: Error) => {
      assert.match(err.message, /running command "Probe: No Such Command" failed: nothing labelled/);
      const shot = /screenshot: (\S+\.png)/.exec(err.message)?.[1];
      assert.ok(shot && existsSync(shot), err.message);
      return true;
    });
  });

  it('reloads the window and gets a fresh extension host', async () => {
    await workbench().reloadWindow();
    assert.equal(await workbench().waitForStatusBar(/^Probe: ready$/, 90_000), 'Probe: ready');
  });

  it('close() ends code-server and Chromium and removes its temp folder', async () => {
    const { processIds, tempRoot } = workbench();
    await workbench().close();
    await workbench().close();
    assert.equal(isRunning(processIds.codeServer), false, 'code-server still running');
    assert.equal(isRunning(processIds.chromium), false, 'Chromium still running');
    assert.equal(existsSync(tempRoot), false);
  });
});
