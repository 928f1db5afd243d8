// The labelled runs of the convergence benchmark. Each trains with the CLI; its passes are labelled
// from ground truth:
//   truth 'exact':     a linear VAE on pPCA data, whose best ELBO is the pPCA log-likelihood of the
//                      data's sample covariance (VAE-0: the fixed-variance optimum), scripts/verify/exactPpca.mjs;
//   truth 'reference': the best ELBO that a run `referenceEpochs` long with a cosine-decaying step
//                      reaches (the mean of three consecutive passes, so one lucky pass does not set it).
// `expect` is the state a careful practitioner would give the run at its end (a list where several
// say the same: not done). A seed whose run ends outside 1 % of the optimum is not done, whatever
// its configuration was meant to reach: the benchmark expects a not-done state there.
// Sizes are small on purpose: the whole set trains in about an hour and a half on two shared cores. The pPCA
// runs evaluate 8 Monte-Carlo samples per point, so that a pass's label (within 1 % or not) is not
// decided by its own sampling error (2 samples give about a quarter of the 1 % band).

const linear = { encoder: { hidden: [] }, decoder: { hidden: [] } };
// The pPCA data: 8 dimensions, rank 3, 3000 points.
const ppcaData = { synthetic: 'ppca', dim: 8, intrinsicDim: 3, n: 3000, noise: 0.2, seed: 3 };

/**
 * A run on one of the paper's 2-D manifolds: VAE-1 with two hidden layers of 64 and two latents, a
 * pass every 2 epochs unless told, judged against a longer cosine run; none of these ends done.
 */
function manifold(id, what, referenceEpochs, { data, training, every = 2, mcSamples = 8 }) {
  const mlp = { hidden: [64, 64], activation: 'relu' };
  return {
    id,
    what,
    truth: 'reference',
    referenceEpochs,
    expect: ['not-converged', 'improving', 'noise-limited'],
    spec: { data, model: { type: 'VAE-1', latentDim: 2, encoder: mlp, decoder: mlp }, training, diagnostics: { every, mcSamples } },
  };
}

export const CONFIGS = [
  {
    id: 'ppca-constant',
    what: 'linear VAE-1, pPCA, Adam 0.01 constant (the issue\'s case)',
    truth: 'exact',
    expect: 'noise-limited',
    spec: {
      data: ppcaData,
      model: { type: 'VAE-1', latentDim: 3, ...linear },
      training: { epochs: 600, batchSize: 128, learningRate: 0.01, schedule: 'constant', seed: 0 },
      diagnostics: { every: 10, mcSamples: 8 },
    },
  },
  {
    id: 'ppca-cosine',
    what: 'the same, cosine-decaying step',
    truth: 'exact',
    expect: 'converged',
    spec: {
      data: ppcaData,
      model: { type: 'VAE-1', latentDim: 3, ...linear },
      training: { epochs: 600, batchSize: 128, learningRate: 0.01, schedule: 'cosine', seed: 0 },
      diagnostics: { every: 10, mcSamples: 8 },
    },
  },
  {
    id: 'ppca-small-step',
    what: 'the same, Adam 0.001 constant',
    truth: 'exact',
    expect: 'converged',
    spec: {
      data: ppcaData,
      model: { type: 'VAE-1', latentDim: 3, ...linear },
      training: { epochs: 600, batchSize: 128, learningRate: 0.001, schedule: 'constant', seed: 0 },
      diagnostics: { every: 10, mcSamples: 8 },
    },
  },
  {
    id: 'ppca-collapse',
    what: 'linear VAE-1 with 5 latents on rank-3 data (2 collapse)',
    truth: 'exact',
    expect: 'collapsed',
    spec: {
      data: ppcaData,
      model: { type: 'VAE-1', latentDim: 5, ...linear },
      training: { epochs: 300, batchSize: 128, learningRate: 0.01, schedule: 'cosine', seed: 0 },
      diagnostics: { every: 5, mcSamples: 8 },
    },
  },
  {
    id: 'ppca-vae0',
    what: 'linear VAE-0 (variance fixed at 1), cosine step',
    truth: 'exact',
    expect: 'stationary',
    spec: {
      data: { ...ppcaData, noise: 0.5 },
      model: { type: 'VAE-0', latentDim: 3, initialVariance: 1, ...linear },
      training: { epochs: 300, batchSize: 128, learningRate: 0.01, schedule: 'cosine', seed: 0 },
      diagnostics: { every: 5, mcSamples: 8 },
    },
  },
  // A nonlinear decoder that reaches its optimum: a tanh MLP on the pPCA data can represent the
  // linear optimum, and 600 epochs end 0.4-0.8 % below the best of 1800.
  {
    id: 'ppca-mlp',
    what: 'nonlinear VAE-1 (one tanh layer of 32 each way) on the pPCA data, cosine step',
    truth: 'reference',
    referenceEpochs: 1800,
    expect: 'converged',
    spec: {
      data: ppcaData,
      model: { type: 'VAE-1', latentDim: 3, encoder: { hidden: [32], activation: 'tanh' }, decoder: { hidden: [32], activation: 'tanh' } },
      training: { epochs: 600, batchSize: 128, learningRate: 0.003, schedule: 'cosine', seed: 0 },
      diagnostics: { every: 10, mcSamples: 8 },
    },
  },
  // 150 epochs end 4-10 % below what longer training reaches: not done, whether the verdict names
  // the decoder variance that still lags its optimum, the rise, or the step's noise.
  manifold('swiss-roll', 'VAE-1 64-64 on the swiss roll, Adam 0.001 constant', 300, {
    data: { synthetic: 'swiss_roll', n: 2000, noise: 0.05, seed: 1 },
    training: { epochs: 150, batchSize: 128, learningRate: 0.001, schedule: 'constant', seed: 0 },
  }),
  // The README's example as it is (examples/swiss-roll): a pass every epoch, so 2w passes cover 10
  // epochs, over which its slow rise (a few thousandths of a nat an epoch) is lost in the noise.
  // 60 epochs end 19-22 % below what 300 with a decaying step reach.
  manifold('swiss-roll-example', "the README's example: examples/swiss-roll (VAE-1 64-64, Adam 0.001 constant, 60 epochs, a pass every epoch)", 300, {
    data: { synthetic: 'swiss_roll', n: 2000, noise: 0.05, seed: 1 },
    training: { epochs: 60, batchSize: 128, learningRate: 0.001, schedule: 'constant', seed: 0 },
    every: 1,
    mcSamples: 16,
  }),
  // A flat ELBO that is not done: 600 cosine epochs end flat, 10-18 % below what 1800 reach, while
  // the decoder variance's residual stays open.
  manifold('swiss-roll-cosine', 'VAE-1 64-64 on the swiss roll, cosine step, 600 epochs', 1800, {
    data: { synthetic: 'swiss_roll', n: 2000, noise: 0.05, seed: 1 },
    training: { epochs: 600, batchSize: 128, learningRate: 0.001, schedule: 'cosine', seed: 0 },
    every: 10,
  }),
  // 200 epochs end about 40 % below what 600 reach: the decoder keeps sharpening onto the circle.
  manifold('circle-cosine', 'VAE-1 64-64 on the noisy circle, cosine step', 600, {
    data: { synthetic: 'circle', n: 2000, noise: 0.05, seed: 2 },
    training: { epochs: 200, batchSize: 128, learningRate: 0.003, schedule: 'cosine', seed: 0 },
  }),
  // 200 epochs end 9-14 % below what 600 with a decaying step reach.
  manifold('eight-gaussians-constant', 'VAE-1 64-64 on eight Gaussians, Adam 0.003 constant', 600, {
    data: { synthetic: 'eight_gaussians', n: 2000, noise: 0.05, seed: 2 },
    training: { epochs: 200, batchSize: 128, learningRate: 0.003, schedule: 'constant', seed: 0 },
  }),
  {
    id: 'fashion-mnist-2k',
    what: 'VAE-1 784-256-10 on 2000 Fashion-MNIST images, cosine step',
    truth: 'reference',
    referenceEpochs: 240,
    // 80 epochs are not enough on this subset: a run three times longer climbs well past 1 %.
    // Not done: still rising, or the latents' second moments still off the prior's.
    expect: ['improving', 'not-converged'],
    needsFile: '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz',
    spec: {
      data: { path: '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz', scale: 'unit', limit: 2000 },
      model: { type: 'VAE-1', latentDim: 10, varianceUpdate: 'optimal', encoder: { hidden: [256], activation: 'relu' }, decoder: { hidden: [256], activation: 'relu' } },
      training: { epochs: 80, batchSize: 128, learningRate: 0.001, schedule: 'cosine', seed: 0 },
      diagnostics: { every: 2, mcSamples: 2, subset: 1000 },
    },
  },
  {
    id: 'fashion-mnist-example',
    what: "the issue's example: examples/vae1-fashion-mnist (784-512-20, all 60000 images, 40 epochs, cosine step)",
    truth: 'reference',
    referenceEpochs: 120,
    // The issue saw "converged" at epoch 40 while the ELBO still climbed; a schedule three times
    // longer reaches about 4 % more. One seed: a run takes minutes, its reference a quarter of an hour.
    expect: ['improving', 'not-converged', 'noise-limited'],
    seeds: [0],
    needsFile: '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz',
    spec: {
      data: { path: '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz', scale: 'unit' },
      model: { type: 'VAE-1', latentDim: 20, varianceUpdate: 'optimal', encoder: { hidden: [512], activation: 'relu' }, decoder: { hidden: [512], activation: 'relu' } },
      training: { epochs: 40, batchSize: 128, learningRate: 0.001, schedule: 'cosine', seed: 0 },
      diagnostics: { every: 1, mcSamples: 4, subset: 4096 },
    },
  },
];
