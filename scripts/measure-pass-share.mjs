// What a diagnostics pass costs against an epoch of training, measured with the CLI on model specs
// (the shipped examples by default). Each run trains a few epochs with a pass after every one, so
// passes and epochs alternate in one process and see the same machine; the rounds alternate the
// specs. A pass is the record's diagnosticsSeconds, an epoch the training points over the record's
// samplesPerSec. The first epoch and the passes before it warm up and are not counted.
//   node scripts/build.mjs && node scripts/measure-pass-share.mjs [--epochs 4] [--rounds 2] [--threads N] [SPEC...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { takeOption } from './options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => takeOption(argv, name, fallback);
const epochs = Number(option('--epochs', '4'));
const rounds = Number(option('--rounds', '2'));
const threads = option('--threads', undefined);
const DEFAULT_SPECS = [
  'examples/fashion-mnist/fashion-mnist.vae.json',
  'examples/vae1-fashion-mnist/vae1-fashion-mnist.vae.json',
  'examples/conv-fashion-mnist/conv-fashion-mnist.vae.json',
  'examples/swiss-roll/swiss-roll.vae.json',
  'examples/ppca-linear/ppca-linear.vae.json',
  'examples/vae3-ring/vae3-ring.vae.json',
];
const specs = argv.length > 0 ? argv : DEFAULT_SPECS;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Trains `spec` for `epochs` epochs into a scratch folder; returns each counted epoch's pass and training seconds. */
function measure(spec) {
  const out = mkdtempSync(join(tmpdir(), 'vae-lens-pass-share-'));
  try {
    const args = [join(root, 'bin/vae-lens.js'), 'train', spec, '--epochs', String(epochs), '--out', out];
    if (threads) args.push('--threads', threads);
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`training ${spec} failed (exit ${r.status}):\n${r.stderr}`);
    const [runName] = readdirSync(out);
    const runDir = join(out, runName);
    const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    const records = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
    const counted = records.filter((rec) => rec.epoch >= 2 && rec.samplesPerSec > 0);
    return {
      threads: run.threads,
      trainN: run.dataset.n,
      points: counted[0]?.points,
      mcSamples: counted[0]?.mcSamples,
      epochs: counted.map((rec) => ({ pass: rec.diagnosticsSeconds, epoch: run.dataset.n / rec.samplesPerSec })),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const fmt = (x) => (x < 0.1 ? x.toFixed(3) : x.toFixed(2));
const loadBefore = loadavg()
  .map((x) => x.toFixed(2))
  .join(' / ');
const bySpec = new Map(specs.map((s) => [s, []]));
const info = new Map();
for (let round = 1; round <= rounds; round++) {
  for (const spec of specs) {
    process.stderr.write(`[pass-share] round ${round} of ${rounds}: ${spec}\n`);
    const m = measure(spec);
    info.set(spec, m);
    bySpec.get(spec).push(...m.epochs);
  }
}
const loadAfter = loadavg()
  .map((x) => x.toFixed(2))
  .join(' / ');
console.log(
  `node scripts/measure-pass-share.mjs --epochs ${epochs} --rounds ${rounds}${threads ? ` --threads ${threads}` : ''}; ` +
    `load average (1/5/15 min) before ${loadBefore}, after ${loadAfter}; medians over epochs 2-${epochs} of each round`,
);
console.log('| spec | training points | threads | pass: points x samples | pass | epoch | pass / epoch (median) | range |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [spec, rows] of bySpec) {
  const m = info.get(spec);
  const ratios = rows.map((r) => r.pass / r.epoch);
  const pct = (x) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)} %`;
  console.log(
    `| ${relative(root, spec) || spec} | ${m.trainN} | ${m.threads} | ${m.points} x ${m.mcSamples} | ${fmt(median(rows.map((r) => r.pass)))} s | ` +
      `${fmt(median(rows.map((r) => r.epoch)))} s | ${pct(median(ratios))} | ${pct(Math.min(...ratios))}-${pct(Math.max(...ratios))} |`,
  );
}
