/**
 * The benchmark's workloads as spec text, so they go through the same parser, defaults,
 * loader and TrainingLoop as a user's run. The PyTorch script mirrors these (bench/torch_vae.py).
 */
export const FMNIST_DIR = '/usr/share/datasets/fashion-mnist';

export type WorkloadName = 'fmnist' | 'manifold';

export interface Workload {
  name: WorkloadName;
  /** What a reader of BENCHMARKS.md sees. */
  title: string;
  specText: string;
}

export function workload(name: WorkloadName, backend: string): Workload {
  if (name === 'fmnist') {
    return {
      name,
      title: 'MLP VAE 784-512-20 on Fashion-MNIST (60000 x 784), batch 128, Adam 1e-3',
      specText: JSON.stringify({
        name: 'bench-fmnist',
        data: { path: `${FMNIST_DIR}/train-images-idx3-ubyte.gz` },
        model: { type: 'VAE-1', latentDim: 20, encoder: { hidden: [512], activation: 'relu' }, decoder: { hidden: [512], activation: 'relu' } },
        training: { epochs: 1, batchSize: 128, learningRate: 0.001, seed: 0, backend },
      }),
    };
  }
  return {
    name,
    title: 'manifold VAE 2-64-64-2 on the swiss roll (2000 points), batch 128, Adam 1e-3',
    specText: JSON.stringify({
      name: 'bench-manifold',
      data: { synthetic: 'swiss_roll', n: 2000, noise: 0.05, seed: 1 },
      model: { type: 'VAE-1', latentDim: 2, encoder: { hidden: [64, 64], activation: 'relu' }, decoder: { hidden: [64, 64], activation: 'relu' } },
      training: { epochs: 1, batchSize: 128, learningRate: 0.001, seed: 0, backend },
    }),
  };
}
