/**
 * The panel boundary under generated input: every message guard (panel <-> host, editor <->
 * trainer) ends in true or false for anything at all, hostile run names and titles never become
 * markup, the CSPs stay strict, and the webview code has no way to inject HTML.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isFromPanel, isPanelState, isToPanel, type PanelRun } from '../../src/core/panelProtocol';
import { isFromTrainer, isToTrainer } from '../../src/core/protocol';
import { escapeHtml, jsonForScriptElement, renderPanelHtml, renderReportHtml } from '../../src/webview/html';
import { reportFigure } from './reliability-figures';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));

const VALID_MESSAGES: Record<string, unknown>[] = [
  { type: 'ready' },
  { type: 'stop', runDir: '/w/runs/a' },
  { type: 'retrain', runDir: '/w/runs/a' },
  { type: 'exportPng', runDir: '/w/runs/a', chart: 'elbo', dataUrl: 'data:image/png;base64,AAAA' },
  { type: 'show', runs: [{ runDir: '/w/runs/a', records: [] }] },
  { type: 'append', runDir: '/w/runs/a', records: [{ epoch: 1 }] },
  { type: 'status', runDir: '/w/runs/a', status: 'running' },
  { type: 'start', specPath: '/w/a.vae.json', workspaceRoots: ['/w'] },
  { type: 'progress', epoch: 1, epochFraction: 0.5, step: 3, samplesPerSec: 10, etaSeconds: 2, loss: 1 },
  { type: 'done', status: 'completed', runDir: '/w/runs/a' },
  { runDirs: ['/w/runs/a'] },
];

const GUARDS = { isFromPanel, isToPanel, isPanelState, isToTrainer, isFromTrainer };

/** A valid message with one field deleted, retyped or replaced by anything. */
const mutatedMessage = fc
  .tuple(fc.constantFrom(...VALID_MESSAGES), fc.nat(), fc.anything({ maxDepth: 2, withObjectString: true, withNullPrototype: true }), fc.boolean())
  .map(([m, k, value, drop]) => {
    const keys = Object.keys(m);
    const key = keys[k % keys.length]!;
    const copy: Record<string, unknown> = { ...m };
    if (drop) delete copy[key];
    else copy[key] = value;
    return copy;
  });

test('fuzz: message guards answer true or false for anything, and what they accept has the promised shape', () => {
  let inputs = 0;
  let accepted = 0;
  fc.assert(
    fc.property(fc.oneof(fc.anything({ withNullPrototype: true, withObjectString: true, withBoxedValues: true }), mutatedMessage), (v) => {
      inputs++;
      let any = false;
      for (const [name, guard] of Object.entries(GUARDS)) {
        const ok = guard(v);
        assert.equal(typeof ok, 'boolean', name);
        any ||= ok;
      }
      if (any) accepted++;
      if (isFromPanel(v) && v.type !== 'ready') assert.equal(typeof v.runDir, 'string');
      if (isToTrainer(v) && v.type === 'start') assert.equal(typeof v.specPath, 'string');
    }),
    { numRuns: 4000 * RUNS, seed: SEED },
  );
  for (const m of VALID_MESSAGES)
    assert.ok(
      Object.values(GUARDS).some((g) => g(m)),
      `a valid message was refused: ${JSON.stringify(m)}`,
    );
  console.log(`fuzz: message-guards ${inputs} inputs x ${Object.keys(GUARDS).length} guards, 0 crashes (${accepted} accepted by a guard)`);
  reportFigure({
    kind: 'parser',
    name: 'message guards (panel, trainer)',
    inputs,
    accepted,
    userErrors: inputs - accepted,
    crashes: 0,
    slowest: null,
    seed: SEED,
  });
});

const hostile = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '</script><script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '"><svg onload=alert(1)>',
    "'; alert(1); '",
    '<!--',
    ']]>',
    '\u2028\u2029',
    '&lt;',
    '</style>',
  ),
  fc.array(fc.constantFrom('<', '>', '&', '"', "'", '/', 'script', '!--', '\u2028', 'x'), { maxLength: 12 }).map((a) => a.join('')),
);

test('fuzz: spec names, file names and titles are never markup in the panel or the report', () => {
  let cases = 0;
  fc.assert(
    fc.property(hostile, hostile, (name, title) => {
      cases++;
      const escaped = escapeHtml(name);
      assert.doesNotMatch(escaped, /[<>"']/);
      assert.equal(
        escaped
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, '&'),
        name,
      );
      const island = jsonForScriptElement({ name });
      assert.doesNotMatch(island, /[<>&\u2028\u2029]/);
      assert.deepEqual(JSON.parse(island), { name });

      const run: PanelRun = { runDir: `/w/runs/${name}`, name, status: 'completed', records: [] } as unknown as PanelRun;
      const report = renderReportHtml({ runs: [run], script: 'void 0;', css: 'body{}', title });
      assert.equal(report.match(/<script/gi)?.length, 2, 'exactly the data island and our script');
      assert.equal(report.match(/<\/script/gi)?.length, 2);
      assert.equal(report.match(/<style/gi)?.length, 1);
      assert.doesNotMatch(report, /<(img|svg|iframe)\b/i);

      const panel = renderPanelHtml({
        scriptUri: `vscode-resource:/${name}`,
        styleUri: `vscode-resource:/${title}`,
        cspSource: 'vscode-resource:',
        nonce: 'abcdefgh12345678',
        title,
      });
      assert.equal(panel.match(/<script/gi)?.length, 1);
      assert.doesNotMatch(panel, /<(img|svg|iframe)\b/i);
    }),
    { numRuns: 1000 * RUNS, seed: SEED },
  );
  reportFigure({ kind: 'check', name: 'hostile names and titles rendered as text (panel + report)', cases, passed: cases });
});

test('the CSPs are strict and the webview code cannot inject HTML or load remote resources', () => {
  const panel = renderPanelHtml({ scriptUri: 'u', styleUri: 's', cspSource: 'vscode-resource:', nonce: 'abcdefgh12345678', title: 't' });
  const report = renderReportHtml({ runs: [], script: 'x', css: 'y', title: 't' });
  const cspOf = (html: string) => /Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1]?.replace(/&#39;/g, "'") ?? '';
  let checks = 0;
  for (const csp of [cspOf(panel), cspOf(report)]) {
    assert.match(csp, /^default-src 'none'; /);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
    checks++;
  }
  const root = process.cwd();
  const sources = readdirSync(join(root, 'src', 'webview'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(root, 'src', 'webview', f));
  const media = readdirSync(join(root, 'media'))
    .filter((f) => /\.(css|js|html)$/.test(f))
    .map((f) => join(root, 'media', f));
  for (const file of [...sources, ...media]) {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /\.innerHTML\s*=|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, `${file} could inject markup or code`);
    assert.doesNotMatch(text, /(src|href|url)\s*[=(]\s*["']?https?:/i, `${file} loads a remote resource`);
    checks++;
  }
  // Both ends of the panel channel check what they receive.
  assert.match(readFileSync(join(root, 'src', 'webview', 'messages.ts'), 'utf8'), /if \(isToPanel\(event\.data\)\)/);
  assert.match(readFileSync(join(root, 'src', 'extension', 'panel.ts'), 'utf8'), /if \(!isFromPanel\(m\)\)/);
  assert.match(readFileSync(join(root, 'src', 'train', 'worker.ts'), 'utf8'), /if \(!isToTrainer\(msg\)\)/);
  checks += 3;
  reportFigure({
    kind: 'check',
    name: 'strict CSP, no HTML injection or remote loads in webview code, guarded message handlers',
    cases: checks,
    passed: checks,
  });
});
