/**
 * The in-memory data set every loader produces: one contiguous row-major float32
 * matrix (no per-row arrays, so Fashion-MNIST costs N*D*4 bytes and no more).
 */
import type { Scaling } from '../core/spec';

export interface Dataset {
  /** Row-major N x D. */
  values: Float32Array;
  n: number;
  dim: number;
  /** Shape of one example when it is an image, e.g. [28, 28]; kept so images can be shown. */
  imageShape?: number[];
  /** Element type of the source, which decides the default scaling (uint8 → unit). */
  sourceType: 'float32' | 'float64' | 'uint8' | 'int' | 'text';
  /** Human-readable origin: a file path or "synthetic swiss_roll (n=2000, noise=0.05, seed=1)". */
  source: string;
  /** What a loader guessed about the file's layout (a header, a skipped index column), said to the user. */
  notes?: string[];
  /** Ground truth a synthetic set knows: the data covariance for ppca (D x D, row-major). */
  truth?: { covariance: Float64Array };
}

export interface ScaledDataset extends Dataset {
  /** What was applied, so reconstructions can be mapped back for display. */
  scaling: { kind: Scaling; offset: Float32Array | number; scale: Float32Array | number };
}
