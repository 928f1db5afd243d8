/**
 * How a report page carries its runs: as the panel gets them (panelRunToSend), with the passes
 * before the latest written as columns, one array of numbers per charted field, rather than as one
 * object per pass that names every field again. The numbers are written whole (a report of 2000
 * passes weighed 40 % less this way); a pass that lacks a field is listed as lacking it, so what the
 * page reads back is what was written. Pure and free of Node, for the CLI and the webview.
 */
import { panelRunToSend } from './panelPayload';
import type { PanelRun } from './panelProtocol';

/** The passes before the latest: each field's values in pass order, and the passes (by index) that lack it. */
export interface EarlierPassColumns {
  count: number;
  columns: Record<string, (number | null)[]>;
  absent?: Record<string, number[]>;
}

/** A run as the report's data island holds it: `records` is its latest pass alone. */
export type ReportRun = PanelRun & { earlierPasses?: EarlierPassColumns };

/** The fields of a pass before the latest that are the same at every pass (panelPayload's asEarlierPass). */
const EMPTY_ARRAYS = ['latentSecondMoment', 'klPerLatent'] as const;

export function packRunForReport(run: PanelRun): ReportRun {
  const sent = panelRunToSend(run);
  const earlier = sent.records.slice(0, -1);
  if (earlier.length === 0) return sent;
  const fields = new Set(earlier.flatMap((r) => Object.keys(r).filter((k) => !(EMPTY_ARRAYS as readonly string[]).includes(k))));
  const columns: Record<string, (number | null)[]> = {};
  const absent: Record<string, number[]> = {};
  for (const f of fields) {
    columns[f] = earlier.map((r, i) => {
      const v = (r as unknown as Record<string, unknown>)[f];
      if (v === undefined) (absent[f] ??= []).push(i);
      return typeof v === 'number' ? v : null;
    });
  }
  const packed: ReportRun = { ...sent, records: sent.records.slice(-1), earlierPasses: { count: earlier.length, columns } };
  if (Object.keys(absent).length) packed.earlierPasses!.absent = absent;
  return packed;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A run of a report page back as a PanelRun, its earlier passes restored before its latest; a run
 * written without columns is returned as it is. Undefined when the columns are malformed (the page
 * then says its data do not describe runs); the records themselves are checked where the panel reads them.
 */
export function unpackReportRun(raw: unknown): unknown {
  if (!isObject(raw) || raw.earlierPasses === undefined) return raw;
  const { earlierPasses, ...run } = raw;
  if (!isObject(earlierPasses) || !Array.isArray(run.records)) return undefined;
  const { count, columns, absent = {} } = earlierPasses;
  if (!Number.isInteger(count) || !isObject(columns) || !isObject(absent)) return undefined;
  const n = count as number;
  const records: Record<string, unknown>[] = Array.from({ length: n }, () => ({ latentSecondMoment: [], klPerLatent: [] }));
  for (const [field, values] of Object.entries(columns)) {
    if (!Array.isArray(values) || values.length !== n) return undefined;
    const lacking = absent[field] ?? [];
    if (!Array.isArray(lacking)) return undefined;
    const skip = new Set(lacking);
    values.forEach((v, i) => {
      if (!skip.has(i)) records[i]![field] = v;
    });
  }
  const latest = run.records as unknown[];
  return { ...run, records: [...records, ...latest] };
}
