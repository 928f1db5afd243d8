/**
 * The benchmark's workloads as spec text, so they go through the same parser, defaults,
 * loader and TrainingLoop as a user's run. The PyTorch script mirrors these (bench/torch_vae.py).
 */
export const FMNIST_DIR = '/usr/share/datasets/fashion-mnist';

export type WorkloadName = 'fmnist' | 'manifold' | 'conv';
export const WORKLOADS: readonly WorkloadName[] = ['fmnist', 'manifold', 'conv'];

export interface Workload {
  name: WorkloadName;
  /** What a reader of BENCHMARKS.md sees. */
  title: string;
  specText: string;
}

/** The convolutional VAE of examples/conv-fashion-mnist, as bench/torch_vae.py's ConvVae builds it too. */
export const CONV_MODEL = {
  type: 'VAE-1',
  latentDim: 20,
  encoder: {
    layers: [
      { type: 'conv2d', filters: 32, kernel: 4, stride: 2 },
      { type: 'conv2d', filters: 64, kernel: 4, stride: 2 },
    ],
  },
  decoder: {
    layers: [
      { type: 'dense', units: 3136 },
      { type: 'reshape', shape: [7, 7, 64] },
      { type: 'conv2dTranspose', filters: 32, kernel: 4, stride: 2 },
      { type: 'conv2dTranspose', filters: 1, kernel: 4, stride: 2 },
    ],
  },
};

export function workload(name: WorkloadName, backend: string): Workload {
  if (name === 'conv') {
    return {
      name,
      title: 'conv VAE on Fashion-MNIST 28×28×1: conv 32-64 k4 s2, 20 latents, dense + transposed convs back; batch 128, Adam 1e-3',
      specText: JSON.stringify({
        name: 'bench-conv',
        data: { path: `${FMNIST_DIR}/train-images-idx3-ubyte.gz` },
        model: CONV_MODEL,
        training: { epochs: 1, batchSize: 128, learningRate: 0.001, seed: 0, backend },
        // The pass is not what this row measures; a smaller subset keeps the run short.
        diagnostics: { subset: 1024 },
      }),
    };
  }
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
