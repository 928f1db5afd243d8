/** The starting points of "New VAE Model...": commented specs in examples/templates. Pure. */
import { applyEdits, modify } from 'jsonc-parser';

export interface SpecTemplate {
  id: string;
  label: string;
  detail: string;
  /** File name in examples/templates. */
  file: string;
}

export const SPEC_TEMPLATES: readonly SpecTemplate[] = [
  {
    id: 'swiss-roll',
    label: 'Swiss roll, VAE-1',
    detail: 'A 2-D manifold with noise; one learned decoder variance. The gap closes.',
    file: 'swiss-roll-vae1.vae.json',
  },
  {
    id: 'linear-ppca',
    label: 'Linear VAE on pPCA data',
    detail: 'No hidden layers: the optimum is probabilistic PCA, a closed-form check.',
    file: 'linear-ppca.vae.json',
  },
  {
    id: 'fashion-mnist',
    label: 'Fashion-MNIST, VAE-1',
    detail: '28x28 images from an IDX file; reconstructions and samples in the panel.',
    file: 'fashion-mnist-vae1.vae.json',
  },
  { id: 'ring-vae3', label: 'Ring, VAE-3', detail: 'The decoder outputs a latent-dependent variance.', file: 'ring-vae3.vae.json' },
  { id: 'vae0-demo', label: 'VAE-0 demo (fixed variance)', detail: 'The theorem does not apply: the gap stays open at R_dec.', file: 'vae0-demo.vae.json' },
];

/** The template text with its "name" set, comments and layout kept. */
export function withSpecName(templateText: string, name: string): string {
  const edits = modify(templateText, ['name'], name, { formattingOptions: { insertSpaces: true, tabSize: 2 } });
  return applyEdits(templateText, edits);
}

/** "my model" -> "my-model.vae.json"; keeps a given .vae.json suffix. */
export function specFileName(input: string): string {
  const trimmed = input
    .trim()
    .replace(/\.vae\.json$/i, '')
    .replace(/\.json$/i, '');
  return `${trimmed.replace(/\s+/g, '-')}.vae.json`;
}

/** A message when `input` cannot be a spec file name (relative sub-folders are fine). */
export function specFileNameProblem(input: string): string | undefined {
  const t = input.trim();
  if (!t || t === '.vae.json') return 'Give the model a name.';
  if (/^[\\/]|^[A-Za-z]:/.test(t)) return 'Give a name relative to the workspace folder.';
  if (t.split(/[\\/]/).some((part) => part === '..')) return 'The file must stay inside the workspace folder.';
  if (/[<>:"|?*\u0000-\u001f]/.test(t)) return 'The name contains a character file names cannot have.';
  return undefined;
}

/** The run name a file name suggests: "models/swiss roll.vae.json" -> "swiss-roll". */
export function nameFromFile(fileName: string): string {
  return specFileName(fileName)
    .split(/[\\/]/)
    .pop()!
    .replace(/\.vae\.json$/, '');
}
