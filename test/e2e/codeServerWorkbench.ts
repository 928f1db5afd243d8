// The Workbench interface driven through code-server's web workbench in Chromium.
import type { Frame, Locator, Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Problem, Workbench, WorkbenchTimings } from './workbench';
import { parseProblemRows, type ProblemRow } from './problemsPanel';

export interface CodeServerWorkbenchContext {
  page: Page;
  url: string;
  workspaceDir: string;
  /** `<user-data-dir>/logs`. */
  logsDir: string;
  resultsDir: string;
  /** Prefix of every file this workbench writes under resultsDir. */
  label: string;
  serverLog: string;
  timings: WorkbenchTimings;
  processIds: { codeServer: number; chromium: number };
  tempRoot: string;
  /** Stops processes and removes temp folders; called once by close(). */
  shutdown(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const WORKBENCH_TIMEOUT_MS = 90_000;
// Commands are listed as soon as the palette opens, so a missing one is known quickly.
const COMMAND_PICK_TIMEOUT_MS = 15_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const matches = (text: string, matcher: RegExp | string): boolean => (typeof matcher === 'string' ? text.includes(matcher) : matcher.test(text));

export class CodeServerWorkbench implements Workbench {
  readonly timings: WorkbenchTimings;
  readonly workspaceDir: string;
  readonly logsDir: string;
  /** code-server only: the escape hatch for what the Workbench interface does not cover yet. */
  readonly page: Page;
  /** For tests of the harness itself: what close() must end and remove. */
  readonly processIds: { codeServer: number; chromium: number };
  readonly tempRoot: string;
  private closed = false;
  private failures = 0;

  constructor(private readonly ctx: CodeServerWorkbenchContext) {
    this.page = ctx.page;
    this.timings = ctx.timings;
    this.workspaceDir = ctx.workspaceDir;
    this.logsDir = ctx.logsDir;
    this.processIds = ctx.processIds;
    this.tempRoot = ctx.tempRoot;
  }

  /** Waits until the workbench is drawn and its status bar is up. */
  async waitForWorkbench(timeoutMs = WORKBENCH_TIMEOUT_MS): Promise<void> {
    await this.act('waiting for the workbench', async () => {
      await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
      await this.page.locator('.statusbar-item').first().waitFor({ state: 'attached', timeout: timeoutMs });
    });
  }

  async runCommand(title: string): Promise<void> {
    await this.act(`running command "${title}"`, async () => {
      const row = await this.pickFromQuickInput('F1', `>${title}`, new RegExp(`^${escapeRegExp(title)}$`), COMMAND_PICK_TIMEOUT_MS);
      await row.click();
      // The palette closes; a command may open a quick pick of its own in the same widget (Open Run...).
      const widget = this.page.locator('.quick-input-widget');
      const deadline = Date.now() + DEFAULT_TIMEOUT_MS;
      while (
        (await widget.isVisible()) &&
        (await widget
          .locator('.quick-input-box input')
          .inputValue()
          .catch(() => '')) === `>${title}`
      ) {
        if (Date.now() > deadline) throw new Error(`the command palette stayed open for ${DEFAULT_TIMEOUT_MS} ms`);
        await sleep(100);
      }
    });
  }

  async openFile(relPath: string): Promise<void> {
    const name = basename(relPath);
    await this.act(`opening "${relPath}"`, async () => {
      const row = await this.pickFromQuickInput('Control+P', relPath, new RegExp(`^${escapeRegExp(name)}$`));
      await row.click();
      // A tab's aria-label starts with the file name (more may follow, such as ", preview").
      await this.page
        .locator(`.tabs-container .tab[aria-label^=${JSON.stringify(name)}]`)
        .first()
        .waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT_MS });
    });
  }

  async readQuickPick(accept: (rows: string[]) => boolean = (rows) => rows.length > 0, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
    return this.act('reading the quick pick', async () => {
      const widget = this.page.locator('.quick-input-widget');
      const deadline = Date.now() + timeoutMs;
      let rows: string[] = [];
      for (;;) {
        if (await widget.isVisible()) {
          rows = await widget
            .locator('.quick-input-list .monaco-list-row')
            .evaluateAll((els) => els.map((el) => (el as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
          if (rows.length > 0 && accept(rows)) break;
        }
        if (Date.now() > deadline) throw new Error(`no quick pick as expected within ${timeoutMs} ms; rows: ${JSON.stringify(rows)}`);
        await sleep(250);
      }
      await this.page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 5_000 });
      return rows;
    });
  }

  async statusBarItems(): Promise<string[]> {
    const texts = await this.page
      .locator('.statusbar-item')
      .evaluateAll((items) => items.map((item) => ((item as HTMLElement).innerText || item.getAttribute('aria-label') || '').trim()));
    return texts.filter((t) => t.length > 0);
  }

  async statusBarText(matcher: RegExp | string): Promise<string | undefined> {
    return (await this.statusBarItems()).find((text) => matches(text, matcher));
  }

  async waitForStatusBar(pattern: RegExp | string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    return this.act(`waiting for status bar ${String(pattern)}`, async () => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = await this.statusBarText(pattern);
        if (found !== undefined) return found;
        if (Date.now() > deadline) {
          const shown = (await this.statusBarItems()).map((t) => JSON.stringify(t)).join(', ');
          throw new Error(`no status bar item matched within ${timeoutMs} ms; shown: ${shown || '(none)'}`);
        }
        await sleep(250);
      }
    });
  }

  async statusBarTooltip(matcher: RegExp | string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    return this.act(`reading the tooltip of status bar item ${String(matcher)}`, async () => {
      const items = this.page.locator('.statusbar-item');
      const texts = await items.evaluateAll((els) => els.map((el) => ((el as HTMLElement).innerText || el.getAttribute('aria-label') || '').trim()));
      const index = texts.findIndex((t) => matches(t, matcher));
      if (index < 0)
        throw new Error(
          `no status bar item matches; shown: ${texts
            .filter(Boolean)
            .map((t) => JSON.stringify(t))
            .join(', ')}`,
        );
      const hover = this.page.locator('.workbench-hover, .monaco-hover').filter({ hasText: /\S/ });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // The hover opens after a delay and closes when the pointer leaves: move onto the item again until it shows.
        await this.page.mouse.move(0, 0);
        await items.nth(index).hover();
        try {
          await hover.first().waitFor({ state: 'visible', timeout: 3_000 });
          const text = (await hover.first().innerText()).trim();
          await this.page.mouse.move(0, 0);
          return text;
        } catch (e) {
          if (Date.now() > deadline) throw e;
        }
      }
    });
  }

  async codeLensTitles(): Promise<string[]> {
    const texts = await this.page.locator('.editor-instance .codelens-decoration').evaluateAll((els) => els.map((el) => (el as HTMLElement).innerText.trim()));
    // One decoration holds the lenses of a line, joined by " | ".
    return texts.flatMap((t) => t.split(/\s+\|\s+/)).filter((t) => t.length > 0);
  }

  async waitForCodeLens(pattern: RegExp | string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    return this.act(`waiting for a CodeLens ${String(pattern)}`, async () => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const shown = await this.codeLensTitles();
        const found = shown.find((t) => matches(t, pattern));
        if (found !== undefined) return found;
        if (Date.now() > deadline)
          throw new Error(`no CodeLens matched within ${timeoutMs} ms; shown: ${shown.map((t) => JSON.stringify(t)).join(', ') || '(none)'}`);
        await sleep(250);
      }
    });
  }

  async findWebviewFrame(selector: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    return this.act(`finding "${selector}" in a webview`, async () => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const webviews = this.page.frames().filter((f) => f.url().includes('webview'));
        for (const frame of webviews) {
          // A frame can detach between listing and querying (panels re-render); just look again.
          const hit = await frame.$(selector).catch(() => null);
          if (hit) return frame;
        }
        if (Date.now() > deadline) {
          throw new Error(`not found within ${timeoutMs} ms in ${webviews.length} webview frame(s)`);
        }
        await sleep(250);
      }
    });
  }

  async addInitScript(source: string): Promise<void> {
    await this.page.addInitScript({ content: source });
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(this.ctx.resultsDir, { recursive: true });
    const file = join(this.ctx.resultsDir, `${this.ctx.label}-${name.replace(/[^\w.-]+/g, '_')}.png`);
    await this.page.screenshot({ path: file, timeout: 15_000 });
    return file;
  }

  async notifications(): Promise<string[]> {
    const texts = await this.page.locator('.notification-list-item-message').evaluateAll((els) => els.map((el) => (el as HTMLElement).innerText.trim()));
    return texts.filter((t) => t.length > 0);
  }

  async waitForNotification(pattern: RegExp | string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    return this.act(`waiting for a notification ${String(pattern)}`, async () => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const shown = await this.notifications();
        const found = shown.find((text) => matches(text, pattern));
        if (found !== undefined) return found;
        if (Date.now() > deadline) {
          throw new Error(`no notification matched within ${timeoutMs} ms; shown: ${shown.map((t) => JSON.stringify(t)).join(', ') || '(none)'}`);
        }
        await sleep(250);
      }
    });
  }

  async problems(): Promise<Problem[]> {
    return this.act('reading the Problems panel', async () => {
      const panel = this.page.locator('.markers-panel');
      if (!(await panel.isVisible())) await this.runCommandQuietly('View: Focus Problems (Errors, Warnings, Infos)');
      await panel.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT_MS });
      // The tree fills in asynchronously after the panel shows.
      await sleep(500);
      const rows: ProblemRow[] = await panel.locator('.monaco-list-row').evaluateAll((els) =>
        els.map((el) => ({
          ariaLabel: el.getAttribute('aria-label') ?? '',
          text: (el as HTMLElement).innerText,
          iconClasses: Array.from(el.querySelectorAll('.codicon, [class*="codicon-"]'))
            .map((i) => i.className)
            .join(' '),
        })),
      );
      return parseProblemRows(rows);
    });
  }

  async waitForProblems(accept: (problems: Problem[]) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Problem[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const problems = await this.problems();
      if (accept(problems)) return problems;
      if (Date.now() > deadline) {
        return this.act('waiting for problems', () => {
          throw new Error(`not as expected within ${timeoutMs} ms; last read: ${JSON.stringify(problems)}`);
        });
      }
      await sleep(500);
    }
  }

  async runsViewRows(): Promise<string[]> {
    return this.act('reading the VAE Runs view', async () => {
      // The explorer's own pane for the view: its header is there (collapsed) from the window's start.
      const header = this.page.locator('.pane-header', { hasText: 'VAE Runs' }).first();
      await header.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT_MS });
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      const pane = this.page.locator('.pane', { has: header });
      return pane.locator('.monaco-list-row').evaluateAll((els) => els.map((el) => (el as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
    });
  }

  async waitForRunsView(accept: (rows: string[]) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await this.runsViewRows();
      if (accept(rows)) return rows;
      if (Date.now() > deadline) {
        return this.act('waiting for the VAE Runs view', () => {
          throw new Error(`not as expected within ${timeoutMs} ms; last read: ${JSON.stringify(rows)}`);
        });
      }
      await sleep(500);
    }
  }

  async reloadWindow(): Promise<void> {
    await this.act('reloading the window', async () => {
      const page = this.page;
      const reloaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: WORKBENCH_TIMEOUT_MS });
      // The palette may vanish mid-way as the page unloads; the navigation is what counts.
      await this.runCommandQuietly('Developer: Reload Window').catch(() => undefined);
      await reloaded;
    });
    await this.waitForWorkbench();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ctx.shutdown();
  }

  /** Runs a command without the failure screenshot wrapper (used inside other actions). */
  private async runCommandQuietly(title: string): Promise<void> {
    const row = await this.pickFromQuickInput('F1', `>${title}`, new RegExp(`^${escapeRegExp(title)}$`), COMMAND_PICK_TIMEOUT_MS);
    await row.click();
  }

  /** Opens a quick input with `key`, types `query`, and returns the row whose label matches. */
  private async pickFromQuickInput(key: string, query: string, label: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Locator> {
    const page = this.page;
    const widget = page.locator('.quick-input-widget');
    if (await widget.isVisible()) {
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 5_000 });
    }
    await page
      .locator('.monaco-workbench')
      .focus()
      .catch(() => undefined);
    await page.keyboard.press(key);
    const input = widget.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT_MS });
    await input.fill(query);
    const row = widget
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: label }) })
      .first();
    try {
      await row.waitFor({ state: 'visible', timeout: timeoutMs });
    } catch {
      const offered = await widget
        .locator('.quick-input-list .monaco-list-row')
        .evaluateAll((els) => els.slice(0, 10).map((el) => el.getAttribute('aria-label') ?? ''));
      throw new Error(`nothing labelled ${label} after typing ${JSON.stringify(query)}; offered: ${JSON.stringify(offered)}`);
    }
    return row;
  }

  /** Runs one user action; on failure saves a screenshot and names it and the server log in the error. */
  private async act<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.failures += 1;
      let shot = '(no screenshot: the page is gone)';
      try {
        shot = await this.screenshot(`failure-${this.failures}`);
      } catch {
        // Keep the original error.
      }
      throw new Error(`e2e: ${what} failed: ${message}\n  screenshot: ${shot}\n  code-server log: ${this.ctx.serverLog}`);
    }
  }
}
