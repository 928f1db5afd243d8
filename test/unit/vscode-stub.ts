/**
 * A stand-in for the `vscode` module, for unit tests of extension code whose logic needs only a few
 * of its calls (commands that pick a target, save a file, say what happened). Import this before the
 * module under test: the bundle keeps `vscode` external, and this answers its require. Messages the
 * code shows are recorded in `shown`; dialogs answer what the test sets in `answers`.
 */
import Module from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', path.resolve(p));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, path.join(base.fsPath, ...parts));
  }
  get path(): string {
    return this.fsPath;
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

export interface Shown {
  level: 'info' | 'warning' | 'error';
  message: string;
}

export const shown: Shown[] = [];
/** The items of every quick pick shown (each is dismissed). */
export const quickPicks: { label: string; description?: string; detail?: string }[][] = [];
/** The document selectors providers were registered for. */
export const registeredSelectors: unknown[] = [];
/** Every progress.report() of withProgress, and every message posted to a webview, in order. */
export const progressReports: { message?: string; increment?: number }[] = [];
/** The title of every withProgress, in order. */
export const progressTitles: string[] = [];
export const webviewPosts: unknown[] = [];

/** A webview panel that records what it is sent; `receive` plays a message from its page. */
export class FakeWebviewPanel {
  title = '';
  visible = true;
  private onMessage: ((m: unknown) => void) | undefined;
  readonly webview = {
    options: {},
    html: '',
    cspSource: 'vscode-webview:',
    asWebviewUri: (u: Uri) => u,
    postMessage: (m: unknown) => {
      webviewPosts.push(m);
      return Promise.resolve(true);
    },
    onDidReceiveMessage: (listener: (m: unknown) => void) => {
      this.onMessage = listener;
      return disposable;
    },
  };
  onDidDispose = () => disposable;
  onDidChangeViewState = () => disposable;
  reveal(): void {}
  dispose(): void {}
  receive(m: unknown): void {
    this.onMessage?.(m);
  }
}
export const createdPanels: FakeWebviewPanel[] = [];
/** The documents open in the editor (workspace.textDocuments); a test puts its own here. */
export const openDocuments: { uri: Uri; getText: () => string }[] = [];
/** `message`: the button a message answers with (undefined: it is dismissed); `pick`: the index of the quick pick item chosen. */
/** The place every save or open dialog offered first, in order. */
export const dialogDefaults: (Uri | undefined)[] = [];
export const answers: { saveDialog?: Uri; openDialog?: Uri[]; message?: string; pick?: number } = {};

/**
 * The editor setup a test plays: the workspace folders (undefined: no folder open), the settings
 * (`vaeLens.<key>` → value, for every scope), the active editor's document, and what findFiles finds.
 */
export const setup: {
  folders: { uri: Uri; name: string; index: number }[] | undefined;
  settings: Record<string, unknown>;
  activeDocument: { uri: Uri; isUntitled: boolean; languageId: string; getText: () => string } | undefined;
  files: Uri[];
} = { folders: undefined, settings: {}, activeDocument: undefined, files: [] };

const disposable = { dispose: () => undefined };

/** Listeners of the workspace (and window) events the code under test subscribes to; `fireWorkspace` plays one. */
const workspaceListeners = new Map<string, ((e: unknown) => void)[]>();
const workspaceEvent =
  (name: string) =>
  (listener: (e: unknown) => void): typeof disposable => {
    workspaceListeners.set(name, [...(workspaceListeners.get(name) ?? []), listener]);
    return disposable;
  };
export function fireWorkspace(name: string, e: unknown): void {
  for (const listener of workspaceListeners.get(name) ?? []) listener(e);
}

/** A file system watcher whose events a test plays with `fire`; every one made is in `fileWatchers`. */
export class FakeFileSystemWatcher {
  private readonly listeners = new Map<string, ((uri: Uri) => void)[]>();
  constructor(readonly glob: unknown) {}
  private on = (kind: string) => (listener: (uri: Uri) => void) => {
    this.listeners.set(kind, [...(this.listeners.get(kind) ?? []), listener]);
    return disposable;
  };
  onDidCreate = this.on('create');
  onDidChange = this.on('change');
  onDidDelete = this.on('delete');
  fire(kind: 'create' | 'change' | 'delete', uri: Uri): void {
    for (const listener of this.listeners.get(kind) ?? []) listener(uri);
  }
  dispose(): void {}
}
export const fileWatchers: FakeFileSystemWatcher[] = [];

export class Range {
  constructor(
    readonly startLine: number,
    readonly startCharacter: number,
    readonly endLine: number,
    readonly endCharacter: number,
  ) {}
}
export class Diagnostic {
  source?: string;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number,
  ) {}
}
/** A diagnostic collection that keeps what it is given, by the Uri's string; every one made is in `diagnosticCollections`. */
export class FakeDiagnosticCollection {
  readonly entries = new Map<string, Diagnostic[]>();
  constructor(readonly name: string) {}
  set(uri: Uri, diagnostics: Diagnostic[]): void {
    this.entries.set(uri.toString(), diagnostics);
  }
  get(uri: Uri): Diagnostic[] | undefined {
    return this.entries.get(uri.toString());
  }
  delete(uri: Uri): void {
    this.entries.delete(uri.toString());
  }
  dispose(): void {}
}
export const diagnosticCollections: FakeDiagnosticCollection[] = [];
/** A status bar item that keeps what it is set to; every one made is in `statusBarItems`. */
export class FakeStatusBarItem {
  text = '';
  name = '';
  tooltip: unknown;
  command: unknown;
  backgroundColor: unknown;
  accessibilityInformation: unknown;
  visible = false;
  constructor(readonly id: string) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {}
}
export const statusBarItems: FakeStatusBarItem[] = [];
/** The ids of every command registered, and of every tree view and webview serializer made, in order. */
export const registeredCommands: string[] = [];
export const treeViews: string[] = [];
export const panelSerializers: string[] = [];
/** The document selectors CodeLens providers were registered for. */
export const codeLensSelectors: unknown[] = [];
const show =
  (level: Shown['level']) =>
  (message: string): Promise<string | undefined> => {
    shown.push({ level, message });
    return Promise.resolve(answers.message);
  };

const vscode = {
  Uri,
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ViewColumn: { Active: -1, Beside: -2 },
  Range,
  Diagnostic,
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  EventEmitter: class<T> {
    private listeners: ((e: T) => void)[] = [];
    event = (listener: (e: T) => void) => {
      this.listeners.push(listener);
      return { dispose: () => void (this.listeners = this.listeners.filter((l) => l !== listener)) };
    };
    fire(e: T): void {
      for (const l of [...this.listeners]) l(e);
    }
    dispose(): void {
      this.listeners = [];
    }
  },
  Disposable: { from: () => disposable },
  StatusBarAlignment: { Left: 1, Right: 2 },
  MarkdownString: class {
    constructor(
      public value = '',
      readonly supportThemeIcons = false,
    ) {}
    appendMarkdown(text: string) {
      this.value += text;
      return this;
    }
    appendText(text: string) {
      this.value += text;
      return this;
    }
  },
  ThemeColor: class {
    constructor(readonly id: string) {}
  },
  ThemeIcon: class {
    constructor(
      readonly id: string,
      readonly color?: unknown,
    ) {}
  },
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  TreeItem: class {
    description?: string;
    constructor(
      readonly label: string,
      readonly collapsibleState?: number,
    ) {}
  },
  RelativePattern: class {
    constructor(
      readonly base: Uri,
      readonly pattern: string,
    ) {}
  },
  Hover: class {
    constructor(readonly contents: unknown) {}
  },
  window: {
    createOutputChannel: () => ({ appendLine: () => undefined, append: () => undefined, show: () => undefined, dispose: () => undefined }),
    createTreeView: (id: string) => (treeViews.push(id), { selection: [], dispose: () => undefined }),
    registerWebviewPanelSerializer: (viewType: string) => (panelSerializers.push(viewType), disposable),
    get activeTextEditor() {
      return setup.activeDocument && { document: setup.activeDocument };
    },
    onDidChangeWindowState: workspaceEvent('onDidChangeWindowState'),
    onDidChangeActiveTextEditor: workspaceEvent('onDidChangeActiveTextEditor'),
    createStatusBarItem: (id: string) => {
      const item = new FakeStatusBarItem(id);
      statusBarItems.push(item);
      return item;
    },
    showInformationMessage: show('info'),
    showWarningMessage: show('warning'),
    showErrorMessage: show('error'),
    showQuickPick: (items: { label: string; description?: string; detail?: string }[]) => {
      quickPicks.push(items);
      return Promise.resolve(answers.pick === undefined ? undefined : items[answers.pick]);
    },
    showTextDocument: () => Promise.resolve(undefined),
    showSaveDialog: (options: { defaultUri?: Uri }) => (dialogDefaults.push(options.defaultUri), Promise.resolve(answers.saveDialog)),
    showOpenDialog: (options: { defaultUri?: Uri }) => (dialogDefaults.push(options.defaultUri), Promise.resolve(answers.openDialog)),
    withProgress: <T>(options: { title?: string }, task: (progress: unknown, token: unknown) => Promise<T>) => (
      progressTitles.push(options.title ?? ''),
      task(
        { report: (r: { message?: string; increment?: number }) => progressReports.push(r) },
        { isCancellationRequested: false, onCancellationRequested: () => disposable },
      )
    ),
    createWebviewPanel: () => {
      const panel = new FakeWebviewPanel();
      createdPanels.push(panel);
      return panel;
    },
  },
  workspace: {
    isTrusted: true,
    get workspaceFolders() {
      return setup.folders;
    },
    getWorkspaceFolder: (uri: Uri) => setup.folders?.find((f) => uri.fsPath === f.uri.fsPath || uri.fsPath.startsWith(f.uri.fsPath + path.sep)),
    textDocuments: openDocuments,
    onDidSaveTextDocument: workspaceEvent('onDidSaveTextDocument'),
    createFileSystemWatcher: (glob: unknown) => {
      const watcher = new FakeFileSystemWatcher(glob);
      fileWatchers.push(watcher);
      return watcher;
    },
    onDidOpenTextDocument: workspaceEvent('onDidOpenTextDocument'),
    onDidChangeTextDocument: workspaceEvent('onDidChangeTextDocument'),
    onDidCloseTextDocument: workspaceEvent('onDidCloseTextDocument'),
    onDidChangeConfiguration: workspaceEvent('onDidChangeConfiguration'),
    onDidGrantWorkspaceTrust: workspaceEvent('onDidGrantWorkspaceTrust'),
    onDidChangeWorkspaceFolders: workspaceEvent('onDidChangeWorkspaceFolders'),
    onDidRenameFiles: workspaceEvent('onDidRenameFiles'),
    findFiles: () => Promise.resolve(setup.files),
    openTextDocument: (uri: Uri) => Promise.resolve({ uri }),
    getConfiguration: (section: string) => ({
      get: <T>(key: string, fallback: T) => (`${section}.${key}` in setup.settings ? (setup.settings[`${section}.${key}`] as T) : fallback),
    }),
    asRelativePath: (p: string | Uri) => (typeof p === 'string' ? p : p.fsPath),
    fs: {
      writeFile: (uri: Uri, bytes: Uint8Array) => fs.promises.writeFile(uri.fsPath, bytes),
      readFile: (uri: Uri) => fs.promises.readFile(uri.fsPath),
      createDirectory: (uri: Uri) => fs.promises.mkdir(uri.fsPath, { recursive: true }),
      delete: (uri: Uri, opts: { recursive?: boolean }) => fs.promises.rm(uri.fsPath, { recursive: opts.recursive, force: true }),
    },
  },
  commands: {
    executeCommand: () => Promise.resolve(undefined),
    registerCommand: (id: string) => (registeredCommands.push(id), disposable),
  },
  languages: {
    createDiagnosticCollection: (name: string) => {
      const collection = new FakeDiagnosticCollection(name);
      diagnosticCollections.push(collection);
      return collection;
    },
    registerCodeLensProvider: (selector: unknown) => (codeLensSelectors.push(selector), disposable),
    registerHoverProvider: (selector: unknown) => {
      registeredSelectors.push(selector);
      return disposable;
    },
  },
};

const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const load = loader._load;
loader._load = function (this: unknown, request: string, ...rest: unknown[]) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};
