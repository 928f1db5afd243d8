// What an e2e test may do to VS Code, phrased as user actions. The code-server driver implements
// it today; a desktop driver (Playwright's Electron mode on a VS Code build) could implement the
// same interface later, so tests should use only this, never the page directly.
import type { Frame } from 'playwright-core';

export type ProblemSeverity = 'error' | 'warning' | 'info';

/** One row of the Problems panel. */
export interface Problem {
  severity: ProblemSeverity;
  message: string;
  /** File name as the panel shows it (base name), when the row says. */
  file?: string;
  /** 1-based, when the row says. */
  line?: number;
  column?: number;
  /** The row's full accessible text, for assertions the fields above do not cover. */
  raw: string;
}

export interface WorkbenchTimings {
  /** code-server spawned until its HTTP endpoint answered. */
  serverReadyMs: number;
  /** code-server spawned until `.monaco-workbench` was on screen. */
  workbenchReadyMs: number;
  /** Installing the .vsix with --install-extension. */
  installMs: number;
}

export interface Workbench {
  readonly timings: WorkbenchTimings;
  /** The folder that is open (a temp copy unless the launch said otherwise), for checking files the extension wrote. */
  readonly workspaceDir: string;
  /** VS Code's log folder for this session (`<user-data-dir>/logs`): output channels are written under it. */
  readonly logsDir: string;
  /** Opens the command palette (F1), picks the command whose label is exactly `title`, runs it. */
  runCommand(title: string): Promise<void>;
  /** Opens a workspace file through Quick Open (Ctrl+P) and waits for its editor tab. */
  openFile(relPath: string): Promise<void>;
  /** Text of the first status bar item matching, or undefined when none does right now. */
  statusBarText(matcher: RegExp | string): Promise<string | undefined>;
  /** Waits until a status bar item matches; returns its text. */
  waitForStatusBar(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Every status bar item's text, left to right (for messages and debugging). */
  statusBarItems(): Promise<string[]>;
  /** Hovers the first status bar item matching and returns the text of the hover it opens. */
  statusBarTooltip(matcher: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Titles of the CodeLenses shown in the active editor, top to bottom. */
  codeLensTitles(): Promise<string[]>;
  /** Waits until a CodeLens title matches; returns it. */
  waitForCodeLens(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /**
   * Waits until a quick pick (one a command opened) shows rows and `accept` holds for their labels,
   * then closes it (Escape) and returns the labels: what a user would choose from.
   */
  readQuickPick(accept?: (rows: string[]) => boolean, timeoutMs?: number): Promise<string[]>;
  /** Waits until some webview's document holds `selector`; returns that webview's frame. */
  findWebviewFrame(selector: string, timeoutMs?: number): Promise<Frame>;
  /**
   * Runs `source` (JavaScript) in every document the workbench loads from now on, webviews included,
   * before their own scripts: for timestamps taken inside a webview, free of the driver's latency.
   */
  addInitScript(source: string): Promise<void>;
  /** Saves a PNG under the results folder; returns its path. */
  screenshot(name: string): Promise<string>;
  /** Messages of the notifications on screen (toasts, and the notification center when it is open). */
  notifications(): Promise<string[]>;
  /** Waits until a notification's message matches; returns that message. */
  waitForNotification(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Opens the Problems panel and reads its rows. */
  problems(): Promise<Problem[]>;
  /** Reads the Problems panel until `accept` holds (diagnostics arrive after a file opens or changes). */
  waitForProblems(accept: (problems: Problem[]) => boolean, timeoutMs?: number): Promise<Problem[]>;
  /** Shows the VAE Runs view in the explorer (expanded) and reads its rows' text, top to bottom. */
  runsViewRows(): Promise<string[]>;
  /** Reads the VAE Runs view until `accept` holds; returns the rows. */
  waitForRunsView(accept: (rows: string[]) => boolean, timeoutMs?: number): Promise<string[]>;
  /** Reloads the window (Developer: Reload Window) and waits for the workbench again. */
  reloadWindow(): Promise<void>;
  /** Stops everything started for this workbench and removes its temp folders. Safe to call twice. */
  close(): Promise<void>;
}
