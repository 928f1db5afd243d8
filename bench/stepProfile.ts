/**
 * Where a training step's time goes, kernel by kernel: every kernel registered for the wasm
 * engine is wrapped with a wall-clock timer, the real TrainingLoop runs a workload, and the step's
 * median is split into kernels (products by shape, the rest by name), the phases of the step, and
 * what lies between the kernels (autodiff's tape, tidy, gathering the batch). A dense model trains
 * through the hand-written step (src/train/denseStep.ts), which calls the kernels directly: only
 * Adam and the phases show there; the convolutional workload shows every kernel.
 *
 *   npx esbuild bench/stepProfile.ts --bundle --platform=node --main-fields=module,main \
 *     --external:@tensorflow/tfjs-node --outfile=out/bench-run/stepProfile.js
 *   node out/bench-run/stepProfile.js [--workload fmnist|conv|manifold] [--threads N] [--steps 200] [--cpu]
 * With --cpu every time is the process's CPU time instead of wall-clock time: on a machine other
 * jobs share, wall-clock times stretch with their load and CPU times much less. With kernel
 * threads, CPU time adds up every thread's, so use it at one thread.
 */
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { parseSpec } from '../src/core/spec';
import { loadData } from '../src/data/load';
import { chooseEngine } from '../src/train/backend';
import { TrainingLoop } from '../src/train/loop';
import { workload, WORKLOADS, type WorkloadName } from './workloads';

export interface StepProfile {
  threads: number;
  steps: number;
  stepMs: number;
  kernels: { name: string; calls: number; ms: number }[];
}

function arg(argv: string[], flag: string, fallback: string): string {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1]! : fallback;
}

/** Products and convolutions by shape (they differ by orders of magnitude); other kernels by name. */
function kernelKey(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap | undefined): string {
  if (name.startsWith('Conv2D'))
    return `${name} ${Object.values(inputs)
      .flatMap((t) => (t ? [t.shape.join('x')] : []))
      .join(', ')}`;
  if (name !== 'BatchMatMul') return name;
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  return `MatMul ${a.shape.join('x')}${transposeA ? 'ᵀ' : ''}·${b.shape.join('x')}${transposeB ? 'ᵀ' : ''}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const cpu = argv.includes('--cpu');
  const now = cpu
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      }
    : () => performance.now();
  const name = arg(argv, '--workload', 'fmnist');
  if (!(WORKLOADS as readonly string[]).includes(name)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}`);
  const steps = Number(arg(argv, '--steps', '200'));
  const warmup = 20;
  const wl = workload(name as WorkloadName, 'wasm');
  const { spec } = parseSpec(wl.specText, `bench/${wl.name}.vae.json`);
  const data = await loadData(spec.data, `${process.cwd()}/bench/${wl.name}.vae.json`);
  const engine = await chooseEngine('wasm');
  await engine.kernels?.setThreads(Number(arg(argv, '--threads', '1')));

  const spent = new Map<string, { calls: number; ms: number }>();
  let counting = false;
  const count = (key: string, ms: number) => {
    const s = spent.get(key) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += ms;
    spent.set(key, s);
  };
  const kernels = engine.kernels;
  if (kernels) {
    const adam = kernels.adamUpdate.bind(kernels);
    kernels.adamUpdate = (...a) => {
      const t0 = now();
      adam(...a);
      if (counting) count("Adam (trainer's kernel, every variable)", now() - t0);
    };
  }
  for (const config of engine.tf.getKernelsForBackend('wasm') as KernelConfig[]) {
    const inner = config.kernelFunc;
    config.kernelFunc = (args) => {
      if (!counting) return inner(args);
      const t0 = now();
      const out = inner(args);
      count(kernelKey(config.kernelName, args.inputs, args.attrs), now() - t0);
      return out;
    };
  }

  const times: number[] = [];
  const phases = new Map<string, number>();
  const timed =
    <A extends unknown[], R>(name: string, f: (...a: A) => R) =>
    (...a: A): R => {
      const t0 = now();
      try {
        return f(...a);
      } finally {
        if (counting) phases.set(name, (phases.get(name) ?? 0) + now() - t0);
      }
    };
  let last = 0;
  let seen = 0;
  let passed = false;
  /** The kernel totals as they were at the end of the last step. */
  let stepKernels = new Map<string, { calls: number; ms: number }>();
  let stepPhases = new Map<string, number>();
  const loop = new TrainingLoop({
    spec,
    engine,
    train: data.train,
    // Enough epochs for the warm-up and the measured steps (diagnostics passes fall between epochs, outside the steps).
    epochs: Math.ceil((warmup + steps + 1) / Math.ceil(data.train.n / Math.min(spec.training.batchSize, data.train.n))),
    events: {
      progress: () => undefined,
      diagnostics: () => {
        passed = true;
      },
      images: () => undefined,
      log: () => undefined,
    },
    shouldStop: () => {
      const t = now();
      seen++;
      if (seen === warmup) counting = true;
      // An interval with a diagnostics pass in it is not a step (its kernels are dropped with it).
      if (passed) {
        passed = false;
        spent.clear();
        for (const [k, v] of stepKernels) spent.set(k, { ...v });
        phases.clear();
        for (const [k, v] of stepPhases) phases.set(k, v);
      } else if (seen > warmup) times.push(t - last);
      stepKernels = new Map([...spent].map(([k, v]) => [k, { ...v }]));
      stepPhases = new Map(phases);
      last = t;
      return times.length >= steps;
    },
  });
  const vae = loop.vae as unknown as { objective: (...a: unknown[]) => unknown };
  vae.objective = timed('forward (objective)', vae.objective.bind(vae));
  const opt = loop.optimizer as unknown as { computeGradients: (...a: unknown[]) => unknown; applyGradients: (...a: unknown[]) => unknown };
  opt.computeGradients = timed('forward + backward', opt.computeGradients.bind(opt));
  opt.applyGradients = timed('Adam', opt.applyGradients.bind(opt));
  const dense = (loop as unknown as { denseStep?: { gradients: (...a: unknown[]) => unknown } }).denseStep;
  if (dense) dense.gradients = timed('dense step: forward + backward', dense.gradients.bind(dense));
  const hook = loop as unknown as { trainStep: (...a: unknown[]) => number };
  hook.trainStep = timed('trainStep', hook.trainStep.bind(loop));
  await loop.run();
  counting = false;
  loop.dispose();
  times.sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  const perStep = total / times.length;
  const profile: StepProfile = {
    threads: engine.kernels?.threads ?? 1,
    steps: times.length,
    stepMs: times[times.length >> 1]!,
    kernels: [...spent.entries()].map(([k, s]) => ({ name: k, calls: s.calls / times.length, ms: s.ms / times.length })).sort((a, b) => b.ms - a.ms),
  };
  const inKernels = profile.kernels.reduce((a, k) => a + k.ms, 0);
  process.stdout.write(`STEP_PROFILE ${JSON.stringify(profile)}\n`);
  process.stderr.write(
    `${profile.threads} thread(s), ${cpu ? 'CPU' : 'wall-clock'} time: step median ${profile.stepMs.toFixed(2)} ms, mean ${perStep.toFixed(2)} ms; kernels ${inKernels.toFixed(2)} ms, between them ${(perStep - inKernels).toFixed(2)} ms\n`,
  );
  for (const [k, ms] of phases) process.stderr.write(`  phase ${k.padEnd(24)} ${(ms / times.length).toFixed(3).padStart(8)} ms\n`);
  for (const k of profile.kernels) process.stderr.write(`  ${k.name.padEnd(24)} ${k.calls.toFixed(1).padStart(5)} calls ${k.ms.toFixed(3).padStart(8)} ms\n`);
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
