/**
 * Progress reaches the notification and the panel through a throttle: at most one report per interval,
 * and the last report of a burst arrives late rather than never. Dropping it left both on a stale epoch
 * until the next report, or for good when the burst was the last one before a pause (a diagnostics pass).
 */
import { createdPanels, progressReports, webviewPosts } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FromTrainer, ProgressEvent } from '../../src/core/protocol';
import { Emitter } from '../../src/extension/emitter';
import { DiagnosticsPanel } from '../../src/extension/panel/diagnosticsPanel';
import { panelDeps } from './panel-testkit';
import { showTrainingProgress } from '../../src/extension/training/progressNotification';
import type { TrainerClient, TrainerEvent } from '../../src/extension/trainer/trainerClient';
import type { TrainerProcess } from '../../src/extension/trainer/trainerProcess';
import { sampleRecord } from './record-testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = (epoch: number): ProgressEvent => ({
  type: 'progress',
  epoch,
  epochFraction: 0.5,
  step: epoch * 10,
  samplesPerSec: 1000,
  etaSeconds: 10,
  loss: 1,
});

/** Enough of a TrainerProcess for the notification and the panel: its events and its state. */
function fakeTrainer(runDir: string) {
  const events = new Emitter<FromTrainer>();
  let exit: () => void = () => undefined;
  const exited = new Promise<void>((r) => (exit = r));
  const trainer = {
    specPath: '/w/a.vae.json',
    runDir,
    state: 'running',
    started: { type: 'started', runDir, epochs: 60 },
    onEvent: (l: (e: FromTrainer) => void) => events.on(l),
    whenExited: () => exited,
    stop: () => Promise.resolve(),
  };
  return { trainer: trainer as unknown as TrainerProcess, fire: (e: FromTrainer) => events.fire(e), exit };
}

test('the notification shows the last progress of a burst, once the interval has passed', async () => {
  const { trainer, fire, exit } = fakeTrainer('/w/run');
  progressReports.length = 0;
  showTrainingProgress(trainer, 'a');
  fire(progress(1));
  await sleep(10);
  fire(progress(2));
  await sleep(400);
  const messages = progressReports.map((r) => r.message ?? '');
  assert.ok(messages.length >= 1 && messages.length <= 2, JSON.stringify(messages));
  assert.match(messages.at(-1)!, /epoch 2\/60/, JSON.stringify(messages));
  exit();
});

test('the panel posts the last progress of a burst, and a finished run is never overwritten by a late one', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'vae-lens-panel-'));
  writeFileSync(join(runDir, 'metrics.jsonl'), JSON.stringify(sampleRecord(0)) + '\n');
  const { trainer } = fakeTrainer(runDir);
  const events = new Emitter<TrainerEvent>();
  const client = {
    onEvent: (l: (e: TrainerEvent) => void) => events.on(l),
    forRun: (d: string) => (d === runDir ? trainer : undefined),
  } as unknown as TrainerClient;
  const deps = panelDeps(client);
  createdPanels.length = 0;
  const panel = await DiagnosticsPanel.createOrShow(deps, [runDir]);
  try {
    createdPanels[0]!.receive({ type: 'ready' });
    const statuses = () =>
      webviewPosts.filter((m): m is { type: 'status'; status: string; progress?: { epoch: number } } => (m as { type: string }).type === 'status');
    webviewPosts.length = 0;
    events.fire({ trainer, event: progress(1) });
    await sleep(10);
    events.fire({ trainer, event: progress(2) });
    await sleep(400);
    assert.equal(statuses().at(-1)?.progress?.epoch, 2, JSON.stringify(statuses()));
    // A burst cut short by the end of the run: the done status is the last word.
    webviewPosts.length = 0;
    events.fire({ trainer, event: progress(3) });
    events.fire({ trainer, event: { type: 'done', status: 'completed', runDir } });
    await sleep(400);
    assert.equal(statuses().at(-1)?.status, 'completed', JSON.stringify(statuses()));
  } finally {
    panel.dispose();
  }
});
