/** The panel's view model of a run (see panelProtocol.ts), built from what was read from its folder. Pure. */
import * as path from 'node:path';
import type { PanelRun } from './panelProtocol';
import type { RunContents } from './run/read';

/** The panel's view of a run read from its folder (`live`: a trainer of this window is writing it). */
export function toPanelRun(c: RunContents, live: boolean): PanelRun {
  // The panel reads the verdict from the last record: it gets the one judged from the passes there
  // (readRunContents), in place of what the writer left (nothing, or a verdict the passes do not give).
  const last = c.records[c.records.length - 1];
  const judged = last !== undefined && c.convergence !== undefined && (last.convergence !== c.convergence || last.convergenceReason !== c.convergenceReason);
  const records = judged ? [...c.records.slice(0, -1), { ...last, convergence: c.convergence, convergenceReason: c.convergenceReason }] : c.records;
  return {
    runDir: c.runDir,
    name: c.meta?.name ?? path.basename(c.runDir),
    modelType: c.meta?.modelType ?? 'unknown',
    backend: c.meta?.backend ?? 'unknown',
    dataset: c.meta?.dataset,
    status: live ? 'training' : c.status,
    tolerance: c.tolerance,
    epochs: c.meta?.epochs ?? c.summary?.epochsDone ?? 0,
    records,
    images: c.images,
    imagesProblem: c.imagesProblem,
    message: live ? undefined : c.message,
    theoremNote: c.theoremNote,
    ...(c.verdictNotes.length > 0 ? { verdictNote: c.verdictNotes.join(' ') } : {}),
    sessions: c.meta?.sessions,
  };
}
