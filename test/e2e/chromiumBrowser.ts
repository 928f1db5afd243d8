// Debian's Chromium driven by playwright-core. Launched as a browser server so we know its PID
// and can end it ourselves if Playwright's own close does not.
import { chromium, type Browser, type BrowserServer } from 'playwright-core';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH } from './paths';

// Flags from ENVIRONMENT.md: root needs --no-sandbox, and nothing may reach outside the machine.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface RunningBrowser {
  browser: Browser;
  pid: number;
  stop(): Promise<void>;
}

export async function launchChromium(): Promise<RunningBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`e2e: no Chromium at ${CHROMIUM_PATH}: run \`bash scripts/setup-code-server.sh\` (it installs Debian's chromium)`);
  }
  const server: BrowserServer = await chromium.launchServer({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
  const pid = server.process().pid;
  if (pid === undefined) throw new Error('e2e: Chromium started without a PID');
  const browser = await chromium.connect(server.wsEndpoint(), { timeout: 30_000 });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await browser.close().catch(() => undefined);
    await server.close().catch(() => undefined);
    try {
      process.kill(pid, 0);
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already exited, as it should have.
    }
  };
  return { browser, pid, stop };
}
