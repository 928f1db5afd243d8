/** Shared fixtures for the webview tests: a metrics record and a palette. */
import type { PanelRun } from '../../src/core/panelProtocol';
import type { MetricsRecord } from '../../src/core/runFormat';
import type { Palette } from '../../src/webview/theme';

export function record(epoch: number, over: Partial<MetricsRecord> = {}): MetricsRecord {
  return {
    epoch,
    step: epoch * 10,
    elbo: -100 + epoch,
    elboStdErr: 0.5,
    hEnc: -3,
    hPrior: 2.8,
    hDec: -110 + epoch,
    entropySum: -100 + epoch - 0.4,
    gap: 0.4,
    gapRel: 0.4 / 115.8,
    rDec: 0.3,
    rPrior: 0.1,
    sigma2: 0.02,
    sigma2Opt: 0.019,
    latentSecondMoment: [0.9, 1.0, 0.7],
    klPerLatent: [1.2, 0.004, 0.8],
    samplesPerSec: 12345,
    wallSeconds: epoch * 2,
    ...over,
  };
}

export function panelRun(name: string, records: MetricsRecord[], over: Partial<PanelRun> = {}): PanelRun {
  return { runDir: `/runs/${name}`, name, modelType: 'VAE-1', backend: 'wasm', status: 'completed', tolerance: 0.01, epochs: 10, records, ...over };
}

export const PALETTE: Palette = {
  kind: 'dark',
  foreground: '#cccccc',
  muted: '#9d9d9d',
  background: '#1f1f1f',
  card: '#202020',
  border: '#313131',
  grid: 'rgba(204, 204, 204, 0.11)',
  blue: '#3794ff',
  red: '#f14c4c',
  green: '#89d185',
  orange: '#d18616',
  purple: '#b180d7',
  yellow: '#cca700',
  fontFamily: 'sans-serif',
  fontSize: 13,
};
