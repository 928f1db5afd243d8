/**
 * A run of the user's training script says nothing of its data, epochs, speed or time left until its
 * own run.json and records do; the trainer's events carry 0 for them until then. Every surface that
 * announces a run (the notification, the status bar and its tooltip, the CodeLens / runs view, the
 * panel's progress line, the trainer's log) must say what it knows, never such a zero as a figure.
 */
import { progressReports } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FromTrainer, StartedEvent } from '../../src/core/protocol';
import { Emitter } from '../../src/extension/emitter';
import { codeLensResult, progressMessage, statusBarText, statusTooltipMarkdown, type LiveProgress } from '../../src/extension/status/runStateWording';
import { showTrainingProgress } from '../../src/extension/training/progressNotification';
import type { TrainerProcess } from '../../src/extension/trainer/trainerProcess';
import { progressText } from '../../src/webview/status';

/** Figures that read as facts but are a script's "not known yet". */
const ZERO_FIGURES = [/\/0\b/, /\b0 samples\/s/, /\b0(\.0)? samples\/s/, /\b0s left/, /ETA 0s/, /\b0 points/, /epoch 0\b/, /N=0\b/, /\bNaN\b/, /Infinity/];

function assertNoZeroFigure(text: string, what: string): void {
  for (const z of ZERO_FIGURES) assert.doesNotMatch(text, z, `${what}: ${JSON.stringify(text)}`);
}

/** Every mix of known and not-yet-known figures a live run can report. */
function* liveCases(): Generator<LiveProgress> {
  for (const epochs of [0, 50])
    for (const epoch of [0, 1, 3])
      for (const samplesPerSec of [undefined, 0, Number.NaN, 1234])
        for (const etaSeconds of [undefined, 0, 80]) yield { epoch, epochs, epochFraction: 0, samplesPerSec, etaSeconds };
}

test('the status bar, its tooltip, the CodeLens, the notification and the panel show no unknown figure as a zero', () => {
  let n = 0;
  for (const live of liveCases()) {
    const what = JSON.stringify(live);
    const state = { hasRun: false, specChanged: false, live };
    for (const text of [
      progressMessage(live),
      statusBarText(state),
      statusTooltipMarkdown(state, 'a'),
      codeLensResult(state) ?? '',
      progressText({ ...live, samplesPerSec: live.samplesPerSec ?? 0, etaSeconds: live.etaSeconds ?? 0 }),
    ])
      assertNoZeroFigure(text.replace(/\\/g, ''), what);
    n++;
  }
  assert.equal(n, 72);
});

test('the figures that are known are still shown', () => {
  const live: LiveProgress = { epoch: 3, epochs: 0, epochFraction: 0, samplesPerSec: 1234, etaSeconds: 0 };
  assert.equal(progressMessage(live), 'epoch 3 · 1,234 samples/s');
  assert.match(statusBarText({ hasRun: false, specChanged: false, live }), /VAE epoch 3$/);
  assert.equal(progressMessage({ ...live, epochs: 50, etaSeconds: 80 }), 'epoch 3/50 · 1,234 samples/s · 1m 20s left');
  assert.match(statusBarText({ hasRun: false, specChanged: false, live: { ...live, epoch: 0 } }), /VAE starting$/);
  assert.equal(progressText({ epoch: 3, epochs: 50, epochFraction: 0, samplesPerSec: 1234, etaSeconds: 80 }), 'epoch 3/50 · 1.23k samples/s · ETA 1m 20s');
});

function fakeTrainer() {
  const events = new Emitter<FromTrainer>();
  let exit: () => void = () => undefined;
  const exited = new Promise<void>((r) => (exit = r));
  const trainer = {
    specPath: '/w/a.vae.json',
    state: 'running',
    onEvent: (l: (e: FromTrainer) => void) => events.on(l),
    whenExited: () => exited,
    stop: () => Promise.resolve(),
  };
  return { trainer: trainer as unknown as TrainerProcess, fire: (e: FromTrainer) => events.fire(e), exit };
}

const started = (n: number, dim: number, epochs: number): StartedEvent => ({
  type: 'started',
  protocolVersion: 1,
  runDir: '/w/run',
  backend: n === 0 ? 'script (python)' : 'wasm',
  dataset: { n, dim, source: n === 0 ? 'python train.py' : 'data/mnist.npy' },
  epochs,
  stepsPerEpoch: 0,
});

test("the notification of a script's run before its run.json names the script and that it starts, not 0 points", () => {
  const { trainer, fire, exit } = fakeTrainer();
  progressReports.length = 0;
  showTrainingProgress(trainer, 'a');
  fire(started(0, 0, 0));
  const message = progressReports.at(-1)?.message ?? '';
  assertNoZeroFigure(message, 'started');
  assert.match(message, /starting/);
  assert.match(message, /python train\.py/);
  fire(started(60000, 784, 20));
  assert.match(progressReports.at(-1)?.message ?? '', /60,?000 points/);
  exit();
});

test("a script's run announced again mid-run, once its run.json says its epochs, shows its progress with them, not a new start", async () => {
  const { trainer, fire, exit } = fakeTrainer();
  progressReports.length = 0;
  showTrainingProgress(trainer, 'a');
  fire(started(0, 0, 0));
  fire({ type: 'progress', epoch: 3, epochFraction: 0.5, step: 300, loss: 1.5, samplesPerSec: 1234, etaSeconds: 0 });
  await new Promise((r) => setTimeout(r, 300));
  fire(started(60000, 784, 20));
  await new Promise((r) => setTimeout(r, 300));
  const message = progressReports.at(-1)?.message ?? '';
  assert.match(message, /^epoch 3\/20\b/, message);
  assert.doesNotMatch(message, /starting/);
  exit();
});
