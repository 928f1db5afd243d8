/**
 * Specs that run the user's own training script instead of a model defined in the spec:
 *
 *   { "name": "fashion", "trainer": { "command": ["python3", "train.py", "--epochs", "30"] } }
 *
 * VAE Lens makes the run folder, hands it to the script in VAE_LENS_RUN_DIR, runs the command
 * (never through a shell), and follows what the script writes there (the Python package
 * `vae_lens` writes it). The schema is SPEC_SCHEMA's `trainer`; validation and locations are
 * spec.ts's, so a script spec gets the same located errors as any other.
 */
import { SPEC_DEFAULTS } from './defaults';
import type { SourceLocation } from './errors';
import type { DiagnosticsSpec, SpecWarning } from './specParts/types';

/** The environment variable that names the run folder for the script. */
export const RUN_DIR_ENV = 'VAE_LENS_RUN_DIR';
/** The spec that started the script (the package records it as the run's specPath). */
export const SPEC_ENV = 'VAE_LENS_SPEC';
/** diagnostics.mcSamples and diagnostics.subset of the spec, when given: the package's defaults then. */
export const SAMPLES_ENV = 'VAE_LENS_SAMPLES';
export const POINTS_ENV = 'VAE_LENS_POINTS';

export const DEFAULT_STOP_GRACE_SECONDS = SPEC_DEFAULTS.trainer.stopGraceSeconds;

export interface TrainerCommandSpec {
  /** Program and arguments, run without a shell. */
  command: string[];
  /** Working directory, relative to the spec's folder (default: that folder). */
  cwd?: string;
  /** Extra environment variables. */
  env: Record<string, string>;
  /** After Stop sends SIGINT, how long the script may take to finish before it is killed. */
  stopGraceSeconds: number;
}

/** A script spec with defaults filled in. */
export interface ScriptSpec {
  name: string;
  trainer: TrainerCommandSpec;
  /** The convergence rule's settings, and (when given) the package's default samples and points. */
  diagnostics: Pick<DiagnosticsSpec, 'tolerance' | 'window'> & { mcSamples?: number; subset?: number };
  output: { runsDir?: string };
}

export interface ParsedScriptSpec {
  spec: ScriptSpec;
  warnings: SpecWarning[];
  text: string;
  /** Where `trainer` is, for messages about the spec as a whole. */
  trainerLocation: SourceLocation;
}

/** Fields of a model spec that a script spec must not have (the script owns them). */
export const SCRIPT_OWNED_FIELDS = ['data', 'model', 'training'] as const;

export interface RawScriptSpec {
  name?: string;
  trainer: { command: string[]; cwd?: string; env?: Record<string, unknown>; stopGraceSeconds?: number };
  diagnostics?: Partial<DiagnosticsSpec>;
  output?: { runsDir?: string };
}

export function scriptSpecWithDefaults(raw: RawScriptSpec, file: string): ScriptSpec {
  const baseName = file
    .replace(/\\/g, '/')
    .split('/')
    .pop()!
    .replace(/\.vae\.json$|\.json$/, '');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.trainer.env ?? {})) if (typeof v === 'string') env[k] = v;
  return {
    name: raw.name ?? baseName,
    trainer: {
      command: raw.trainer.command,
      cwd: raw.trainer.cwd,
      env,
      stopGraceSeconds: raw.trainer.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS,
    },
    diagnostics: {
      tolerance: raw.diagnostics?.tolerance ?? 0.01,
      window: raw.diagnostics?.window ?? 5,
      mcSamples: raw.diagnostics?.mcSamples,
      subset: raw.diagnostics?.subset,
    },
    output: { runsDir: raw.output?.runsDir },
  };
}

/** Problems the schema cannot express, as field + message (spec.ts locates them). */
export function scriptSpecProblems(raw: RawScriptSpec & Record<string, unknown>): { message: string; field: string }[] {
  const out: { message: string; field: string }[] = [];
  for (const f of SCRIPT_OWNED_FIELDS)
    if (raw[f] !== undefined)
      out.push({
        message: `${f} is not used when trainer.command runs a script: the script defines its own ${f === 'training' ? 'training' : f}. Remove it, or remove trainer to train a model defined here.`,
        field: f,
      });
  for (const [k, v] of Object.entries(raw.trainer.env ?? {}))
    if (typeof v !== 'string') out.push({ message: `trainer.env.${k} must be a string (environment variables are text)`, field: `trainer.env.${k}` });
  return out;
}
