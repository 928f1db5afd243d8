/**
 * The panel for people who do not see it as its author did: light and high-contrast themes, screen
 * readers, reduced motion. Checks the webview's pure parts and its stylesheet.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PanelRun } from '../../src/core/panelProtocol';
import type { ConvergenceState, MetricsRecord } from '../../src/core/runFormat';
import { verdictLabel } from '../../src/core/verdictText';
import { capitalised } from '../../src/core/wording';
import { renderPanelHtml } from '../../src/pages/html';
import { CHART_IDS, type RunView } from '../../src/webview/chartConfigs';
import { chartAltText } from '../../src/webview/chartText';
import { fmtNats, fmtSig } from '../../src/webview/format';
import { seriesFromRecords } from '../../src/webview/series';
import { liveAnnouncement, progressBarAttributes, progressText } from '../../src/webview/status';
import { gapToleranceText, summaryRows } from '../../src/webview/summary';
import { contrastRatio, runColours, type Palette } from '../../src/webview/theme';
import { PALETTE, panelRun, record } from './webview-testkit';

const hex = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map((c) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`);

test('generated themes: the run colours made beyond the theme six stand out from the chart card (3:1), high-contrast light included', () => {
  const kinds: Palette['kind'][] = ['light', 'dark', 'high-contrast'];
  fc.assert(
    fc.property(hex, fc.constantFrom(...kinds), fc.integer({ min: 7, max: 24 }), (card, kind, n) => {
      const palette: Palette = { ...PALETTE, kind, card, background: card };
      const made = runColours(palette, n).slice(6);
      for (const c of made) {
        const ratio = contrastRatio(c, card)!;
        // Mid greys cannot reach 3:1 with every hue; those still get the better of dark and light.
        const best = Math.max(contrastRatio('#000000', card)!, contrastRatio('#ffffff', card)!);
        assert.ok(ratio >= Math.min(3, best / 2), `${kind} theme, card ${card}: run colour ${c} has contrast ${ratio.toFixed(2)}`);
      }
    }),
    { seed: 20261202, numRuns: 300 },
  );
  // The case a user sees: high-contrast light (white card, kind high-contrast) used to get light pastels.
  const hcLight: Palette = { ...PALETTE, kind: 'high-contrast', card: '#ffffff', background: '#ffffff' };
  for (const c of runColours(hcLight, 12).slice(6)) assert.ok(contrastRatio(c, '#ffffff')! >= 3, c);
});

test('contrastRatio: WCAG relative luminance, order-free, undefined for what it cannot read', () => {
  assert.equal(contrastRatio('#000000', '#ffffff')!.toFixed(2), '21.00');
  assert.equal(contrastRatio('#fff', '#000')!.toFixed(2), '21.00');
  assert.equal(contrastRatio('rgb(255, 255, 255)', '#ffffff'), 1);
  assert.equal(contrastRatio('red', '#ffffff'), undefined);
});

test('panel HTML: the page root is not a live region, so a screen reader is not read every redraw', () => {
  const html = renderPanelHtml({ scriptUri: 's.js', styleUri: 's.css', cspSource: 'https://x', nonce: 'AbC123xyz_-QQ', title: 't' });
  assert.doesNotMatch(html, /aria-live/, 'the panel script owns the one polite live region (the verdict)');
});

const VERDICTS: ConvergenceState[] = ['not-converged', 'noise-limited', 'converged', 'stationary', 'collapsed'];

test('generated training histories: the live announcement changes only when a run status or verdict does, never per pass', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom<ConvergenceState | undefined>(undefined, ...VERDICTS), fc.integer({ min: 1, max: 30 })), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.constantFrom<PanelRun['status']>('training', 'completed', 'stopped'),
      (segments, status) => {
        const records: MetricsRecord[] = [];
        const said: string[] = [];
        const run = panelRun('mnist-b', records, { status });
        let changes = 0;
        let last: ConvergenceState | undefined | null = null;
        for (const [verdict, passes] of segments) {
          if (verdict !== last) changes++;
          last = verdict;
          for (let i = 0; i < passes; i++) {
            const e = records.length + 1;
            records.push(record(e, { convergence: verdict, elbo: -100 + e * 0.37, samplesPerSec: 1000 + e }));
            const text = liveAnnouncement([run]);
            if (said.at(-1) !== text) said.push(text);
          }
        }
        assert.ok(said.length <= changes, `${said.length} announcements for ${changes} verdict changes: ${said.join(' | ')}`);
        for (const text of said) assert.match(text, /^mnist-b: /);
        assert.doesNotMatch(said.join(' '), /\d/, 'no number that moves each pass');
      },
    ),
    { seed: 20261202, numRuns: 200 },
  );
});

test('live announcement: every compared run by name, with its state in words', () => {
  const a = panelRun('a', [record(1, { convergence: 'converged' })]);
  const b = panelRun('b', [record(1, { convergence: 'not-converged' })], { status: 'training' });
  assert.equal(liveAnnouncement([a, b]), `a: ${capitalised(verdictLabel('converged', a))}; b: Training · ${verdictLabel('not-converged', b)}`);
  assert.equal(liveAnnouncement([]), '');
});

const views = (runs: PanelRun[]): RunView[] =>
  runs.map((run, i) => ({ run, series: seriesFromRecords(run.records, run.tolerance, 'epoch'), colour: `#00000${i}` }));

test('generated runs: each chart has a text alternative with the latest values of its curves, per run, and the gap told in words', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 0.05, noNaN: true })), {
        minLength: 1,
        maxLength: 4,
      }),
      (specs) => {
        const runs = specs.map(([n, elbo, gapRel], i) =>
          panelRun(
            `run-${i}`,
            Array.from({ length: n }, (_, e) => record(e + 1, { elbo: elbo + e, gapRel, convergence: e % 2 ? 'converged' : 'not-converged' })),
          ),
        );
        const vs = views(runs);
        for (const id of Object.values(CHART_IDS)) {
          const text = chartAltText(id, 'Title', vs, 'epoch');
          assert.ok(text.startsWith('Title. '), text);
          for (const run of runs) {
            if (runs.length > 1) assert.ok(new RegExp(`${run.name}[ :]`).test(text), `${id}: ${text} names ${run.name}`);
            const r = run.records.at(-1);
            if (!r) {
              assert.ok(text.includes('no diagnostics pass yet'), text);
              continue;
            }
            assert.ok(text.includes(`epoch ${r.epoch}`), text);
            const expected: Record<string, string[]> = {
              [CHART_IDS.elbo]: [`ELBO ${fmtNats(r.elbo)}`, `entropy sum ${fmtNats(r.entropySum)}`, `verdict ${verdictLabel(r.convergence, run)}`],
              [CHART_IDS.entropies]: [`H_enc ${fmtNats(r.hEnc)}`, `H_prior ${fmtNats(r.hPrior)}`, `H_dec ${fmtNats(r.hDec)}`],
              [CHART_IDS.gap]: [`gap ${fmtNats(r.gap)}`, r.gapRel! <= run.tolerance ? 'within the 1.00 % tolerance' : 'above the 1.00 % tolerance'],
              [CHART_IDS.latents]: [`KL_h ${fmtSig(r.klPerLatent[0])}`],
            };
            for (const part of expected[id]!) assert.ok(text.includes(part), `${id}: "${text}" lacks "${part}"`);
          }
        }
      },
    ),
    { seed: 20261202, numRuns: 100 },
  );
});

test('the relative gap against the tolerance is said in words, not only by its colour', () => {
  assert.equal(gapToleranceText(0.004, 0.01), 'within the 1.00 % tolerance');
  assert.equal(gapToleranceText(0.01, 0.01), 'within the 1.00 % tolerance');
  assert.equal(gapToleranceText(0.02, 0.01), 'above the 1.00 % tolerance');
  const row = summaryRows([panelRun('a', [record(1, { gapRel: 0.02 })])]).find((r) => r.label === 'Gap (relative)')!;
  assert.equal(row.cells[0]!.detail, 'above the 1.00 % tolerance');
});

test('the progress bar has a name and says the epoch in words; before the first report it claims no value', () => {
  const waiting = progressBarAttributes(undefined);
  assert.equal(waiting['aria-label'], 'Training progress');
  assert.equal(waiting['aria-valuenow'], undefined, 'indeterminate, not 0 %');
  const p = { epoch: 3, epochs: 10, epochFraction: 0.5, samplesPerSec: 2000, etaSeconds: 70 };
  const at = progressBarAttributes(p);
  assert.equal(at.role, 'progressbar');
  assert.equal(at['aria-valuenow'], '25');
  assert.equal(at['aria-valuetext'], progressText(p));
});

interface CssRule {
  media?: string;
  selectors: string[];
  body: string;
}

/** The stylesheet's rules, with the @media condition each sits under (enough of CSS for panel.css). */
function cssRules(css: string): CssRule[] {
  const out: CssRule[] = [];
  const text = css.replace(/\/\*[\s\S]*?\*\//g, '');
  const walk = (src: string, media?: string) => {
    let i = 0;
    while (i < src.length) {
      const open = src.indexOf('{', i);
      if (open < 0) return;
      const head = src.slice(i, open).trim();
      let depth = 1;
      let j = open + 1;
      while (j < src.length && depth > 0) {
        if (src[j] === '{') depth++;
        else if (src[j] === '}') depth--;
        j++;
      }
      const body = src.slice(open + 1, j - 1);
      if (head.startsWith('@media')) walk(body, head);
      else if (!head.startsWith('@')) out.push({ media, selectors: head.split(',').map((s) => s.trim()), body });
      i = j;
    }
  };
  walk(text);
  return out;
}

const panelCss = readFileSync(join(__dirname, '..', '..', '..', 'media', 'panel.css'), 'utf8');

test('panel.css: what moves stops under reduced motion, asked by the OS or by VS Code (workbench.reduceMotion)', () => {
  const rules = cssRules(panelCss);
  const moving = rules.filter(
    (r) => !r.media?.includes('reduced-motion') && /(^|[;\s])(animation|transition)\s*:/.test(r.body) && !/(animation|transition)\s*:\s*none/.test(r.body),
  );
  assert.ok(moving.length > 0, 'the stylesheet animates something (the progress bar)');
  for (const r of moving)
    for (const sel of r.selectors) {
      const stills = (accept: (x: CssRule) => boolean) =>
        rules.some((x) => accept(x) && x.selectors.some((s) => s.endsWith(sel)) && /animation\s*:\s*none/.test(x.body) && /transition\s*:\s*none/.test(x.body));
      assert.ok(
        stills((x) => !!x.media?.includes('prefers-reduced-motion: reduce')),
        `${sel} keeps moving under prefers-reduced-motion`,
      );
      assert.ok(
        stills((x) => x.selectors.some((s) => s.startsWith('.vscode-reduce-motion ') || s.startsWith('body.vscode-reduce-motion '))),
        `${sel} keeps moving with VS Code's reduce motion`,
      );
    }
});

test('panel.css: colours come from the theme; the chosen toggle is not told by colour alone; high contrast gets borders', () => {
  const rules = cssRules(panelCss);
  // Every literal colour is a fallback inside var(--vscode-...), for the standalone report.
  const literals = panelCss.replace(/\/\*[\s\S]*?\*\//g, '').replace(/var\(--vscode-[\w-]+,\s*(var\([^)]*\)|[^)]*)\)/g, '');
  assert.doesNotMatch(literals, /#[0-9a-f]{3,8}\b|rgba?\(|hsla?\(/i, 'a colour that ignores the theme');
  const body = (sel: string) =>
    rules
      .filter((r) => !r.media && r.selectors.includes(sel))
      .map((r) => r.body)
      .join(';');
  assert.match(body('.vl-seg-on'), /font-weight|text-decoration|box-shadow|outline|border/, 'the pressed range differs in more than its colour');
  assert.match(body('.vl-btn'), /border:[^;]*var\(--vscode-button-border/, "buttons keep the theme's button border (high-contrast themes outline them)");
  assert.match(panelCss, /--vscode-contrastBorder/, "high-contrast themes' contrast border is used");
  assert.match(body('.vl-swatch'), /forced-color-adjust:\s*none/, "a run's swatch keeps its colour under the OS's forced colours");
});

test('panel.css: in a narrow column the header numbers and the progress wrap rather than spill out of the card', () => {
  const rules = cssRules(panelCss);
  for (const sel of ['.vl-keys', '.vl-progress-block']) {
    const decl = rules
      .filter((r) => !r.media && r.selectors.includes(sel))
      .map((r) => r.body)
      .join(';');
    assert.match(decl, /flex-wrap:\s*wrap/, `${sel} does not wrap`);
  }
});

test('panel.css: keyboard focus is drawn on every control, and not clipped by a container that hides overflow', () => {
  const rules = cssRules(panelCss);
  const focusRule = (sel: string) => rules.filter((r) => !r.media && r.selectors.includes(`${sel}:focus-visible`)).map((r) => r.body);
  for (const sel of ['.vl-btn', '.vl-seg', '.vl-table-scroll'])
    assert.match(focusRule(sel).join(';'), /outline:\s*1px solid var\(--vl-focus\)/, `${sel} shows no focus`);
  // The range toggles sit in a group that clips its overflow (the rounded border): an outline drawn outside them is cut away.
  const clipped = rules.some((r) => r.selectors.includes('.vl-segmented') && /overflow:\s*hidden/.test(r.body));
  if (clipped) {
    const offsets = rules.filter((r) => r.selectors.includes('.vl-seg:focus-visible')).map((r) => /outline-offset:\s*(-?[\d.]+)px/.exec(r.body)?.[1]);
    assert.ok(
      offsets.some((o) => o !== undefined && Number(o) < 0),
      `.vl-seg's focus outline is drawn outside it (offset ${offsets.join(', ')}) and clipped`,
    );
  }
});
