// Starts VS Code with VAE Lens installed for a feature test: code-server in Chromium by default
// (npm run test:e2e), desktop VS Code when VAE_LENS_E2E_TARGET=desktop (npm run test:e2e:desktop).
// The feature tests get a Workbench and use nothing else, so both routes run the same test code.
import { launchDesktopWorkbench } from './desktopHarness';
import { launchWorkbench, type LaunchOptions } from './harness';
import type { Workbench } from './workbench';
import { vaeLensVsix } from './vsix';

export type E2eTarget = 'code-server' | 'desktop';

export function e2eTarget(): E2eTarget {
  const target = process.env.VAE_LENS_E2E_TARGET ?? 'code-server';
  if (target !== 'code-server' && target !== 'desktop')
    throw new Error(`e2e: VAE_LENS_E2E_TARGET must be code-server or desktop, not ${JSON.stringify(target)}`);
  return target;
}

export type VaeLensLaunch = Omit<LaunchOptions, 'vsix'>;

export function launchVaeLens(options: VaeLensLaunch): Promise<Workbench> {
  const full: LaunchOptions = { ...options, vsix: vaeLensVsix() };
  return e2eTarget() === 'desktop' ? launchDesktopWorkbench(full) : launchWorkbench(full);
}
