/**
 * `report` and `eval` give one verdict on a run: the rule's on its recorded passes. Where the verdict
 * stored beside them (the last record's, summary.json's) says otherwise, edited by hand or written by
 * another program or version, both show the verdict judged again and both say that the stored one differs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { CONVERGENCE_STATES, type ConvergenceState, type MetricsRecord } from '../../src/core/runFormat';
import { REPORT_DATA_ELEMENT_ID, type PanelRun } from '../../src/core/panelProtocol';
import { CLI_BIN, tinyCircleSpec } from './cli-testkit';

const { dir: tmp, spec } = tinyCircleSpec('vae-lens-verdict-', { epochs: 12 });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [CLI_BIN, ...args], { cwd: tmp, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

let trained = '';
before(() => {
  const t = cli(['train', spec, '--out', 'runs', '--json']);
  assert.equal(t.code, 0, t.err);
  trained = path.join(tmp, 'runs', fs.readdirSync(path.join(tmp, 'runs'))[0]!);
});

const readLines = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n');

/** A copy of the trained run, its last record's and summary.json's verdicts set as asked (undefined: left as written). */
function tampered(name: string, last?: ConvergenceState, summary?: ConvergenceState): string {
  const dir = path.join(tmp, name);
  fs.cpSync(trained, dir, { recursive: true });
  const metrics = path.join(dir, 'metrics.jsonl');
  const lines = readLines(metrics);
  if (last !== undefined) {
    const r = JSON.parse(lines.at(-1)!) as MetricsRecord;
    lines[lines.length - 1] = JSON.stringify({ ...r, convergence: last, convergenceReason: `Edited by hand to say ${last}.` });
  }
  fs.writeFileSync(metrics, lines.join('\n') + '\n');
  if (summary !== undefined) {
    const file = path.join(dir, 'summary.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), convergence: summary, convergenceReason: `Edited to say ${summary}.` }),
    );
  }
  return dir;
}

/** The report's verdict: the last record of its one run, and the note beside it. */
function reportVerdict(dir: string): { state?: string; reason?: string; note?: string; err: string } {
  const out = path.join(dir, 'report.html');
  const r = cli(['report', dir, '--out', out]);
  assert.equal(r.code, 0, r.err);
  const html = fs.readFileSync(out, 'utf8');
  const json = new RegExp(`<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">(.*?)</script>`, 's').exec(html)![1]!;
  const run = (JSON.parse(json) as { runs: PanelRun[] }).runs[0]!;
  const last = run.records.at(-1)!;
  return { state: last.convergence, reason: last.convergenceReason, note: run.verdictNote, err: r.err };
}

function evalVerdict(dir: string): { state?: string; reason?: string; notes: string[]; text: string } {
  const r = cli(['eval', dir, '--samples', '2', '--json']);
  assert.equal(r.code, 0, r.err);
  const v = JSON.parse(r.out) as { convergence?: string; convergenceReason?: string; verdictNotes: string[] };
  const t = cli(['eval', dir, '--samples', '2']);
  assert.equal(t.code, 0, t.err);
  return { state: v.convergence, reason: v.convergenceReason, notes: v.verdictNotes, text: t.out };
}

test(
  'generated runs whose stored verdict was tampered with: report and eval show the verdict judged again, and both say the stored one differs',
  { timeout: 600_000 },
  () => {
    const written = JSON.parse(readLines(path.join(trained, 'metrics.jsonl')).at(-1)!) as MetricsRecord;
    const fresh = written.convergence!;
    const other = CONVERGENCE_STATES.filter((s) => s !== fresh);
    const cases: { name: string; last?: ConvergenceState; summary?: ConvergenceState; files: string[] }[] = [
      ...other.map((s) => ({ name: `last-${s}`, last: s, files: ['metrics.jsonl'] })),
      { name: 'summary', summary: other[0], files: ['summary.json'] },
      { name: 'both', last: other[1], summary: other[2], files: ['metrics.jsonl', 'summary.json'] },
      { name: 'as-written', files: [] },
    ];
    for (const c of cases) {
      const dir = tampered(c.name, c.last, c.summary);
      const report = reportVerdict(dir);
      assert.equal(report.state, fresh, `${c.name}: the report's verdict`);
      assert.equal(report.reason, written.convergenceReason, `${c.name}: the report's reason`);
      for (const file of ['metrics.jsonl', 'summary.json']) {
        const said = new RegExp(`${file.replace('.', '\\.')} \\([^)]*"convergence"\\) says "[^"]+", but judged again from the 13 recorded passes`);
        const expected = c.files.includes(file);
        assert.equal(said.test(report.note ?? ''), expected, `${c.name}: the report page on ${file}: ${report.note}`);
        assert.equal(said.test(report.err), expected, `${c.name}: report's stderr on ${file}: ${report.err}`);
      }
      // eval costs an engine start: the cases that differ in kind are enough.
      if (!['as-written', `last-${other[0]}`, 'summary', 'both'].includes(c.name)) continue;
      const ev = evalVerdict(dir);
      assert.equal(ev.state, report.state, `${c.name}: eval and report agree`);
      assert.equal(ev.reason, report.reason, `${c.name}: eval and report give the same reason`);
      assert.equal(ev.notes.length, c.files.length, `${c.name}: eval's notes ${JSON.stringify(ev.notes)}`);
      assert.equal(ev.notes.join(' '), report.note ?? '', `${c.name}: eval and report say the same`);
      if (c.files.length > 0) assert.match(ev.text, /^stored verdict differs: /m, `${c.name}: eval's table says so`);
      else assert.doesNotMatch(ev.text, /stored verdict differs/, c.name);
    }
  },
);
