/**
 * The diagnostics pass against an epoch of training, in one process: the real TrainingLoop on
 * the benchmark's Fashion-MNIST workload (defaults: 4096 points, 2 samples, a pass every epoch)
 * for several epochs, each epoch and the pass after it timed as `npm run bench` times them
 * (bench/engineBench.ts: the pass from the end of the epoch's last step to the end of its images
 * event). Each epoch gives a share; their median is printed with the load average.
 *
 *   npx esbuild bench/passShare.ts --bundle --platform=node --main-fields=module,main \
 *     --external:@tensorflow/tfjs-node --outfile=out/bench-run/passShare.js
 *   node out/bench-run/passShare.js [--epochs 3] [--threads 1] [--kernels]
 *   node out/bench-run/passShare.js --passes 9   (no training: the pass alone, repeated, on the initial weights)
 * With --kernels every wasm kernel is wrapped with a CPU-time timer during the passes, and their
 * totals per pass are printed (the wrapping costs a little itself: use it to see where, not how much).
 * `node --cpu-prof` on it profiles the JavaScript as well; PASS_WINDOWS gives each pass's span
 * on the profile's clock (microseconds of the monotonic clock).
 */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { parseSpec } from '../src/core/spec';
import { loadData } from '../src/data/load';
import { chooseEngine } from '../src/train/backend';
import { TrainingLoop } from '../src/train/loop';
import { workload } from './workloads';

function arg(argv: string[], flag: string, fallback: string): string {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1]! : fallback;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

interface Span {
  wall: number;
  cpu: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const epochs = Number(arg(argv, '--epochs', '3'));
  const kernelTimes = argv.includes('--kernels');
  const wl = workload('fmnist', 'wasm');
  const { spec } = parseSpec(wl.specText, `bench/${wl.name}.vae.json`);
  const data = await loadData(spec.data, `${process.cwd()}/bench/${wl.name}.vae.json`);
  const engine = await chooseEngine('wasm');
  await engine.kernels?.setThreads(Number(arg(argv, '--threads', '1')));

  let inPass = false;
  const kernels = new Map<string, { calls: number; ms: number }>();
  if (kernelTimes)
    for (const config of engine.tf.getKernelsForBackend('wasm') as KernelConfig[]) {
      const inner = config.kernelFunc;
      config.kernelFunc = (args) => {
        if (!inPass) return inner(args);
        const t0 = cpuMs();
        const out = inner(args);
        const k = kernels.get(config.kernelName) ?? { calls: 0, ms: 0 };
        k.calls++;
        k.ms += cpuMs() - t0;
        kernels.set(config.kernelName, k);
        return out;
      };
    }

  const now = (): Span => ({ wall: performance.now(), cpu: cpuMs() });
  const since = (a: Span, b: Span): Span => ({ wall: b.wall - a.wall, cpu: b.cpu - a.cpu });
  // The end of the last step and of the last pass; the first pass (epoch 0, before any step) is not counted.
  let lastStep: Span | undefined;
  let epochStart: Span | undefined;
  let windowStart = 0;
  const rows: { epoch: Span; pass: Span; recordSeconds: number }[] = [];
  const windows: [number, number][] = [];
  let recordSeconds = 0;
  let calls = 0;
  const stepsPerEpoch = Math.ceil(data.train.n / spec.training.batchSize);
  const passes = Number(arg(argv, '--passes', '0'));
  const passEnded = () => {
    if (passes > 0) return;
    const t = now();
    if (lastStep && epochStart && inPass) {
      rows.push({ epoch: since(epochStart, lastStep), pass: since(lastStep, t), recordSeconds });
      windows.push([windowStart, monotonicUs()]);
    }
    inPass = false;
    epochStart = t;
  };
  const loop = new TrainingLoop({
    spec,
    engine,
    train: data.train,
    epochs,
    events: {
      progress: () => undefined,
      diagnostics: (r) => {
        recordSeconds = r.diagnosticsSeconds ?? NaN;
      },
      images: passEnded,
      log: () => undefined,
    },
    // Called once after the first pass, then after every step: a pass follows an epoch's last step.
    shouldStop: () => {
      if (calls++ > 0 && (calls - 1) % stepsPerEpoch === 0) {
        lastStep = now();
        windowStart = monotonicUs();
        inPass = true;
      }
      return false;
    },
  });
  if (passes > 0) {
    inPass = true;
    passesAlone(loop, passes);
  } else {
    await loop.run();
    loop.dispose();
  }
  const f = (x: number, d = 2) => x.toFixed(d);
  if (passes === 0) report(rows, windows);
  if (kernelTimes) {
    // The passes alone mode counts its warm-up pass too.
    const timed = passes > 0 ? passes + 1 : rows.length;
    const per = [...kernels.entries()].sort((a, b) => b[1].ms - a[1].ms);
    for (const [k, s] of per)
      process.stdout.write(`  ${k.padEnd(28)} ${f(s.calls / timed, 0).padStart(6)} calls ${f(s.ms / timed, 1).padStart(8)} ms CPU per pass\n`);
  }
  process.exit(0);
}

function report(rows: { epoch: Span; pass: Span; recordSeconds: number }[], windows: [number, number][]): void {
  const f = (x: number, d = 2) => x.toFixed(d);
  process.stdout.write(
    `load average before the end: ${loadavg()
      .map((x) => f(x))
      .join(' / ')}\n`,
  );
  process.stdout.write('epoch | epoch wall s | pass wall s | share | epoch CPU s | pass CPU s | share (CPU) | record s\n');
  rows.forEach((r, i) =>
    process.stdout.write(
      `${i + 1} | ${f(r.epoch.wall / 1000)} | ${f(r.pass.wall / 1000, 3)} | ${f((100 * r.pass.wall) / r.epoch.wall)} % | ${f(r.epoch.cpu / 1000)} | ${f(r.pass.cpu / 1000, 3)} | ${f((100 * r.pass.cpu) / r.epoch.cpu)} % | ${f(r.recordSeconds, 3)}\n`,
    ),
  );
  const share = median(rows.map((r) => r.pass.wall / r.epoch.wall));
  const shareCpu = median(rows.map((r) => r.pass.cpu / r.epoch.cpu));
  process.stdout.write(
    `PASS_WINDOWS ${JSON.stringify(windows)}\nPASS_SHARE ${JSON.stringify({ share, shareCpu, passMs: median(rows.map((r) => r.pass.wall)), passCpuMs: median(rows.map((r) => r.pass.cpu)), epochMs: median(rows.map((r) => r.epoch.wall)), load: loadavg() })}\n`,
  );
}

/** The loop's own pass (a private method, reached as bench/stepHook.ts reaches the step), timed alone. */
function passesAlone(loop: TrainingLoop, passes: number): void {
  const pass = loop as unknown as { diagnosticsPass(epoch: number, trainLoss: number, samplesPerSec: number): unknown };
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i <= passes; i++) {
    const w = performance.now();
    const c = cpuMs();
    pass.diagnosticsPass(1, 0, NaN);
    // The first is a warm-up.
    if (i > 0) {
      wall.push(performance.now() - w);
      cpu.push(cpuMs() - c);
    }
  }
  process.stdout.write(
    `PASS_ALONE ${JSON.stringify({ wallMs: median(wall), cpuMs: median(cpu), cpuMinMs: Math.min(...cpu), cpuAll: cpu.map((x) => Math.round(x)), load: loadavg() })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
