/** The summary table (rows: quantities, columns: runs), rendered with textContent only. */
import type { PanelRun } from '../core/panelProtocol';
import type { RunView } from './chartConfigs';
import { h, swatch } from './dom';
import { fmtEpoch } from './format';
import type { PassAxis } from './series';
import { lastRecord, summaryRows } from './summary';

/** Where the latest pass is: its epoch, and off the epoch axis also what the charts place it by. */
export function latestPassText(run: PanelRun, axis: PassAxis): string | undefined {
  const rec = lastRecord(run);
  if (!rec) return undefined;
  const epoch = `epoch ${fmtEpoch(rec.epoch)}`;
  if (axis === 'epoch') return epoch;
  return axis === 'step' ? `step ${rec.step} (${epoch})` : `pass ${run.records.length} (${epoch}, step ${rec.step})`;
}

export const SUMMARY_TABLE_ID = 'vl-summary-table';

/** The id of a row's explanation, which its header is described by. */
export const rowHelpId = (row: number) => `vl-row-help-${row}`;

/**
 * The table; `explain` shows each row's explanation under its name (the summary's "Explain rows"
 * button). Shown or not, a row header is described by it (aria-describedby), so a screen reader
 * says it with the row.
 */
export function renderSummaryTable(views: readonly RunView[], axis: PassAxis, explain: boolean): HTMLTableElement {
  const compare = views.length > 1;
  const runs = views.map((v) => v.run);
  const head = h(
    'tr',
    {},
    h('th', { className: 'vl-th-quantity', text: 'Latest pass', attrs: { scope: 'col' } }),
    ...views.map((v) => {
      const latest = latestPassText(v.run, axis);
      return h(
        'th',
        { attrs: { scope: 'col' } },
        compare ? swatch(v.colour) : null,
        h('span', { className: 'vl-th-run', text: compare ? v.run.name : (latest ?? 'no passes yet') }),
        compare && latest ? h('span', { className: 'vl-muted', text: ` @ ${latest}` }) : null,
      );
    }),
  );
  const body = summaryRows(runs).map((row, i) =>
    h(
      'tr',
      {},
      h(
        'th',
        { title: explain ? undefined : row.help, attrs: { scope: 'row', 'aria-describedby': rowHelpId(i) } },
        h('span', { text: row.label }),
        h('span', { className: 'vl-row-help', text: row.help, attrs: explain ? { id: rowHelpId(i) } : { id: rowHelpId(i), hidden: '' } }),
      ),
      ...row.cells.map((c) =>
        h(
          'td',
          { className: c.tone ? `vl-tone-${c.tone}` : undefined },
          h('span', { text: c.text }),
          // Written out, not a tooltip: a keyboard reaches no tooltip (the run folder is in the run's header).
          c.detail ? h('span', { className: 'vl-cell-detail', text: c.detail }) : null,
        ),
      ),
    ),
  );
  return h('table', { className: 'vl-summary', attrs: { id: SUMMARY_TABLE_ID } }, h('thead', {}, head), h('tbody', {}, ...body));
}
