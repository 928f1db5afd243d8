// The experiments of docs/verification.md, in the order the document shows them.
// exactPpca: a linear model on pPCA data, so its best ELBO is known in closed form.
// wholeSetSamples: also evaluate on every training point (with that many samples each), for data
// sets larger than the diagnostics subset.
// simulateVariance: replay Adam on log s^2 against the run's recorded optimum (verify/adamVarianceSim.mjs).
export const EXPERIMENTS = [
  { id: 'ppca-linear', title: 'Linear VAE-1 on pPCA data', spec: 'examples/ppca-linear/ppca-linear.vae.json', exactPpca: true },
  { id: 'vae1-fashion-mnist', title: 'VAE-1 on Fashion-MNIST', spec: 'examples/vae1-fashion-mnist/vae1-fashion-mnist.vae.json', wholeSetSamples: 2 },
  { id: 'vae3-ring', title: 'VAE-3 on a ring in 10 dimensions', spec: 'examples/vae3-ring/vae3-ring.vae.json' },
  { id: 'vae0-fixed-variance', title: 'Linear VAE-0 on the pPCA data', spec: 'examples/vae0-fixed-variance/vae0-fixed-variance.vae.json', exactPpca: true },
  { id: 'oversized-latent', title: 'VAE-1 with 6 latents on the ring', spec: 'examples/oversized-latent/oversized-latent.vae.json' },
  { id: 'learned-variance-default-init', title: 'the same, s² learned by Adam from the default start', spec: 'examples/learned-variance-lag/default-init.vae.json', simulateVariance: true },
  { id: 'learned-variance-near-optimum-init', title: 'the same, s² learned by Adam from 0.01', spec: 'examples/learned-variance-lag/near-optimum-init.vae.json', simulateVariance: true },
  { id: 'conv-fashion-mnist', title: 'Convolutional VAE-1 on Fashion-MNIST', spec: 'examples/conv-fashion-mnist/conv-fashion-mnist.vae.json' },
];
