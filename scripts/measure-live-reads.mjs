// What a run followed live costs in bytes read per look, the way each read was made before and is made
// now, in one run of this script: the pace of a writer that cannot be looked up (the panel's follower,
// every 2 s), the overview of a run whose records store no verdict (the run index, at each checkpoint),
// and the window read for the last record (every look). The run given (one `vae-lens train` wrote, e.g.
// by measure-long-runs.mjs --keep) is copied, made to read as another machine's run still being written
// by a writer that leaves the verdict to the reader; bench/liveReads.ts grows it by one pass before each
// measured look.
//   node scripts/measure-live-reads.mjs [--looks 5] RUN_DIR
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { takeOption } from './options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const looks = Number(takeOption(argv, '--looks', '5'));
const [source] = argv;
if (source === undefined) {
  console.error('usage: node scripts/measure-live-reads.mjs [--looks 5] RUN_DIR');
  process.exit(2);
}
const scratch = mkdtempSync(join(tmpdir(), 'vae-lens-live-reads-'));
const run = join(scratch, 'run');
cpSync(source, run, { recursive: true, filter: (f) => !f.includes('checkpoints') });

// As another machine's companion writes it: no verdict in the records or the summary, a host not this one.
const metrics = join(run, 'metrics.jsonl');
const records = readFileSync(metrics, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const { convergence, convergenceReason, ...rest } = JSON.parse(l);
    return rest;
  });
writeFileSync(metrics, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
const meta = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
writeFileSync(join(run, 'run.json'), JSON.stringify({ ...meta, host: 'another-machine.example' }));
const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
delete summary.convergence;
delete summary.convergenceReason;
delete summary.last;
writeFileSync(join(run, 'summary.json'), JSON.stringify({ ...summary, status: 'running' }));

// Not out/bench: tsc compiles bench/*.ts there.
const outfile = join(root, 'out', 'bench-run', 'liveReads.js');
await esbuild.build({ entryPoints: [join(root, 'bench', 'liveReads.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], logLevel: 'warning' });
const r = spawnSync(process.execPath, [outfile, run, String(looks)], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(`measuring failed:\n${r.stderr}`);
const { size, passes, out } = JSON.parse(r.stdout);
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
console.log(`metrics.jsonl of ${passes} passes, ${(size / 1e6).toFixed(2)} MB; bytes read per look, mean of ${looks} looks after one pass appended each:`);
for (const [name, { before, after }] of Object.entries(out)) console.log(`  ${name}: before ${kb(before)}, now ${kb(after)}`);
rmSync(scratch, { recursive: true, force: true });
