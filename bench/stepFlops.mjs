// The matrix-product FLOPs of one training step, counted as the trainer and PyTorch both compute
// them: the forward products, the weights' gradients (as many again), and the gradient of each
// layer's input except the first layer's, whose input is the data (neither computes dL/dx; counting
// it overstated the MLP's step by a fifth, and every GFLOP/s and share of the sgemm peak with it).

/** Dense layers as [in, out], the data's layer first (each latent head is a layer of its own). */
export const MLP_LAYERS = {
  fmnist: [[784, 512], [512, 20], [512, 20], [20, 512], [512, 784]],
  swissRoll: [[2, 64], [64, 64], [64, 2], [64, 2], [2, 64], [64, 64], [64, 2]],
};

/** One step of a dense VAE on `batch` examples. */
export function denseStepFlops(layers, batch) {
  const macs = layers.reduce((s, [i, o]) => s + i * o, 0);
  const [dataIn, dataOut] = layers[0];
  return 2 * batch * (3 * macs - dataIn * dataOut);
}

/** One step of a convolutional VAE: `macs` per example over all its products, `dataMacs` of them in the layer that reads the data. */
export function convStepFlops(macs, dataMacs, batch) {
  return 2 * batch * (3 * macs - dataMacs);
}

/** How the tables say it. */
export const STEP_FLOPS_RULE = "forward 2·B·Σ in·out, the weights' gradients as much again, and the inputs' gradients of every layer but the data's";
