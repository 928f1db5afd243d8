/**
 * Problems in *.vae.json specs as editor diagnostics (collection "vae-lens"), re-checked
 * as the user types (debounced), on settings and trust changes; and the problems a
 * trainer reported for a run (collection "vae-lens-training"), kept until the next run.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatLocation } from '../../core/errors';
import type { ErrorEvent } from '../../core/protocol';
import { locationToRange, type Range0 } from './locationRange';
import { affectsSettings, readSettings, workspaceRoots } from '../settings';
import { checkSpecText, locateField, type SpecProblem } from './specChecks';
import { isSpecDocument, renamedUri } from './specFiles';
import { samePath } from '../../core/run/paths';
import { Throttle } from '../throttle';

const DEBOUNCE_MS = 300;
/** How often files appearing and going (a download, a training run's writes) may re-check the open specs. */
const RECHECK_MS = 1000;
const SOURCE = 'VAE Lens';

const toRange = (r: Range0) => new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);

const SEVERITY: Record<SpecProblem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};

export class SpecDiagnostics implements vscode.Disposable {
  private readonly specProblems = vscode.languages.createDiagnosticCollection('vae-lens');
  private readonly runProblems = vscode.languages.createDiagnosticCollection('vae-lens-training');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Which files carry a spec's training problems, to clear just those on its next run. */
  private readonly runProblemFiles = new Map<string, vscode.Uri[]>();
  /** The spec each key of runProblemFiles and runTexts is of. */
  private readonly runSpecs = new Map<string, vscode.Uri>();
  /** The text each spec's run trained, which its problems in the spec are placed in. */
  private readonly runTexts = new Map<string, string>();
  private readonly disposables: vscode.Disposable[] = [this.specProblems, this.runProblems];
  private readonly rechecks = new Throttle(RECHECK_MS, () => this.checkAll());

  constructor() {
    // A spec's data file can appear or go without the spec being touched (downloaded, written by a
    // script, deleted): "not found" must not outlive it. Outside the workspace nothing is watched, so
    // coming back to the window looks again.
    const files = vscode.workspace.createFileSystemWatcher('**/*', false, true, false);
    const recheck = (uri: vscode.Uri) => {
      if (!uri.fsPath.replace(/\\/g, '/').includes('/.vae-lens/')) this.rechecks.schedule();
    };
    this.disposables.push(
      files,
      files.onDidCreate(recheck),
      files.onDidDelete(recheck),
      vscode.window.onDidChangeWindowState((s) => {
        if (s.focused) this.rechecks.schedule();
      }),
      vscode.workspace.onDidOpenTextDocument((d) => this.check(d)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        this.dropOutdatedRunProblems(e.document);
        this.schedule(e.document);
      }),
      vscode.workspace.onDidSaveTextDocument((d) => this.check(d)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.specProblems.delete(d.uri);
        clearTimeout(this.timers.get(d.uri.toString()));
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsSettings(e)) this.checkAll();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.checkAll()),
      vscode.workspace.onDidRenameFiles((e) => this.followRenames(e.files)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.checkAll()),
    );
    this.checkAll();
  }

  checkAll(): void {
    for (const d of vscode.workspace.textDocuments) this.check(d);
  }

  private schedule(doc: vscode.TextDocument): void {
    if (!isSpecDocument(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.check(doc);
      }, DEBOUNCE_MS),
    );
  }

  check(doc: vscode.TextDocument): void {
    if (!isSpecDocument(doc) || doc.isClosed) return;
    const settings = readSettings(doc.uri);
    let problems: SpecProblem[];
    try {
      problems = checkSpecText(doc.getText(), doc.uri.fsPath, {
        trusted: vscode.workspace.isTrusted,
        workspaceRoots: workspaceRoots(),
        allowOutsideWorkspace: settings.allowDataOutsideWorkspace,
      });
    } catch (e) {
      // A bug in a checker must not take the other diagnostics down with it.
      problems = [
        {
          severity: 'error',
          message: `VAE Lens could not check this spec: ${(e as Error).message}`,
          range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
        },
      ];
    }
    this.specProblems.set(
      doc.uri,
      problems.map((p) => {
        const d = new vscode.Diagnostic(toRange(p.range), p.message, SEVERITY[p.severity]);
        d.source = SOURCE;
        return d;
      }),
    );
  }

  /**
   * A UserError the trainer hit (a bad data row, a spec problem): shown where it is, until the next run.
   * `trainedText` is the spec's text the trainer read; the user may have edited it since.
   */
  reportTrainerError(specUri: vscode.Uri, trainedText: string, event: ErrorEvent): void {
    const loc = event.location ?? {};
    let uri = specUri;
    let range: vscode.Range;
    let message = event.message;
    // The text in the editor now: the trainer's word about the spec's text was about the trained one, and
    // its offsets and lines mean nothing in another (the same as an edit made after it was reported).
    const specText = vscode.workspace.textDocuments.find((d) => d.uri.toString() === specUri.toString())?.getText() ?? trainedText;
    const inSpec = loc.file === undefined || samePath(path.resolve(path.dirname(specUri.fsPath), loc.file), specUri.fsPath);
    if (inSpec) {
      if (specText !== trainedText) return;
      const byField = loc.offset === undefined && loc.line === undefined && loc.field ? locateField(specText, loc.field) : undefined;
      range = toRange(locationToRange({ ...loc, ...byField }, specText));
    } else if (loc.line !== undefined) {
      uri = vscode.Uri.file(path.resolve(path.dirname(specUri.fsPath), loc.file!));
      const line = Math.max(0, loc.line - 1);
      const col = Math.max(0, (loc.column ?? 1) - 1);
      range = new vscode.Range(line, col, line, col + 1);
    } else {
      // A data file without a line (binary formats, a row index): point at data.path and say where.
      const where = formatLocation(loc);
      if (where) message = `${where}: ${message}`;
      range = toRange(locationToRange(locateField(specText, 'data.path') ?? {}, specText));
    }
    const d = new vscode.Diagnostic(range, message, vscode.DiagnosticSeverity.Error);
    d.source = `${SOURCE} (training)`;
    this.runProblems.set(uri, [...(this.runProblems.get(uri) ?? []), d]);
    const files = this.runProblemFiles.get(specUri.toString()) ?? [];
    this.runProblemFiles.set(specUri.toString(), [...files, uri]);
    this.runTexts.set(specUri.toString(), specText);
    this.runSpecs.set(specUri.toString(), specUri);
  }

  /**
   * A spec, its data file or a folder above them renamed in the explorer: the trainer's problems move with
   * their files (left behind, they would point into files that are gone), and stay the spec's to clear.
   */
  private followRenames(renames: vscode.FileRenameEvent['files']): void {
    const moves = new Map<string, [vscode.Uri, vscode.Uri]>();
    const follow = (uri: vscode.Uri) => {
      const to = renamedUri(uri, renames);
      if (to) moves.set(uri.toString(), [uri, to]);
      return to ?? uri;
    };
    for (const [key, spec] of [...this.runSpecs]) {
      const to = follow(spec);
      const files = (this.runProblemFiles.get(key) ?? []).map(follow);
      const text = this.runTexts.get(key);
      this.runSpecs.delete(key);
      this.runProblemFiles.delete(key);
      this.runTexts.delete(key);
      this.runSpecs.set(to.toString(), to);
      if (files.length > 0) this.runProblemFiles.set(to.toString(), files);
      if (text !== undefined) this.runTexts.set(to.toString(), text);
    }
    for (const [from, to] of moves.values()) {
      const diagnostics = this.runProblems.get(from);
      if (!diagnostics) continue;
      this.runProblems.delete(from);
      this.runProblems.set(to, [...(this.runProblems.get(to) ?? []), ...diagnostics]);
    }
  }

  clearTrainerErrors(specUri: vscode.Uri): void {
    for (const uri of this.runProblemFiles.get(specUri.toString()) ?? []) this.runProblems.delete(uri);
    this.runProblemFiles.delete(specUri.toString());
    this.runTexts.delete(specUri.toString());
    this.runSpecs.delete(specUri.toString());
  }

  /**
   * A spec edited after its run: what the trainer said about the spec was placed in (and was about) the
   * text it trained, so it goes; what it said about a data file is still true of that file, so it stays.
   */
  private dropOutdatedRunProblems(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    const trained = this.runTexts.get(key);
    if (trained === undefined || doc.getText() === trained) return;
    this.runProblems.delete(doc.uri);
    this.runTexts.delete(key);
    const others = (this.runProblemFiles.get(key) ?? []).filter((u) => u.toString() !== key);
    if (others.length > 0) this.runProblemFiles.set(key, others);
    else this.runProblemFiles.delete(key);
  }

  dispose(): void {
    this.rechecks.dispose();
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}
