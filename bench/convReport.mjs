// The convolutional VAE's section of BENCHMARKS.md, from bench/run.mjs's measurements
// (results.conv, with results.fmnist for the MLP's ratio in the same run).
import { convStepFlops, STEP_FLOPS_RULE } from './stepFlops.mjs';

export const CONV_START = '<!-- bench:conv:start (written by `npm run bench`; do not edit by hand) -->';
export const CONV_END = '<!-- bench:conv:end -->';

const f = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const mb = (bytes) => `${f(bytes / 2 ** 20, 0)} MiB`;

/**
 * Multiply-adds per example of the products in the conv VAE (bench/workloads.ts CONV_MODEL):
 * a convolution is an (output pixels) x (k·k·in) x (out) product, a transposed one the same
 * with input and output swapped.
 */
const CONV_MACS_PER_EXAMPLE =
  14 * 14 * (4 * 4 * 1) * 32 + // conv2d 28x28x1 -> 14x14x32
  7 * 7 * (4 * 4 * 32) * 64 + // conv2d -> 7x7x64
  2 * 3136 * 20 + // the two latent heads
  20 * 3136 + // dense z -> 7x7x64
  7 * 7 * 64 * (4 * 4 * 32) + // conv2dTranspose 7x7x64 -> 14x14x32
  14 * 14 * 32 * (4 * 4 * 1); // conv2dTranspose -> 28x28x1
/** The first convolution's multiply-adds: its input is the data, whose gradient no trainer computes. */
const CONV_DATA_MACS = 14 * 14 * (4 * 4 * 1) * 32;
const stepFlops = (batch) => convStepFlops(CONV_MACS_PER_EXAMPLE, CONV_DATA_MACS, batch);

const sps = (r) => (r && !r.error ? (1000 * r.batch) / r.step.medianMs : NaN);

export function renderConv(res) {
  const c = res.conv;
  const out = [];
  out.push(
    `Measured ${res.started} by \`${res.command}\`, ${res.rounds} interleaved round(s), best round per engine; load average (1/5/15 min) before ${res.loadAverage.before.map((x) => f(x, 2)).join(' / ')}, after ${res.loadAverage.after.map((x) => f(x, 2)).join(' / ')}${Math.max(res.loadAverage.before[0], res.loadAverage.after[0]) > res.machine.cores ? ' (other processes shared the cores: the CPU-time columns are the fairer comparison)' : ''}.`,
  );
  out.push('');
  out.push(
    '| engine | ms/step (wall, median) | samples/s | x PyTorch samples/s | ms/step (CPU time) | x PyTorch (CPU time) | GFLOP/s (CPU time) | peak RSS | mean loss, last 50 steps |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const torch = c.pytorch;
  for (const [label, r] of [
    ['PyTorch (1 thread)', c.pytorch],
    ['tfjs wasm (im2col + trainer GEMM)', c.wasm],
  ]) {
    if (!r || r.error) {
      out.push(`| ${label} | not available: ${(r?.error ?? 'not run').replace(/\|/g, '/')} | | | | | | | |`);
      continue;
    }
    const cpuRatio = torch && !torch.error ? torch.stepCpu.medianMs / r.stepCpu.medianMs : NaN;
    out.push(
      `| ${label} | ${f(r.step.medianMs, 1)} | ${f(sps(r), 0)} | ${f(sps(r) / sps(torch), 3)} | ${f(r.stepCpu.medianMs, 1)} | ${f(cpuRatio, 3)} | ${f(stepFlops(r.batch) / (r.stepCpu.medianMs / 1000) / 1e9, 1)} | ${mb(r.peakRssBytes)} | ${f(r.tailLoss?.mean, 1)} |`,
    );
  }
  out.push('');
  out.push(`A step's products: ${f(stepFlops(128) / 1e9, 2)} GFLOP (${STEP_FLOPS_RULE}; a convolution's in·out is pixels·k²·in·out).`);
  const mlpWall = sps(res.fmnist?.wasm) / sps(res.fmnist?.pytorch);
  const convWall = sps(c.wasm) / sps(c.pytorch);
  const cpu = (w) => (w?.pytorch && !w.pytorch.error && w.wasm && !w.wasm.error ? w.pytorch.stepCpu.medianMs / w.wasm.stepCpu.medianMs : NaN);
  // With other processes on the cores the wall-clock ratios swing with whoever ran beside each
  // child; CPU time is then the measure to judge by.
  const loaded = Math.max(res.loadAverage.before[0], res.loadAverage.after[0]) > res.machine.cores;
  const [conv, mlp, by] = loaded ? [cpu(c), cpu(res.fmnist), 'CPU time'] : [convWall, mlpWall, 'wall clock'];
  out.push('');
  out.push(
    `Against the MLP VAE in the same run: conv ${f(convWall, 3)} x PyTorch's samples/s (CPU time ${f(cpu(c), 3)} x), MLP ${f(mlpWall, 3)} x (CPU time ${f(cpu(res.fmnist), 3)} x). ` +
      `Judged by ${by}: ${f(conv, 3)} against ${f(mlp, 3)}, ` +
      (conv >= mlp
        ? "**at least the MLP's ratio** (target met)."
        : `**${f(100 * (1 - conv / mlp), 0)} % below the MLP's ratio** (target not met). The MLP's step is written out on the trainer's kernels (src/train/denseStep.ts); a convolutional model still trains through tfjs's operations and autodiff.`),
  );
  return out.join('\n');
}
