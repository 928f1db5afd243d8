/**
 * What the status bar and the CodeLens say while a spec trains: the live run's own state, never the
 * previous run's verdict, and that the spec in the editor is no longer what the run trains once edited.
 */
import { openDocuments, Uri } from './vscode-stub';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RunOverview } from '../../src/core/run/read';
import type { RunIndex } from '../../src/extension/runs/runIndex';
import { withJudgedVerdict } from '../../src/core/run/judgedVerdicts';

/** The index's shown verdict before any judgement: the stored one. */
const asStored = (o: RunOverview) => Promise.resolve(withJudgedVerdict(o, undefined));
import { codeLensResult, finishedMessage, statusBarText, statusTooltipMarkdown } from '../../src/extension/status/runStateWording';
import { specRunState } from '../../src/extension/status/specRunState';
import type { TrainerClient } from '../../src/extension/trainer/trainerClient';
import type { TrainerProcess } from '../../src/extension/trainer/trainerProcess';
import { sampleRecord } from './record-testkit';

const specUri = Uri.file(join('/ws', 'model.vae.json'));
const spec = (latentDim: number, note = '') => `{\n  ${note}"data": { "synthetic": "swiss_roll" },\n  "model": { "latentDim": ${latentDim} }\n}\n`;

/** The run before: another text, finished and converged. */
const previous = {
  runDir: '/ws/.vae-lens/runs/model-1',
  specText: spec(2),
  status: 'completed',
  convergence: 'converged',
  convergenceReason: 'The previous run settled.',
  last: sampleRecord(30),
  meta: { modelType: 'VAE-1', backend: 'wasm' },
} as unknown as RunOverview;

/** A run of `trained` that has just started: no pass yet, and the index has not read its folder. */
const liveTrainer = (trained: string, over: Partial<TrainerProcess> = {}) =>
  ({
    specPath: specUri.fsPath,
    specText: trained,
    runDir: '/ws/.vae-lens/runs/model-2',
    started: { epochs: 10, backend: 'cpu' },
    lastProgress: { epoch: 2, epochFraction: 0.5 },
    lastRecord: undefined,
    ...over,
  }) as unknown as TrainerProcess;

async function stateWhile(editorText: string, trainer: TrainerProcess, latest: RunOverview = previous) {
  openDocuments.length = 0;
  openDocuments.push({ uri: specUri, getText: () => editorText });
  const index = { latestForSpec: () => Promise.resolve(latest), shown: asStored } as unknown as RunIndex;
  const client = { forSpec: () => trainer } as unknown as TrainerClient;
  return specRunState(specUri as never, index, client);
}

/** Edits that change what the model is, and edits that do not. */
const CHANGED = [spec(3), spec(20, '"name": "m", '), spec(3).replace(/\n/g, '\r\n')];
const SAME = [spec(5), spec(5, '// a note\n  '), spec(5).replace(/ {2}/g, '\t'), spec(5).replace(/\n/g, '\r\n')];

test("a run's spec edited while it trains: the status and the CodeLens say the run trains the earlier text", async () => {
  for (const now of CHANGED) {
    const state = await stateWhile(now, liveTrainer(spec(5)));
    assert.equal(state.specChanged, true, JSON.stringify(now));
    assert.match(codeLensResult(state)!, /^training.*spec changed since.*epoch 2\/10/);
    assert.match(statusTooltipMarkdown(state, 'model'), /changed since this run started/);
    assert.match(statusBarText(state), /epoch 2\/10/);
  }
});

test('a run whose spec is as it was started (comments, whitespace, line ends aside) is not called changed, whatever the run before trained', async () => {
  for (const now of SAME) {
    const state = await stateWhile(now, liveTrainer(spec(5)));
    assert.equal(state.specChanged, false, JSON.stringify(now));
    assert.equal(codeLensResult(state), 'training: epoch 2/10');
    assert.doesNotMatch(statusTooltipMarkdown(state, 'model'), /changed since/);
  }
});

test("a run that has just started shows no verdict: not the previous run's", async () => {
  const state = await stateWhile(spec(5), liveTrainer(spec(5)));
  assert.equal(state.convergence, undefined);
  assert.equal(state.convergenceReason, undefined);
  assert.equal(state.modelType, undefined);
  const tooltip = statusTooltipMarkdown(state, 'model');
  assert.doesNotMatch(tooltip, /previous run settled|converged|VAE\\-1/);
  assert.doesNotMatch(tooltip, /\| gap/);
});

test("a live run's own latest pass is what the tooltip shows, from the trainer or from its folder once read", async () => {
  const record = sampleRecord(2, { convergence: 'improving', convergenceReason: 'Still climbing.' });
  const fromTrainer = await stateWhile(spec(5), liveTrainer(spec(5), { lastRecord: record }));
  assert.equal(fromTrainer.convergence, 'improving');
  assert.match(statusTooltipMarkdown(fromTrainer, 'model'), /Latest pass: .*Still climbing/);
  const ownFolder = { ...previous, runDir: '/ws/.vae-lens/runs/model-2', specText: spec(5), status: 'running', convergence: 'improving' } as RunOverview;
  const fromFolder = await stateWhile(spec(5), liveTrainer(spec(5)), ownFolder);
  assert.equal(fromFolder.convergence, 'improving');
  assert.equal(fromFolder.convergenceReason, 'The previous run settled.');
});

test('the end of a run whose spec was edited meanwhile says the verdict is of the text it started with', () => {
  const last = sampleRecord(30, { convergence: 'converged' });
  assert.match(finishedMessage('model', last, false), /^VAE Lens: model finished: converged, gap /);
  assert.match(
    finishedMessage('model', last, true),
    /^VAE Lens: model finished \(the spec as it was when the run started; it has been edited since\): converged, gap /,
  );
  assert.equal(finishedMessage('model', undefined, false), 'VAE Lens: model finished.');
});
