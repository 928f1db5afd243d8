// Type-checks every TypeScript project of the repository, each with its runtime's libraries
// (the list is the root tsconfig.json's references): a browser API in the trainer, a Node API
// in the panel or a vscode import in the CLI fails here.
//   node scripts/typecheck.mjs
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// tsconfig files allow comments; drop whole-line ones before parsing.
const config = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8').replace(/^\s*\/\/.*$/gm, ''));
const projects = config.references.map((r) => r.path);
const tsc = join(root, 'node_modules/typescript/bin/tsc');

const check = (project) =>
  new Promise((resolve) => {
    // Incremental: a second run re-checks only what changed since the first.
    const buildInfo = join(root, 'out', 'tsbuildinfo', `${project.replace(/\//g, '-')}.tsbuildinfo`);
    const args = [tsc, '-p', join(root, project), '--noEmit', '--pretty', 'false', '--incremental', '--tsBuildInfoFile', buildInfo];
    const child = spawn(process.execPath, args, { cwd: root });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ project, code, out }));
  });

// Two at a time: one per core of the machines this runs on, and tsc is single-threaded.
const results = [];
const queue = [...projects];
await Promise.all(
  [0, 1].map(async () => {
    while (queue.length > 0) results.push(await check(queue.shift()));
  }),
);
let failed = false;
for (const r of results.sort((a, b) => projects.indexOf(a.project) - projects.indexOf(b.project))) {
  if (r.code === 0) continue;
  failed = true;
  console.error(`typecheck: ${r.project} (tsconfig in that folder):\n${r.out.trim()}\n`);
}
if (failed) process.exit(1);
console.log(`typecheck: ${projects.length} projects clean (${projects.join(', ')})`);
