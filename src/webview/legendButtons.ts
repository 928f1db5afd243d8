/**
 * A chart's legend as real buttons: each toggles its curve (for every run when runs are compared), is
 * reached by Tab, and says by aria-pressed whether the curve is shown. Each key is drawn in the
 * curve's colour and its line dash or shape, so it never rests on colour alone. Keys are SVG whose
 * look is set through attributes, which the panel's Content-Security-Policy allows.
 */
import { h } from './dom';
import type { LegendEntry } from './legend';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** The small picture of a curve: a stroke with its dash, a filled area or box, a hollow box, or a marker. */
export function legendKey(e: LegendEntry): SVGSVGElement {
  const key = svg('svg', { class: 'vl-legend-key', width: 22, height: 10, viewBox: '0 0 22 10', 'aria-hidden': 'true', focusable: 'false' });
  switch (e.mark) {
    case 'line':
      key.append(
        svg('line', { x1: 1, y1: 5, x2: 21, y2: 5, stroke: e.colour, 'stroke-width': 2, 'stroke-dasharray': e.dash.length ? e.dash.join(' ') : 'none' }),
      );
      break;
    case 'area':
    case 'bar':
      key.append(svg('rect', { x: 5, y: 1, width: 12, height: 8, fill: e.colour }));
      break;
    case 'hollow-bar':
      key.append(svg('rect', { x: 5.75, y: 1.75, width: 10.5, height: 6.5, fill: 'none', stroke: e.colour, 'stroke-width': 1.5 }));
      break;
    case 'point':
      key.append(
        e.pointStyle === 'rectRot'
          ? svg('rect', { x: 8, y: 2, width: 6, height: 6, fill: e.colour, transform: 'rotate(45 11 5)' })
          : svg('circle', { cx: 11, cy: 5, r: 3.5, fill: e.colour }),
      );
      break;
  }
  return key;
}

export interface LegendButtonsOptions {
  /** Names the group ("Curves of <chart title>"). */
  chartTitle: string;
  /** Prefix of each button's focus key, unique in the page. */
  keyPrefix: string;
  isHidden(kind: string): boolean;
  toggle(kind: string): void;
}

/** The legend group; `sync` re-reads which curves are hidden after a toggle, without rebuilding the buttons. */
export function legendButtons(entries: readonly LegendEntry[], o: LegendButtonsOptions): { element: HTMLElement; sync(): void } {
  const buttons = entries.map((e) => {
    const b = h(
      'button',
      { className: 'vl-legend-item', attrs: { type: 'button', 'data-focus-key': `${o.keyPrefix}${e.kind}` } },
      legendKey(e),
      h('span', { text: e.kind }),
    );
    b.addEventListener('click', () => o.toggle(e.kind));
    return { b, kind: e.kind };
  });
  const sync = () => {
    for (const { b, kind } of buttons) {
      const shown = !o.isHidden(kind);
      b.setAttribute('aria-pressed', String(shown));
      b.classList.toggle('vl-legend-off', !shown);
    }
  };
  sync();
  const element = h('div', { className: 'vl-legend', attrs: { role: 'group', 'aria-label': `Curves of ${o.chartTitle}` } }, ...buttons.map((x) => x.b));
  return { element, sync };
}
