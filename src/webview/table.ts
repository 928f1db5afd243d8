/** The summary table (rows: quantities, columns: runs), rendered with textContent only. */
import type { RunView } from './chartConfigs';
import { h, swatch } from './dom';
import { fmtEpoch } from './format';
import { lastRecord, summaryRows } from './summary';

export function renderSummaryTable(views: readonly RunView[]): HTMLTableElement {
  const compare = views.length > 1;
  const runs = views.map((v) => v.run);
  const head = h(
    'tr',
    {},
    h('th', { className: 'vl-th-quantity', text: 'Latest pass', attrs: { scope: 'col' } }),
    ...views.map((v) => {
      const rec = lastRecord(v.run);
      return h(
        'th',
        { attrs: { scope: 'col' }, title: v.run.runDir },
        compare ? swatch(v.colour) : null,
        h('span', { className: 'vl-th-run', text: compare ? v.run.name : rec ? `epoch ${fmtEpoch(rec.epoch)}` : 'no passes yet' }),
        compare && rec ? h('span', { className: 'vl-muted', text: ` @ ${fmtEpoch(rec.epoch)}` }) : null,
      );
    }),
  );
  const body = summaryRows(runs).map((row) =>
    h(
      'tr',
      {},
      h('th', { text: row.label, title: row.help, attrs: { scope: 'row' } }),
      ...row.cells.map((c) =>
        h(
          'td',
          { className: c.tone ? `vl-tone-${c.tone}` : undefined, title: c.detail },
          h('span', { text: c.text }),
          c.detail && c.tone ? h('span', { className: 'vl-cell-detail', text: c.detail }) : null,
        ),
      ),
    ),
  );
  return h('table', { className: 'vl-summary' }, h('thead', {}, head), h('tbody', {}, ...body));
}
