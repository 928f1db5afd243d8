/**
 * The panel's HTML shells. Pure functions (no vscode, no DOM) so the extension host, the CLI report
 * and the tests share one definition of the Content Security Policy and one escaping discipline:
 * everything interpolated here is escaped for its context.
 */
import { createHash } from 'node:crypto';
import { REPORT_DATA_ELEMENT_ID, type PanelRun } from '../core/panelProtocol';
import { packRunForReport } from '../core/reportPayload';

export interface PanelHtmlOptions {
  /** URI of dist/webview.js as the webview may load it (webview.asWebviewUri). */
  scriptUri: string;
  /** URI of media/panel.css. */
  styleUri: string;
  /** webview.cspSource */
  cspSource: string;
  /** A fresh random nonce per render (alphanumeric). */
  nonce: string;
  title: string;
}

export interface ReportHtmlOptions {
  /** Written as the panel gets them, their earlier passes as columns (core/reportPayload.ts). */
  runs: PanelRun[];
  /** The text of dist/webview.js, inlined. */
  script: string;
  /** The text of media/panel.css, inlined. */
  css: string;
  title: string;
}

export { REPORT_DATA_ELEMENT_ID };

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * JSON that is safe inside <script type="application/json">: no `<` can end the element or open a
 * comment, and U+2028/2029 are escaped too. JSON.parse reads it back unchanged.
 */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Make inlined script or style text unable to close its element early. */
function neutraliseClosingTags(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** The CSP of the editor panel: only our bundled script (by nonce) and stylesheet, images from data: URLs. */
export function panelCsp(cspSource: string, nonce: string): string {
  return ["default-src 'none'", `img-src ${cspSource} data:`, `style-src ${cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
}

export function renderPanelHtml(o: PanelHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]{8,}$/.test(o.nonce)) throw new Error('renderPanelHtml: the nonce must be at least 8 base64/alphanumeric characters');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(panelCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<main id="vae-lens-root" class="vl-root"></main>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}

const sha256Base64 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

/**
 * A self-contained report page: script, stylesheet and runs inlined, no network. The CSP allows
 * exactly the inlined script and style by hash, so nothing else can run even if a run's text were hostile.
 */
export function renderReportHtml(o: ReportHtmlOptions): string {
  const script = neutraliseClosingTags(o.script, 'script');
  const css = neutraliseClosingTags(o.css, 'style');
  const csp = ["default-src 'none'", 'img-src data:', `style-src 'sha256-${sha256Base64(css)}'`, `script-src 'sha256-${sha256Base64(script)}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(o.title)}</title>
<style>${css}</style>
</head>
<body class="vl-report">
<main id="vae-lens-root" class="vl-root"></main>
<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">${jsonForScriptElement({ runs: o.runs.map(packRunForReport) })}</script>
<script>${script}</script>
</body>
</html>
`;
}
