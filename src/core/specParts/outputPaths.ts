/** Where a spec's runs go. */
import * as path from 'node:path';
import type { VaeSpec } from './types';

/** Resolve the runs folder for a spec file (a model spec or a script spec). */
export function runsDirFor(spec: Pick<VaeSpec, 'output'>, specPath: string): string {
  const base = path.dirname(specPath);
  const r = spec.output.runsDir;
  if (!r) return path.join(base, '.vae-lens', 'runs');
  return path.isAbsolute(r) ? r : path.join(base, r);
}
