/**
 * The curves switched off in the charts' legends, as the board keeps them (a set of curve kinds per
 * chart) and as the webview state saves them (plain arrays). Pure.
 */
import type { PanelState } from '../core/panelProtocol';
import { CHART_IDS, type ChartId } from './chartConfigs';

export type HiddenCurves = Map<ChartId, Set<string>>;

const isChartId = (id: string): id is ChartId => (Object.values(CHART_IDS) as string[]).includes(id);

/** From the saved state; entries for charts the panel no longer has are dropped. */
export function hiddenFromState(saved: PanelState['hiddenCurves']): HiddenCurves {
  const hidden: HiddenCurves = new Map();
  for (const { chart, curves } of saved ?? []) if (isChartId(chart) && curves.length) hidden.set(chart, new Set(curves));
  return hidden;
}

/** For the saved state: only charts with something switched off. */
export function hiddenToState(hidden: HiddenCurves): NonNullable<PanelState['hiddenCurves']> {
  return [...hidden].filter(([, curves]) => curves.size > 0).map(([chart, curves]) => ({ chart, curves: [...curves] }));
}
