/**
 * isToPanel checks a message's outline only; this fills in what a run may lack and drops records
 * that break the run-format contract, so the renderers can trust what they get. Pure.
 */
import { isImageLayout } from '../core/imageGeometry';
import type { PanelRun } from '../core/panelProtocol';
import { array, is } from '../core/guard';
import { checkMetricsRecord, sessionInfo, type MetricsRecord } from '../core/runFormat';

/** The default of the spec's convergence tolerance, used when a run does not say. */
export const DEFAULT_TOLERANCE = 0.01;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);

/** Keep the records that meet the contract; report how many were dropped. */
export function validRecords(records: readonly unknown[]): { records: MetricsRecord[]; dropped: number } {
  const ok = records.filter((r) => checkMetricsRecord(r) === undefined) as MetricsRecord[];
  return { records: ok, dropped: records.length - ok.length };
}

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** The images block if it has the ImagesEvent shape, else undefined. */
export function validImages(v: unknown): PanelRun['images'] {
  if (!isObj(v)) return undefined;
  const numbers = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number' || x === null);
  const lists = (a: unknown): a is number[][] => Array.isArray(a) && a.every(numbers);
  if (!numbers(v.shape) || !lists(v.originals) || !lists(v.reconstructions) || !lists(v.samples)) return undefined;
  const layout = isImageLayout(v.layout) ? { layout: v.layout } : {};
  return { shape: v.shape, ...layout, originals: v.originals, reconstructions: v.reconstructions, samples: v.samples };
}

export function normalizeRun(raw: PanelRun): { run: PanelRun; dropped: number } {
  const r = raw as unknown as Record<string, unknown>;
  const { records, dropped } = validRecords(raw.records);
  const tolerance = typeof r.tolerance === 'number' && r.tolerance > 0 && Number.isFinite(r.tolerance) ? r.tolerance : DEFAULT_TOLERANCE;
  const run: PanelRun = {
    runDir: raw.runDir,
    name: str(r.name, '') || baseName(raw.runDir),
    modelType: str(r.modelType, ''),
    backend: str(r.backend, ''),
    dataset: isObj(r.dataset) && typeof r.dataset.n === 'number' && typeof r.dataset.dim === 'number' ? raw.dataset : undefined,
    status: str(r.status, 'completed') as PanelRun['status'],
    tolerance,
    epochs: typeof r.epochs === 'number' ? r.epochs : 0,
    records,
    images: validImages(r.images),
    imagesProblem: typeof r.imagesProblem === 'string' ? r.imagesProblem : undefined,
    message: typeof r.message === 'string' ? r.message : undefined,
    theoremNote: typeof r.theoremNote === 'string' ? r.theoremNote : undefined,
    verdictNote: typeof r.verdictNote === 'string' ? r.verdictNote : undefined,
    sessions: is(array(sessionInfo), r.sessions) ? r.sessions : undefined,
  };
  return { run, dropped };
}

/**
 * The runs with names that tell them apart. Runs of one spec share its name, and comparing them (a
 * run before and after a change) is the common case: each of those is named by its folder instead,
 * which adds the time it started ("swiss-roll-20261202-113749"), and by a number after that where it
 * is still not unique (folders of the same name in two runs folders). A name no other run has is kept.
 * Every label, legend button and heading of the panel reads the name, so this is where it is made unique.
 */
export function withDistinctNames(runs: readonly PanelRun[]): PanelRun[] {
  const count = (names: readonly string[]) => names.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map<string, number>());
  const given = count(runs.map((r) => r.name));
  const shared = (r: PanelRun) => given.get(r.name)! > 1;
  const taken = new Set(runs.filter((r) => !shared(r)).map((r) => r.name));
  const folders = count(runs.filter(shared).map((r) => baseName(r.runDir)));
  return runs.map((r) => {
    if (!shared(r)) return r;
    const folder = baseName(r.runDir);
    let name = folder;
    for (let k = 1; taken.has(name) || (k === 1 && folders.get(folder)! > 1); k++) name = `${folder} (${k})`;
    taken.add(name);
    return { ...r, name };
  });
}
