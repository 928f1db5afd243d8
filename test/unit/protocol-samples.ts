/** One valid message of every kind each boundary has, for the protocol and fuzz tests. */
import { PROTOCOL_VERSION } from '../../src/core/protocol';
import type { MetricsRecord } from '../../src/core/runFormat';

export const RECORD: MetricsRecord = {
  epoch: 1,
  step: 10,
  elbo: -1.2,
  elboStdErr: 0.01,
  hEnc: 0.02,
  hPrior: 2.84,
  hDec: -1.54,
  entropySum: -1.28,
  gap: 0.08,
  gapRel: 0.02,
  rDec: 0.07,
  rPrior: 0.01,
  sigma2: 0.013,
  sigma2Opt: 0.012,
  latentSecondMoment: [1.02, 0.99],
  klPerLatent: [1.5, 1.3],
  samplesPerSec: 1000,
  wallSeconds: 3,
};
/** A record with nothing in it but its place in the run: for tests of how records are followed and merged. */
export function placeholderRecord(epoch: number, step = epoch): MetricsRecord {
  return {
    epoch,
    step,
    elbo: -1,
    elboStdErr: 0,
    hEnc: 0,
    hPrior: 0,
    hDec: 0,
    entropySum: -1,
    gap: 0,
    gapRel: 0,
    rDec: 0,
    rPrior: 0,
    sigma2: 1,
    sigma2Opt: 1,
    latentSecondMoment: [],
    klPerLatent: [],
    samplesPerSec: 0,
    wallSeconds: 0,
  };
}

const IMAGES = { shape: [2, 2], layout: 'hwc', originals: [[0, 1, 0, 1]], reconstructions: [[0, 1, 0, 1]], samples: [[0.5, 0.5, 0.5, 0.5]] };
const RUN = {
  runDir: '/w/runs/a',
  name: 'a',
  modelType: 'VAE-1',
  backend: 'wasm',
  status: 'completed',
  tolerance: 0.01,
  epochs: 3,
  records: [RECORD],
  images: IMAGES,
};

export const TO_TRAINER: Record<string, Record<string, unknown>> = {
  start: { type: 'start', protocolVersion: PROTOCOL_VERSION, specPath: '/w/a.vae.json', workspaceRoots: ['/w'], backend: 'wasm' },
  stop: { type: 'stop' },
};
export const FROM_TRAINER: Record<string, Record<string, unknown>> = {
  started: {
    type: 'started',
    protocolVersion: PROTOCOL_VERSION,
    runDir: '/w/runs/a',
    backend: 'wasm',
    dataset: { n: 10, dim: 2, source: 'x' },
    epochs: 3,
    stepsPerEpoch: 1,
  },
  progress: { type: 'progress', epoch: 1, epochFraction: 0.5, step: 3, samplesPerSec: 10, etaSeconds: 2, loss: 1 },
  diagnostics: { type: 'diagnostics', record: RECORD },
  images: { type: 'images', ...IMAGES },
  log: { type: 'log', level: 'info', message: 'hello' },
  done: { type: 'done', status: 'completed', runDir: '/w/runs/a' },
  error: { type: 'error', message: 'no such file', userError: true, location: { file: 'a.vae.json', line: 3, field: 'data.path' } },
};
export const TO_PANEL: Record<string, Record<string, unknown>> = {
  show: { type: 'show', runs: [RUN] },
  append: { type: 'append', runDir: '/w/runs/a', records: [RECORD] },
  status: { type: 'status', runDir: '/w/runs/a', status: 'training', progress: { epoch: 1, epochs: 3, epochFraction: 0.5, samplesPerSec: 10, etaSeconds: 2 } },
  images: { type: 'images', runDir: '/w/runs/a', images: IMAGES },
  exportPngs: { type: 'exportPngs', runDir: '/w/runs/a' },
};
export const FROM_PANEL: Record<string, Record<string, unknown>> = {
  ready: { type: 'ready' },
  stop: { type: 'stop', runDir: '/w/runs/a' },
  retrain: { type: 'retrain', runDir: '/w/runs/a' },
  exportCsv: { type: 'exportCsv', runDir: '/w/runs/a' },
  exportPng: { type: 'exportPng', runDir: '/w/runs/a', chart: 'elbo', dataUrl: 'data:image/png;base64,AAAA' },
};
