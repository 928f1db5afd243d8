// Closed-form values for a linear VAE on Gaussian data (probabilistic PCA, Tipping & Bishop), from
// the eigenvalues l_1 >= ... >= l_D of the data's maximum-likelihood (1/N) sample covariance.
//  - learned noise variance: the pPCA log-likelihood at its maximum (ppcaLogLikelihood of src/core);
//  - noise variance held at s2 (VAE-0): W keeps the directions with l_j > s2, and
//      loglik = -1/2 [ D log 2pi + sum_j log c_j + sum_j l_j / c_j ],  c_j = max(l_j, s2) for j <= q, else s2;
//    at that optimum the expected squared error is s2 along each kept direction and l_j along the
//    others, so the decoder-variance residual is R_dec = 1/2 sum_j (1 - err_j / s2)
//      = 1/2 sum_{j > q or l_j <= s2} (1 - l_j / s2).
// A linear VAE with a diagonal encoder attains these values (its posterior is Gaussian and can be
// made diagonal by rotating W), so its ELBO meets them at the optimum.

/** Eigenvalues of a symmetric matrix (rows of numbers) by cyclic Jacobi rotations, descending. */
export function symmetricEigenvalues(matrix) {
  const n = matrix.length;
  const m = matrix.map((row) => [...row]);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p][q] ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (m[p][q] === 0) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const kp = m[k][p];
          const kq = m[k][q];
          m[k][p] = c * kp - s * kq;
          m[k][q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          const pk = m[p][k];
          const qk = m[q][k];
          m[p][k] = c * pk - s * qk;
          m[q][k] = s * pk + c * qk;
        }
      }
  }
  return m.map((row, i) => row[i]).sort((a, b) => b - a);
}

export function sampleCovariance(values, n, dim) {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += values[i * dim + d] / n;
  const cov = Array.from({ length: dim }, () => new Array(dim).fill(0));
  for (let i = 0; i < n; i++)
    for (let a = 0; a < dim; a++) {
      const xa = values[i * dim + a] - mean[a];
      for (let b = a; b < dim; b++) cov[a][b] += (xa * (values[i * dim + b] - mean[b])) / n;
    }
  for (let a = 0; a < dim; a++) for (let b = 0; b < a; b++) cov[a][b] = cov[b][a];
  return cov;
}

export function fixedVarianceLogLikelihood(eig, q, s2) {
  let sum = eig.length * Math.log(2 * Math.PI);
  eig.forEach((l, j) => {
    const c = j < q ? Math.max(l, s2) : s2;
    sum += Math.log(c) + l / c;
  });
  return -0.5 * sum;
}

export function fixedVarianceRDec(eig, q, s2) {
  return 0.5 * eig.reduce((acc, l, j) => acc + (j < q && l > s2 ? 0 : 1 - l / s2), 0);
}

/** data: loadData's result; spec: the parsed spec; ppcaLogLikelihood: src/core/entropy's. */
export function exactLinearLogLikelihoods(data, spec, ppcaLogLikelihood) {
  const { values, n, dim } = data.train;
  const eig = symmetricEigenvalues(sampleCovariance(values, n, dim));
  const q = spec.model.latentDim;
  const out = { eigenvalues: eig, q, maximum: ppcaLogLikelihood(eig, q), noiseVariance: eig.slice(q).reduce((a, b) => a + b, 0) / (dim - q) };
  if (spec.model.type === 'VAE-0') {
    const s2 = spec.model.initialVariance ?? 1;
    out.fixed = { s2, logLik: fixedVarianceLogLikelihood(eig, q, s2), rDec: fixedVarianceRDec(eig, q, s2) };
  }
  return out;
}
