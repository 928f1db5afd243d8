/** Numbers more than one module needs, defined once. */

/** log(2π), in every Gaussian log-density. */
export const LOG_2PI = Math.log(2 * Math.PI);
/** log(2πe): a Gaussian's entropy is ½ log(2πe σ²). */
export const LOG_2PIE = LOG_2PI + 1;
/** A latent whose KL_h is below this many nats carries (almost) no information: collapsed. */
export const COLLAPSE_KL_NATS = 0.01;
