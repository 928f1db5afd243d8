/** Where a spec's runs go. */
import * as path from 'node:path';
import type { ValueSource } from '../errors';
import { requestOptionName, type StartRequest } from '../protocol';
import type { VaeSpec } from './types';

/** Resolve the runs folder for a spec file (a model spec or a script spec). */
export function runsDirFor(spec: Pick<VaeSpec, 'output'>, specPath: string): string {
  const base = path.dirname(specPath);
  const r = spec.output.runsDir;
  if (!r) return path.join(base, '.vae-lens', 'runs');
  return path.isAbsolute(r) ? r : path.join(base, r);
}

/** The runs folder of a start request (its own, else the spec's) and what named it, for messages about it. */
export function requestRunsDir(
  req: Pick<StartRequest, 'runsDir' | 'requestedBy'>,
  spec: Pick<VaeSpec, 'output'>,
  specPath: string,
): { dir: string; from: ValueSource } {
  const option = requestOptionName(req, 'runsDir');
  if (req.runsDir !== undefined) return { dir: path.resolve(req.runsDir), from: { name: option, location: { field: option } } };
  const dir = runsDirFor(spec, specPath);
  if (spec.output.runsDir) return { dir, from: { name: 'output.runsDir', location: { file: specPath, field: 'output.runsDir' } } };
  return { dir, from: { name: `output.runsDir or ${option}`, location: { file: specPath } } };
}
