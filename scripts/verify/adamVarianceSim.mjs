// Why a learned decoder variance lags: Adam on log s^2 alone, fed the optimum s*^2 the run itself
// recorded. The gradient of minus the ELBO per point in log s^2 (scalar variance) is
// D/2 (1 - s*^2/s^2); between two diagnostics passes s*^2 is interpolated geometrically by step
// (an assumption: within the first epoch it really falls faster than that). Minibatch noise is left
// out. Run once as the trainer does, and once with Adam's moments reset after the first epoch, i.e.
// without its memory of the untrained decoder's huge errors.

/** The trainer's schedule (src/train/loop.ts learningRateAt): cosine from lr to 1 % of it. */
function learningRateAt(training, epoch, epochs) {
  const lr = training.learningRate;
  if (training.schedule !== 'cosine' || epochs <= 1) return lr;
  const floor = 0.01 * lr;
  return floor + 0.5 * (lr - floor) * (1 + Math.cos((Math.PI * (epoch - 1)) / (epochs - 1)));
}

function simulate(records, spec, dim, resetAfterFirstEpoch) {
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-7;
  const epochs = records[records.length - 1].epoch;
  let logS2 = Math.log(records[0].sigma2);
  let m = 0;
  let v = 0;
  let t = 0;
  for (let i = 1; i < records.length; i++) {
    const from = records[i - 1];
    const to = records[i];
    const steps = to.step - from.step;
    const lr = learningRateAt(spec.training, to.epoch, epochs);
    if (resetAfterFirstEpoch && from.epoch === 1) [m, v, t] = [0, 0, 0];
    for (let k = 1; k <= steps; k++) {
      const opt = Math.exp(Math.log(from.sigma2Opt) + (k / steps) * (Math.log(to.sigma2Opt) - Math.log(from.sigma2Opt)));
      const g = (dim / 2) * (1 - opt / Math.exp(logS2));
      t += 1;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      logS2 -= (lr * (m / (1 - b1 ** t))) / (Math.sqrt(v / (1 - b2 ** t)) + eps);
    }
  }
  return Math.exp(logS2);
}

/** Final s^2 of the simulation with and without Adam's memory of the first epoch. */
export function simulateLearnedVariance(records, spec, dim) {
  return { asTrained: simulate(records, spec, dim, false), withoutFirstEpochMemory: simulate(records, spec, dim, true) };
}
