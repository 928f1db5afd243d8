// Train VAE on a spec that runs a PyTorch training script (trainer.command): the example in
// examples/pytorch-fashion-mnist, shortened (few images per epoch). The panel charts the points the
// Python process writes, the status bar follows the run, Stop sends SIGINT and the run reads
// stopped, and the status bar then shows the verdict the reader computes for a Python run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { repoRoot } from './paths';
import { isProcessAlive, waitForRun } from './runFolders';
import { makeWorkspace } from './specFixtures';
import { seriesOf, waitForPanel } from './vaeLensPanel';
import type { Workbench } from './workbench';
import { CONVERGENCE_STATES } from '../../src/core/runFormat';
import { verdictLabel } from '../../src/core/verdictText';

const PYTHON = '/usr/bin/python3';
const EPOCHS = 400;
const EXAMPLE = (): string => join(repoRoot(), 'examples', 'pytorch-fashion-mnist');
// The shipped spec with a quick epoch (256 images) and an interpreter that has PyTorch on this machine.
const SPEC = `// The PyTorch example, shortened for the end-to-end test.
{
  "name": "pytorch-e2e",
  "trainer": { "command": [${JSON.stringify(PYTHON)}, "train.py", "--epochs", "${EPOCHS}", "--limit", "256", "--batch-size", "64"] },
  "diagnostics": { "window": 2 }
}
`;
const TRAINING = new RegExp(`^VAE (starting|epoch \\d+/${EPOCHS} \\(\\d+%\\))$`);
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Any verdict the status bar can show (the one wording in core/verdictText.ts), or stationary outside the theorem. */
const VERDICT = new RegExp(`^VAE (${[...CONVERGENCE_STATES.map((s) => verdictLabel(s)), 'stationary'].map(escapeRegExp).join('|')})`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Train VAE on a PyTorch training script', { timeout: 600_000, skip: !existsSync(PYTHON) && `needs ${PYTHON} with PyTorch` }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };
  let source = '';

  before(async () => {
    source = makeWorkspace({
      'pytorch.vae.json': SPEC,
      'train.py': readFileSync(join(EXAMPLE(), 'train.py'), 'utf8'),
      'model.py': readFileSync(join(EXAMPLE(), 'model.py'), 'utf8'),
    });
    wb = await launchVaeLens({ workspace: source, label: 'features-python-script' });
  });

  after(async () => {
    await wb?.close();
    if (source) rmSync(source, { recursive: true, force: true });
  });

  it('charts the records the Python process writes, shows training, and Stop ends it as stopped with a verdict', () =>
    withFailureScreenshot(wb, 'python-script', async () => {
      await workbench().openFile('pytorch.vae.json');
      assert.equal(await workbench().waitForStatusBar(/^VAE\b/, 120_000), 'VAE: no runs');
      await workbench().runCommand('VAE Lens: Train VAE');
      await workbench().waitForStatusBar(new RegExp(`^VAE epoch \\d+/${EPOCHS} `), 180_000);

      // The Python process (vae_lens, shipped in the .vsix) writes the run; its pid is in run.json.
      const running = await waitForRun(
        workbench().workspaceDir,
        (r) => r.meta?.backend.startsWith('pytorch') === true && r.records.length >= 3,
        180_000,
        'written by PyTorch with three records',
      );
      const pid = running.meta!.pid!;
      assert.ok(isProcessAlive(pid), `the Python process ${pid} is not running while the status bar says training`);
      const panel = await waitForPanel(workbench(), (p) => (p.charts['chart-elbo']?.[0]?.data.length ?? 0) >= 3, 60_000);
      const elbo = seriesOf(panel, 'chart-elbo', 'ELBO');
      for (const point of elbo.slice(0, 3)) {
        const record = running.records.find((r) => r.epoch === point.x);
        assert.ok(record && record.elbo !== null && Math.abs(point.y - record.elbo) <= 1e-9, `chart point ${JSON.stringify(point)} is not in metrics.jsonl`);
      }
      await workbench().screenshot('python-training');

      await workbench().runCommand('VAE Lens: Stop Training');
      const verdict = await workbench().waitForStatusBar(VERDICT, 60_000);
      await workbench().screenshot('python-stopped');
      assert.doesNotMatch(verdict, TRAINING);
      const stopped = await waitForRun(
        workbench().workspaceDir,
        (r) => r.dir === running.dir && r.summary !== undefined && r.summary.status !== 'running',
        30_000,
        'with a final summary',
      );
      assert.equal(stopped.summary?.status, 'stopped', `summary.json: ${JSON.stringify(stopped.summary)}`);
      assert.ok(stopped.records.length < EPOCHS + 1, 'the script ran to the end instead of stopping');
      const deadline = Date.now() + 15_000;
      while (isProcessAlive(pid) && Date.now() < deadline) await sleep(200);
      assert.equal(isProcessAlive(pid), false, `the Python process ${pid} is still running after Stop`);
    }));
});
