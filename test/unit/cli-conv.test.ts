/**
 * Convolutional VAEs through the vae-lens command (bin/vae-lens.js in a child process): a
 * decoder that does not end in the data's shape is refused with the located message and
 * trains nothing; a small conv VAE on CSV images (data.shape) trains, and eval, report and
 * resume work on its run as on an MLP's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { runImagesOf } from '../../src/core/run/files';
import { parseMetricsJsonl, RUN_FILES } from '../../src/core/runFormat';
import { finiteRecord } from './record-testkit';

const root = path.join(__dirname, '..', '..', '..');
const bin = path.join(root, 'bin', 'vae-lens.js');
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-lens-conv-'));
// 96 8×8 images, one CSV row each: a bright square at a random place.
const rows: string[] = [];
for (let i = 0; i < 96; i++) {
  const x0 = (i * 5) % 6;
  const y0 = (i * 3) % 6;
  const px: number[] = [];
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) px.push(x >= x0 && x < x0 + 3 && y >= y0 && y < y0 + 3 ? 200 + (i % 50) : (i * 7 + x * 13 + y * 17) % 40);
  rows.push(px.join(','));
}
fs.writeFileSync(path.join(tmp, 'squares.csv'), rows.join('\n') + '\n');

const spec = (lastKernelStride: string) => `{
  "name": "squares",
  "data": { "path": "squares.csv", "shape": [8, 8, 1], "scale": "unit" },
  "model": {
    "type": "VAE-1", "latentDim": 2,
    "encoder": { "layers": [ { "type": "conv2d", "filters": 4, "kernel": 3, "stride": 2 }, { "type": "flatten" }, { "type": "dense", "units": 16 } ] },
    "decoder": {
      "layers": [
        { "type": "dense", "units": 64 },
        { "type": "reshape", "shape": [4, 4, 4] },
        { "type": "conv2dTranspose", "filters": 1, "kernel": 3, ${lastKernelStride} }
      ]
    }
  },
  "training": { "epochs": 2, "batchSize": 32, "learningRate": 0.003 },
  "diagnostics": { "mcSamples": 2 }
}
`;

test("a decoder that misses the data's shape: exit 2, the located message, no run folder", () => {
  const file = path.join(tmp, 'bad.vae.json');
  fs.writeFileSync(file, spec('"stride": 1'));
  const out = path.join(tmp, 'bad-runs');
  const r = cli(['train', file, '--out', out]);
  assert.equal(r.code, 2, r.err);
  // Line 11, column 9: the third decoder layer.
  assert.ok(r.err.includes(`${file}:11:9: model.decoder.layers[2]: output 4×4×1, the data is 8×8×1`), r.err);
  assert.doesNotMatch(r.err, /\n\s+at .+:\d+:\d+/);
  assert.equal(fs.existsSync(out), false, 'nothing was trained or written');
});

test('a small conv VAE trains; eval, report and resume work on its run', () => {
  const file = path.join(tmp, 'squares.vae.json');
  fs.writeFileSync(file, spec('"stride": 2'));
  const r = cli(['train', file, '--out', path.join(tmp, 'runs'), '--json']);
  assert.equal(r.code, 0, r.err);
  const started = r.out
    .split('\n')
    .map((l) => (l ? (JSON.parse(l) as { type: string; runDir?: string }) : undefined))
    .find((e) => e?.type === 'started');
  const runDir = started!.runDir!;
  const records = parseMetricsJsonl(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')).records;
  assert.deepEqual(
    records.map((x) => x.epoch),
    [0, 1, 2],
  );
  for (const rec of records.map(finiteRecord)) assert.ok(Math.abs(rec.gap - (rec.rDec + rec.rPrior)) < 1e-4 * (1 + Math.abs(rec.elbo)), `epoch ${rec.epoch}`);
  const meta = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { dataset: { imageShape?: number[] } };
  assert.deepEqual(meta.dataset.imageShape, [8, 8, 1]);
  // Its images say their order, and the reader takes them as they were written.
  const written = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.images), 'utf8')) as { shape: number[]; layout?: string };
  assert.deepEqual([written.shape, written.layout], [[8, 8, 1], 'hwc']);
  assert.equal(runImagesOf(written).problem, undefined);

  const ev = cli(['eval', runDir, '--samples', '4']);
  assert.equal(ev.code, 0, ev.err);
  assert.match(ev.out, /checkpoint of epoch 2/);

  const report = path.join(tmp, 'report.html');
  const rep = cli(['report', runDir, '--out', report]);
  assert.equal(rep.code, 0, rep.err);
  assert.ok(fs.statSync(report).size > 1000);

  const res = cli(['train', file, '--resume', runDir, '--epochs', '3', '--json']);
  assert.equal(res.code, 0, res.err);
  assert.deepEqual(
    parseMetricsJsonl(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')).records.map((x) => x.epoch),
    [0, 1, 2, 3],
  );
});

test('images the panel cannot draw (two channels) are not written, and the log says why', () => {
  const file = path.join(tmp, 'two-channels.vae.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'two-channels',
      data: { path: 'squares.csv', shape: [8, 4, 2], scale: 'unit' },
      model: { type: 'VAE-1', latentDim: 2, encoder: { hidden: [8] }, decoder: { hidden: [8] } },
      training: { epochs: 1, batchSize: 32 },
      diagnostics: { mcSamples: 2 },
    }),
  );
  const out = path.join(tmp, 'runs-two');
  const r = cli(['train', file, '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out + r.err, /no images in the panel for these data: shape \[8, 4, 2\] with layout "hwc" \(height x width x channels\) has 2 channels/);
  const [runDir] = fs.readdirSync(out);
  assert.ok(runDir);
  assert.ok(!fs.existsSync(path.join(out, runDir, RUN_FILES.images)));
});
