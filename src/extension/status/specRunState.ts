/** Gathers what is known about one spec's runs into the RunStateInput the wording functions take. */
import * as vscode from 'vscode';
import type { RunIndex } from '../runs/runIndex';
import type { LiveProgress, RunStateInput } from './runStateWording';
import { specChangedSince } from '../../core/specChange';
import { specText } from '../specs/specFiles';
import { specLabel } from '../specs/specLabel';
import type { TrainerClient } from '../trainer/trainerClient';
import type { TrainerProcess } from '../trainer/trainerProcess';

export function liveProgressOf(t: TrainerProcess): LiveProgress {
  const p = t.lastProgress;
  return {
    // 0 until the first progress: a run whose epochs are not known yet (a script's) is "starting", not in epoch 1.
    epoch: p?.epoch ?? 0,
    epochs: t.started?.epochs ?? 0,
    epochFraction: p?.epochFraction ?? 0,
    samplesPerSec: p?.samplesPerSec,
    etaSeconds: p?.etaSeconds,
  };
}

export async function specRunState(specUri: vscode.Uri, index: RunIndex, client: TrainerClient): Promise<RunStateInput & { specName: string }> {
  const specPath = specUri.fsPath;
  const trainer = client.forSpec(specPath);
  const [newest, text] = await Promise.all([index.latestForSpec(specPath), specText(specUri)]);
  const latest = newest === undefined ? undefined : await index.shown(newest);
  const specName = specLabel(specUri);
  const base: RunStateInput = {
    hasRun: latest !== undefined,
    specChanged: latest?.specText !== undefined && text !== undefined && specChangedSince(text, latest.specText),
    status: latest?.status,
    convergence: latest?.convergence,
    convergenceReason: latest?.convergenceReason,
    last: latest?.last,
    message: latest?.message,
    backend: latest?.meta?.backend,
    runDir: latest?.runDir,
    modelType: latest?.meta?.modelType,
    theoremNote: latest?.theoremNote,
    verdictNotes: latest?.verdictNotes,
  };
  if (!trainer) return { ...base, specName };
  // Until the index has read the live run's folder, `latest` is the run before it: its verdict, model and text are not this run's.
  const own = latest !== undefined && latest.runDir === trainer.runDir;
  const trained = trainer.specText ?? (own ? latest.specText : undefined);
  const record = trainer.lastRecord ?? (own ? latest.last : undefined);
  return {
    hasRun: base.hasRun,
    live: liveProgressOf(trainer),
    specChanged: trained !== undefined && text !== undefined && specChangedSince(text, trained),
    convergence: record?.convergence ?? (own ? base.convergence : undefined),
    convergenceReason: record?.convergenceReason ?? (own ? base.convergenceReason : undefined),
    last: record,
    message: own ? base.message : undefined,
    backend: trainer.started?.backend ?? (own ? base.backend : undefined),
    runDir: trainer.runDir ?? base.runDir,
    modelType: own ? base.modelType : undefined,
    theoremNote: own ? base.theoremNote : undefined,
    specName,
  };
}
