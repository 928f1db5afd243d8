/**
 * The folders that may hold runs: each spec's (the runsDirectory setting of its folder, its own
 * output.runsDir, by default .vae-lens/runs next to it) and each workspace folder's runsDirectory
 * setting. The runs view lists a spec's runs from that spec's folders; the pickers list, and the
 * file watchers watch, the union of them all, so a run the view shows is one the pickers offer
 * and one whose changes refresh the views. No vscode here: the editor's side comes in as sources.
 */
import * as path from 'node:path';
import { isInsideRoots } from '../../core/confinement';
import { samePath, samePathKeys } from '../../core/run/paths';

export interface RunsFolderSources {
  /** The specs in the workspace (never the snapshots inside run folders). */
  specs(): Promise<string[]>;
  /** The folders that may hold this spec's runs (as the runs view reads them). */
  runsDirsForSpec(specPath: string): Promise<string[]>;
  /** Each workspace folder's runsDirectory setting, resolved against that folder. */
  configuredRunsDirs(): string[];
}

/**
 * The folders of all lists, each once (by path, as samePath compares them), in order of first appearance.
 * Each path's real path is looked up once: the run pickers pass every run folder, hundreds of them.
 */
export function uniqueFolders(lists: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  const spellings = new Set<string>();
  const reals = new Set<string>();
  for (const list of lists)
    for (const d of list) {
      const spelt = samePathKeys.spelt(d);
      if (spellings.has(spelt)) continue;
      const real = samePathKeys.real(d);
      if (reals.has(real)) continue;
      spellings.add(spelt);
      reals.add(real);
      out.push(d);
    }
  return out;
}

/** The union of every spec's runs folders and the configured ones, computed once per change. */
export class RunsFolders {
  private current: Promise<string[]> | undefined;

  constructor(private readonly sources: RunsFolderSources) {}

  folders(): Promise<string[]> {
    if (!this.current) {
      const p = this.compute();
      this.current = p;
      // A failed look-up is not kept: the next call tries again.
      p.catch(() => {
        if (this.current === p) this.current = undefined;
      });
    }
    return this.current;
  }

  /** Specs, their output.runsDir, settings or workspace folders changed: compute the set again when next asked. */
  invalidate(): void {
    this.current = undefined;
  }

  private async compute(): Promise<string[]> {
    const specs = await this.sources.specs();
    const perSpec = await Promise.all(specs.map((s) => this.sources.runsDirsForSpec(s)));
    return uniqueFolders([this.sources.configuredRunsDirs(), ...perSpec]);
  }
}

/**
 * The run folder a changed run file (run.json, summary.json) belongs to, when that run is one of
 * ours: its runs folder is a default one (.vae-lens/runs) or one of `folders`. Else undefined.
 */
export function runOfChangedFile(file: string, folders: readonly string[]): string | undefined {
  const runDir = path.dirname(file);
  const runsDir = path.dirname(runDir);
  const isDefault = path.basename(runsDir) === 'runs' && path.basename(path.dirname(runsDir)) === '.vae-lens';
  return isDefault || folders.some((f) => samePath(f, runsDir)) ? runDir : undefined;
}

/**
 * The runs folders that need a watcher of their own: those outside every workspace folder. The
 * workspace's own recursive watcher sees the others, also when they do not exist yet (a new
 * custom folder the command line creates), which a watcher of the folder itself may miss.
 */
export function foldersOutside(folders: readonly string[], roots: readonly string[]): string[] {
  return folders.filter((f) => !isInsideRoots(f, roots));
}

export interface Disposable {
  dispose(): void;
}

/** One watcher per folder: kept while the folder stays in the set, made for one that joins, disposed for one that leaves. */
export class FolderWatchers implements Disposable {
  private readonly watchers = new Map<string, { folder: string; watcher: Disposable }>();

  constructor(private readonly watch: (folder: string) => Disposable) {}

  sync(folders: readonly string[]): void {
    const wanted = uniqueFolders([folders]);
    const key = (f: string) => path.resolve(f);
    const keep = new Set(wanted.map(key));
    for (const [k, w] of this.watchers) {
      if (keep.has(k)) continue;
      w.watcher.dispose();
      this.watchers.delete(k);
    }
    for (const folder of wanted) if (!this.watchers.has(key(folder))) this.watchers.set(key(folder), { folder, watcher: this.watch(folder) });
  }

  watched(): string[] {
    return [...this.watchers.values()].map((w) => w.folder);
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.watcher.dispose();
    this.watchers.clear();
  }
}
