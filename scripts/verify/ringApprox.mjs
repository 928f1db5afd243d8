// The log-likelihood of the `ring` data (the unit circle in a plane of R^D plus isotropic noise of
// std s) when s is small against the radius: along the ring the density is uniform over a length
// 2 pi, across it (1 radial + D - 2 out-of-plane directions) Gaussian with variance s^2, so
//   E[log p(x)] ~ -log(2 pi) - (D - 1)/2 log(2 pi e s^2)      (corrections are O(s^2)).
// No VAE's ELBO can exceed it (up to that approximation and sampling error).
export function thinRingLogLikelihood(dim, noise) {
  return -Math.log(2 * Math.PI) - ((dim - 1) / 2) * Math.log(2 * Math.PI * Math.E * noise * noise);
}
