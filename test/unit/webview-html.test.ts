import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { escapeHtml, jsonForScriptElement, renderPanelHtml, renderReportHtml } from '../../src/webview/html';
import { panelRun, record } from './webview-testkit';

const HOSTILE = '<img src=x onerror=alert(1)>';
const panelOpts = {
  scriptUri: 'https://file+.vscode-resource/ext/dist/webview.js',
  styleUri: 'https://file+.vscode-resource/ext/media/panel.css',
  cspSource: 'https://file+.vscode-resource',
  nonce: 'AbC123xyz_-QQ',
  title: 'VAE Lens',
};

const cspOf = (html: string) => {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  assert.ok(m, 'a CSP meta element');
  return m[1].replace(/&#39;/g, "'");
};

test('panel HTML: strict CSP with the nonce, and the script carries that nonce', () => {
  const html = renderPanelHtml(panelOpts);
  const csp = cspOf(html);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-AbC123xyz_-QQ'(;|$)/);
  assert.match(csp, /style-src https:\/\/file\+\.vscode-resource(;|$)/);
  assert.match(csp, /img-src https:\/\/file\+\.vscode-resource data:/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(html, /<script nonce="AbC123xyz_-QQ" src="https:\/\/file\+\.vscode-resource\/ext\/dist\/webview\.js"><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="https:\/\/file\+\.vscode-resource\/ext\/media\/panel\.css">/);
  assert.equal((html.match(/<script/g) ?? []).length, 1, 'no inline script');
});

test('panel HTML: a hostile title and URIs are escaped, not markup', () => {
  const html = renderPanelHtml({ ...panelOpts, title: HOSTILE, scriptUri: 'x" onload="alert(1)' });
  assert.ok(!html.includes('<img'), 'no <img element');
  assert.ok(html.includes('<title>&lt;img src=x onerror=alert(1)&gt;</title>'));
  assert.ok(html.includes('src="x&quot; onload=&quot;alert(1)"'));
});

test('panel HTML: a nonce that could break out of its attribute is refused', () => {
  assert.throws(() => renderPanelHtml({ ...panelOpts, nonce: `abcdefgh' 'unsafe-inline` }), /nonce/);
  assert.throws(() => renderPanelHtml({ ...panelOpts, nonce: 'short' }), /nonce/);
});

test('escapeHtml escapes the five characters that matter', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

function extractIsland(html: string): string {
  const m = /<script type="application\/json" id="vae-lens-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the JSON island');
  return m[1];
}

test('report HTML: hostile run names survive as data, cannot close the island, and read back unchanged', () => {
  const runs = [panelRun(HOSTILE, [record(1)], { message: '</script><script>alert(2)</script><!--' })];
  const html = renderReportHtml({ runs, script: 'console.log(1)', css: 'body{}', title: HOSTILE });
  assert.equal((html.match(/<script/gi) ?? []).length, 2, 'only the island and the panel script');
  assert.equal((html.match(/<\/script/gi) ?? []).length, 2);
  assert.ok(!html.includes('<img'));
  assert.deepEqual(JSON.parse(extractIsland(html)), { runs: JSON.parse(JSON.stringify(runs)) });
});

test('report HTML: inlined script and style cannot end their elements early, and the CSP hashes match them', () => {
  const script = 'const s = "</script><script>alert(1)</script>"; /* <!-- */';
  const css = 'body::after { content: "</style><b>bold</b>"; }';
  const html = renderReportHtml({ runs: [], script, css, title: 't' });
  assert.equal((html.match(/<\/script/gi) ?? []).length, 2);
  assert.equal((html.match(/<\/style/gi) ?? []).length, 1);
  const inlineScript = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
  const inlineStyle = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
  const sha = (t: string) => createHash('sha256').update(t).digest('base64');
  const csp = cspOf(html);
  assert.ok(csp.includes(`script-src 'sha256-${sha(inlineScript)}'`), csp);
  assert.ok(csp.includes(`style-src 'sha256-${sha(inlineStyle)}'`), csp);
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  // The neutralised text still means the same to a JS/CSS parser (only "<\/" where "</" was).
  assert.equal(inlineScript.replace(/<\\\//g, '</').replace(/<\\!--/g, '<!--'), script);
  assert.equal(inlineStyle.replace(/<\\\//g, '</'), css);
});

test('jsonForScriptElement keeps < > & and line separators out of the markup', () => {
  const value = { a: '</script><!-- & \u2028 \u2029' };
  const text = jsonForScriptElement(value);
  assert.doesNotMatch(text, /[<>&\u2028\u2029]/);
  assert.deepEqual(JSON.parse(text), value);
});
