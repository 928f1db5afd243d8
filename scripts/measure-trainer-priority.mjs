// A/B measurement of vaeLens.trainerPriority in a real VS Code (code-server): the training e2e
// test, alternately with the trainer at below-normal and at normal priority, in rounds, so both
// see the same machine. Writes docs/measurements/trainer-priority.json, which
// scripts/write-extension-performance.mjs renders into docs/extension-performance.md.
//   node scripts/build.mjs && node scripts/measure-trainer-priority.mjs [--rounds 2]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 2;
const PRIORITIES = ['below-normal', 'normal'];

const runs = [];
for (let round = 1; round <= rounds; round++) {
  for (const priority of PRIORITIES) {
    process.stderr.write(`[priority] round ${round} of ${rounds}: ${priority}\n`);
    const logFile = join(root, 'test-results', `priority-${round}-${priority}.log`);
    mkdirSync(dirname(logFile), { recursive: true });
    const log = openSync(logFile, 'w');
    const r = spawnSync(process.execPath, [join(root, 'scripts/run-e2e.mjs'), 'features-train'], {
      cwd: root,
      stdio: ['ignore', log, log],
      env: { ...process.env, VAE_LENS_E2E_SETTINGS: JSON.stringify({ 'vaeLens.trainerPriority': priority }) },
    });
    closeSync(log);
    if (r.status !== 0) throw new Error(`the e2e run with ${priority} priority failed (exit ${r.status}): see ${logFile}`);
    const m = JSON.parse(readFileSync(join(root, 'test-results', 'e2e-measurements.json'), 'utf8'));
    for (const t of m.trainRuns) runs.push({ round, priority, ...t });
  }
}
mkdirSync(join(root, 'docs', 'measurements'), { recursive: true });
const out = join(root, 'docs', 'measurements', 'trainer-priority.json');
writeFileSync(out, JSON.stringify({ command: `node scripts/measure-trainer-priority.mjs --rounds ${rounds}`, at: new Date().toISOString(), loadAverageAfter: loadavg(), runs }, null, 2) + '\n');
process.stderr.write(`[priority] wrote ${out}\n`);
