// What a long run costs the surfaces that show it: the bytes and seconds of `vae-lens report`, the
// seconds of `vae-lens eval`, and the bytes of the panel's `show` message for the same run. Trains a
// small VAE on a 256-point circle for each count of passes asked for (a pass after every epoch), or
// measures the run folders given. Each time is the median of --repeat runs.
//   node scripts/build.mjs && node scripts/measure-long-runs.mjs [--passes 5000,20000] [--repeat 3] [--keep DIR] [RUN_DIR...]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { takeOption } from './options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/vae-lens.js');
const argv = process.argv.slice(2);
const option = (name, fallback) => takeOption(argv, name, fallback);
const passes = option('--passes', argv.length > 0 ? '' : '5000,20000')
  .split(',')
  .filter(Boolean)
  .map(Number);
const repeat = Number(option('--repeat', '3'));
const keep = option('--keep', undefined);
const scratch = keep ?? mkdtempSync(join(tmpdir(), 'vae-lens-long-runs-'));
mkdirSync(scratch, { recursive: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// The processor time a command took (all its threads), which other jobs on the machine move far less than its wall time.
const cpuFile = join(scratch, 'cpu.json');
const cpuHook = join(scratch, 'cpu-hook.cjs');
writeFileSync(
  cpuHook,
  `process.on('exit', () => { const u = process.cpuUsage(); require('fs').writeFileSync(${JSON.stringify(cpuFile)}, JSON.stringify((u.user + u.system) / 1e6)); });\n`,
);

function cli(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', cpuHook, bin, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`vae-lens ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return { seconds, cpu: JSON.parse(readFileSync(cpuFile, 'utf8')), stdout: r.stdout };
}

/** A run of `epochs` passes of a small VAE, trained into the scratch folder. */
function trainRun(epochs) {
  const spec = join(scratch, `circle-${epochs}.vae.json`);
  writeFileSync(
    spec,
    JSON.stringify({
      name: `circle-${epochs}`,
      data: { synthetic: 'circle', n: 256, noise: 0.05, seed: 2 },
      model: { type: 'VAE-1', latentDim: 2, encoder: { hidden: [16] }, decoder: { hidden: [16] } },
      training: { batchSize: 64, learningRate: 0.005, epochs },
      diagnostics: { mcSamples: 4 },
    }),
  );
  const out = join(scratch, `runs-${epochs}`);
  rmSync(out, { recursive: true, force: true });
  const { seconds } = cli(['train', spec, '--out', out]);
  console.error(`trained ${epochs} passes in ${seconds.toFixed(0)} s`);
  return join(out, readdirSync(out)[0]);
}

/** The panel's `show` message for the run, as the extension builds it, in bytes of JSON. */
async function payloadBytes(runDir) {
  const entry = join(scratch, 'payload-entry.ts');
  writeFileSync(
    entry,
    `import { readRunContents } from ${JSON.stringify(join(root, 'src/core/run/read'))};
import { toPanelRun } from ${JSON.stringify(join(root, 'src/core/panelRun'))};
import { panelRunToSend } from ${JSON.stringify(join(root, 'src/core/panelPayload'))};
readRunContents(process.argv[2]).then((c) => {
  const t0 = performance.now();
  const runs = [panelRunToSend(toPanelRun(c, false))];
  const bytes = Buffer.byteLength(JSON.stringify({ type: 'show', runs }));
  console.log(JSON.stringify({ bytes, seconds: (performance.now() - t0) / 1000 }));
});
`,
  );
  const outfile = join(scratch, 'payload.js');
  await esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], logLevel: 'warning' });
  const r = spawnSync(process.execPath, [outfile, runDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`measuring the panel's message failed:\n${r.stderr}`);
  return JSON.parse(r.stdout).bytes;
}

const runDirs = [...argv, ...passes.map(trainRun)];
const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
for (const runDir of runDirs) {
  const html = join(scratch, 'report.html');
  const reports = [];
  const evals = [];
  for (let i = 0; i < repeat; i++) {
    reports.push(cli(['report', runDir, '--out', html]));
    evals.push(cli(['eval', runDir]));
  }
  const took = (runs) => `${median(runs.map((r) => r.seconds)).toFixed(2)} s (processor ${median(runs.map((r) => r.cpu)).toFixed(2)} s)`;
  const metrics = statSync(join(runDir, 'metrics.jsonl')).size;
  console.log(
    `${runDir}: metrics.jsonl ${mb(metrics)}; report ${mb(statSync(html).size)} in ${took(reports)}; ` +
      `eval ${took(evals)}; panel message ${mb(await payloadBytes(runDir))} ` +
      `(medians of ${repeat}; load average ${loadavg()[0].toFixed(1)})`,
  );
}
if (keep === undefined) rmSync(scratch, { recursive: true, force: true });
