// Runs outside the default .vae-lens/runs folder, and starts that meet retrain on save:
// - a spec whose output.runsDir is a custom folder, trained by the command line while the editor is
//   open: the status bar follows the run it wrote there, and Open Run... offers it;
// - a runsDirectory setting written into the workspace's settings: the status bar shows the run in
//   that folder at once, without any file of the run changing;
// - Train VAE on an unsaved spec with vaeLens.retrainOnSave on: its own save starts nothing more,
//   so it trains without asking "already training: Stop and Restart?" about the run just started.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withFailureScreenshot } from './failureScreenshot';
import { launchVaeLens } from './launch';
import { repoRoot } from './paths';
import { makeWorkspace, swissRollVariant } from './specFixtures';
import type { Workbench } from './workbench';
import type { ConvergenceState, MetricsRecord } from '../../src/core/runFormat';
import { verdictLabel } from '../../src/core/verdictText';

const CUSTOM_SPEC = 'custom.vae.json';
const CUSTOM = `{ "name": "custom",
  "data": { "synthetic": "circle", "n": 256, "noise": 0.05, "seed": 1 },
  "model": { "type": "VAE-1", "latentDim": 2, "encoder": { "hidden": [16] }, "decoder": { "hidden": [16] } },
  "training": { "epochs": 3, "batchSize": 64, "seed": 0 },
  "output": { "runsDir": "custom-runs" } }
`;
const RETRAIN_SPEC = 'retrain.vae.json';

describe('runs folders and retrain on save', { timeout: 600_000 }, () => {
  let wb: Workbench | undefined;
  const workbench = (): Workbench => {
    if (!wb) throw new Error('the workbench did not start (see the before hook)');
    return wb;
  };

  before(async () => {
    // Trailing spaces on the first line: "Trim Trailing Whitespace" leaves the spec unsaved, as typing would.
    const retrain = `// a long run   \n${swissRollVariant('retrain', 3000)}`;
    wb = await launchVaeLens({
      workspace: makeWorkspace({ [CUSTOM_SPEC]: CUSTOM, [RETRAIN_SPEC]: retrain }),
      label: 'features-runs-folders',
      settings: { 'vaeLens.retrainOnSave': true, 'files.autoSave': 'off' },
    });
  });

  after(() => wb?.close());

  it("a run the command line writes into the spec's own runs folder shows in the status bar and in Open Run...", () =>
    withFailureScreenshot(wb, 'custom-runs', async () => {
      const w = workbench();
      await w.openFile(CUSTOM_SPEC);
      assert.equal(await w.waitForStatusBar(/^VAE\b/, 120_000), 'VAE: no runs');
      const cli = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'vae-lens.js'), 'train', join(w.workspaceDir, CUSTOM_SPEC)], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(cli.status, 0, cli.stderr);
      const custom = join(w.workspaceDir, 'custom-runs');
      assert.equal(existsSync(custom) && readdirSync(custom).length, 1, 'the command line wrote its run into custom-runs');
      // No file the editor's default watcher sees changed: only a watcher of custom-runs tells the status bar.
      // While the command line trained, the item may have said "training elsewhere": wait for what it says after.
      const shown = await w.waitForStatusBar(/^VAE\b(?!: no runs)(?! training)/, 30_000);
      assert.doesNotMatch(shown, /training|failed/);
      await w.runCommand('VAE Lens: Open Run...');
      const rows = await w.readQuickPick((r) => r.some((row) => row.includes('custom-runs')), 30_000);
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.match(rows[0]!, /^custom.*custom-runs\/custom-\d{8}-\d{6}$/, 'the run named custom, in custom-runs');
      // Another writer rewrites the run's summary (as a resumed run does at each checkpoint): no spec
      // file changes with it, so only a watcher of custom-runs tells the status bar.
      const run = join(custom, readdirSync(custom)[0]!);
      const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(run, 'summary.json'), JSON.stringify({ ...summary, status: 'failed', message: 'rewritten by another writer' }));
      assert.match(await w.waitForStatusBar(/^VAE failed/, 30_000), /failed/);
    }));

  it('a run whose stored verdict was edited shows the verdict judged from its passes in the status bar, its tooltip, the runs view and the panel', () =>
    withFailureScreenshot(wb, 'tampered-verdict', async () => {
      const w = workbench();
      const custom = join(w.workspaceDir, 'custom-runs');
      const run = join(custom, readdirSync(custom)[0]!);
      const metrics = join(run, 'metrics.jsonl');
      const records = readFileSync(metrics, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as MetricsRecord);
      // The verdict judged from the passes, as the command line's eval gives it.
      const evaluated = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'vae-lens.js'), 'eval', run, '--samples', '2', '--json'], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(evaluated.status, 0, evaluated.stderr);
      const judged = { state: (JSON.parse(evaluated.stdout) as { convergence: ConvergenceState }).convergence };
      // Stored: a verdict the passes do not give, in the last record and in summary.json, as an edit by hand leaves it.
      const stored: ConvergenceState = judged.state === 'converged' ? 'improving' : 'converged';
      const edited = { convergence: stored, convergenceReason: 'Edited by hand.' };
      records[records.length - 1] = { ...records.at(-1)!, ...edited };
      writeFileSync(metrics, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(run, 'summary.json'), JSON.stringify({ ...summary, status: 'completed', message: undefined, ...edited }));
      const label = verdictLabel(judged.state);
      const said = `summary.json ("convergence") says "${verdictLabel(stored)}"`;

      assert.match(await w.waitForStatusBar(new RegExp(`^VAE ${label}`), 30_000), new RegExp(label));
      const tooltip = await w.statusBarTooltip(/^VAE\b/);
      assert.ok(tooltip.includes(`Stored verdict differs: ${said}`), tooltip);
      const rows = await w.waitForRunsView((r) => r.some((row) => row.includes(CUSTOM_SPEC) && row.includes(label)), 30_000);
      assert.ok(
        rows.some((row) => row.includes(CUSTOM_SPEC) && row.includes('stored verdict differs')),
        `the spec's row says the stored verdict differs: ${JSON.stringify(rows)}`,
      );
      await w.runCommand('VAE Lens: Show Diagnostics');
      const frame = await w.findWebviewFrame('.vl-verdict-note', 60_000);
      const note = await frame.locator('.vl-verdict-note').first().innerText();
      assert.ok(note.includes(said), note);
      assert.ok((await frame.locator('body').innerText()).includes(label), `the panel shows "${label}"`);
      await w.runCommand('View: Close All Editor Groups');
      await w.openFile(CUSTOM_SPEC);
      // As the test before left it, for the one after.
      writeFileSync(join(run, 'summary.json'), JSON.stringify({ ...summary, status: 'failed', message: 'rewritten by another writer' }));
      await w.waitForStatusBar(/^VAE failed/, 30_000);
    }));

  it('a runsDirectory written into the workspace settings shows the runs there at once', () =>
    withFailureScreenshot(wb, 'settings-runs-directory', async () => {
      const w = workbench();
      const shared = join(w.workspaceDir, 'shared-runs', 'custom-20990101-000000');
      mkdirSync(shared, { recursive: true });
      const meta = {
        formatVersion: 1,
        name: 'custom',
        specPath: join(w.workspaceDir, CUSTOM_SPEC),
        startedAt: new Date(Date.now() + 3_600_000).toISOString(),
        backend: 'wasm',
        modelType: 'VAE-1',
        latentDim: 2,
        epochs: 3,
        dataset: { n: 256, dim: 2, source: 'circle' },
      };
      writeFileSync(join(shared, 'run.json'), JSON.stringify(meta));
      writeFileSync(
        join(shared, 'summary.json'),
        JSON.stringify({ status: 'diverged', epochsDone: 1, steps: 4, wallSeconds: 1, message: 'kept in shared-runs' }),
      );
      await new Promise((r) => setTimeout(r, 2_000));
      assert.equal(await w.statusBarText(/^VAE\b/), 'VAE failed', 'shared-runs is no runs folder yet');
      mkdirSync(join(w.workspaceDir, '.vscode'), { recursive: true });
      writeFileSync(join(w.workspaceDir, '.vscode', 'settings.json'), JSON.stringify({ 'vaeLens.runsDirectory': 'shared-runs' }));
      assert.equal(await w.waitForStatusBar(/^VAE diverged/, 30_000), 'VAE diverged');
    }));

  it('Train VAE on an unsaved spec with retrain on save trains once, without asking about its own run', () =>
    withFailureScreenshot(wb, 'train-unsaved', async () => {
      const w = workbench();
      await w.openFile(RETRAIN_SPEC);
      await w.waitForStatusBar(/^VAE: no runs/, 60_000);
      await w.runCommand('Trim Trailing Whitespace');
      await w.runCommand('VAE Lens: Train VAE');
      await w.waitForStatusBar(/^VAE (starting|epoch)/, 60_000);
      // The old way: the save started a run, then the command asked whether to stop and restart it.
      await new Promise((r) => setTimeout(r, 5_000));
      const asked = (await w.notifications()).filter((n) => /already training/.test(n));
      assert.deepEqual(asked, [], 'Train VAE asked about the run its own save started');
      // The workspace's runsDirectory (the test before) is where it trains.
      const runs = readdirSync(join(w.workspaceDir, 'shared-runs')).filter((d) => d.startsWith('retrain-'));
      assert.equal(runs.length, 1, `one run: ${runs.join(', ')}`);
      await w.runCommand('VAE Lens: Stop Training');
      await w.waitForStatusBar(/^VAE\b(?! (starting|epoch))/, 60_000);
    }));
});
