// Workspaces for the feature tests, made from the shipped swiss-roll example so they stay in step
// with it: a long run (to stop), a short one, and a spec with mistakes.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths';

export const EXAMPLE_DIR = (): string => join(repoRoot(), 'examples', 'swiss-roll');
export const EXAMPLE_SPEC = 'swiss-roll.vae.json';

/** The example with another name and epoch count (the text is JSONC, so it is edited as text). */
export function swissRollVariant(name: string, epochs: number): string {
  const text = readFileSync(join(EXAMPLE_DIR(), EXAMPLE_SPEC), 'utf8');
  const renamed = text.replace(/"name":\s*"swiss-roll"/, `"name": ${JSON.stringify(name)}`).replace(/"epochs":\s*\d+/, `"epochs": ${epochs}`);
  if (!renamed.includes(`"name": ${JSON.stringify(name)}`) || !renamed.includes(`"epochs": ${epochs}`)) {
    throw new Error(`e2e: the swiss-roll example changed shape; cannot derive "${name}" from it`);
  }
  return renamed;
}

/** A misspelt field on line 4 (`laten` for `latentDim`) and a string where an integer belongs on line 7. */
export const BROKEN_SPEC = `// Two mistakes a user makes: a misspelt field and a wrong type.
{ "name": "broken",
  "data": { "synthetic": "swiss_roll", "n": 2000, "noise": 0.05, "seed": 1 },
  "model": { "type": "VAE-1", "laten": 2,
             "encoder": { "hidden": [64, 64], "activation": "relu" },
             "decoder": { "hidden": [64, 64], "activation": "relu" } },
  "training": { "epochs": "sixty", "batchSize": 128, "learningRate": 0.001, "seed": 0 },
  "diagnostics": { "every": 1, "mcSamples": 16 } }
`;

/** A fresh folder holding these files; the harness copies it again, so it can be removed after launch. */
export function makeWorkspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vae-lens-e2e-ws-'));
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
