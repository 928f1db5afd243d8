/**
 * One engine, one workload, in its own process (so peak memory is this run's alone):
 * load the data through loadData, train with the real TrainingLoop for a fixed number of
 * steps, and print one JSON line `BENCH_RESULT {...}` for bench/run.mjs.
 *
 *   node out/bench/engineBench.js --engine wasm --workload fmnist --steps 469 [--threads N] [--xnnpack-threads N]
 *   node out/bench/engineBench.js --workload manifold --export file.f32   (data for PyTorch)
 */
import * as fs from 'node:fs';
import { parseSpec } from '../src/core/spec';
import { loadData } from '../src/data/load';
import { chooseEngine, type Tf } from '../src/train/backend';
import { enableWasmThreads } from './wasmThreads';
import { TrainingLoop } from '../src/train/loop';
import type { MetricsRecord } from '../src/core/runFormat';
import { workload, WORKLOADS, type WorkloadName } from './workloads';
import { perStep, summarize, tailLoss, type EngineResult } from './resultTypes';
import { watchSteps } from './stepHook';

interface Args {
  engine: string;
  workload: WorkloadName;
  steps: number;
  warmup: number;
  exportPath?: string;
  /** Overrides diagnostics.subset (only for engines too slow for the default pass). */
  diagnosticsSubset?: number;
  /** Overrides diagnostics.mcSamples (to put a non-default pass beside the default one). */
  diagnosticsSamples?: number;
  /** The trainer's kernel threads (src/train/threadPool.ts) on the wasm engine; default 1. */
  threads: number;
  /** Experimental: run the wasm engine's multithreaded build with this many threads (bench/wasmThreads.ts). */
  xnnpackThreads?: number;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const wl = get('--workload') ?? 'fmnist';
  if (!(WORKLOADS as readonly string[]).includes(wl)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}, not ${wl}`);
  return {
    engine: get('--engine') ?? 'wasm',
    workload: wl as WorkloadName,
    steps: Number(get('--steps') ?? 200),
    warmup: Number(get('--warmup') ?? 10),
    exportPath: get('--export'),
    threads: Number(get('--threads') ?? 1),
    xnnpackThreads: get('--xnnpack-threads') === undefined ? undefined : Number(get('--xnnpack-threads')),
    diagnosticsSubset: get('--diagnostics-subset') === undefined ? undefined : Number(get('--diagnostics-subset')),
    diagnosticsSamples: get('--diagnostics-samples') === undefined ? undefined : Number(get('--diagnostics-samples')),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const wl = workload(args.workload, args.engine);
  const { spec } = parseSpec(wl.specText, `bench/${wl.name}.vae.json`);
  if (args.diagnosticsSubset !== undefined) spec.diagnostics.subset = args.diagnosticsSubset;
  if (args.diagnosticsSamples !== undefined) spec.diagnostics.mcSamples = args.diagnosticsSamples;

  const tLoad = performance.now();
  const data = await loadData(spec.data, `${process.cwd()}/bench/${wl.name}.vae.json`);
  const loadSeconds = (performance.now() - tLoad) / 1000;
  const rssAfterLoad = process.memoryUsage().rss;
  const peakRssAfterLoad = process.resourceUsage().maxRSS * 1024;
  const train = data.train;

  if (args.exportPath) {
    fs.writeFileSync(args.exportPath, Buffer.from(train.values.buffer, train.values.byteOffset, train.values.byteLength));
    process.stdout.write(`BENCH_EXPORT ${JSON.stringify({ n: train.n, dim: train.dim })}\n`);
    return;
  }

  if (args.xnnpackThreads !== undefined) await enableWasmThreads((await import('@tensorflow/tfjs-core')) as Tf, args.xnnpackThreads);
  const engine = await chooseEngine(spec.training.backend);
  await engine.kernels?.setThreads(args.threads);
  const xnnpackThreads = engine.name === 'wasm' ? ((await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount?.() ?? 1) : undefined;
  const threads = engine.kernels?.threads ?? 1;
  const stepsPerEpoch = Math.ceil(train.n / spec.training.batchSize);
  const epochs = Math.max(1, Math.ceil(args.steps / stepsPerEpoch));

  // shouldStop is polled once after the first diagnostics pass and then after every step;
  // a run that reaches its last epoch ends with one more diagnostics pass (the epoch's).
  const wall: number[] = [];
  const cpu: number[] = [];
  const faults: number[] = [];
  const stamp = () => {
    const c = process.cpuUsage();
    wall.push(performance.now());
    cpu.push((c.user + c.system) / 1000);
    faults.push(process.resourceUsage().minorPageFault);
  };
  const losses: number[] = [];
  const diagnostics: MetricsRecord[] = [];
  // Intervals that contain a diagnostics pass (epoch ends) are not step times.
  const tainted = new Set<number>();
  // From the last step before a pass to the end of the pass (its record, then its images for
  // image data), without the checkpoint written after it.
  let lastPass: { wall: number; cpu: number } | undefined;
  const passEnded = () => {
    const c = process.cpuUsage();
    if (wall.length) lastPass = { wall: performance.now() - wall.at(-1)!, cpu: (c.user + c.system) / 1000 - cpu.at(-1)! };
  };
  const loop = new TrainingLoop({
    spec,
    engine,
    train,
    epochs,
    events: {
      progress: () => undefined,
      diagnostics: (r) => {
        diagnostics.push(r);
        tainted.add(wall.length);
        passEnded();
      },
      images: passEnded,
      log: () => undefined,
    },
    shouldStop: () => {
      stamp();
      return wall.length - 1 > args.steps;
    },
  });
  watchSteps(loop, ({ loss }) => losses.push(loss));
  const outcome = await loop.run();
  stamp();
  const modelParams = loop.vae.trainableVariables().reduce((s, v) => s + v.size, 0);
  // The wasm engine's linear memory: it grows to the largest working set and never shrinks.
  const heap = (engine.tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length;
  loop.dispose();

  const intervals = (t: number[], from: number, to: number) => {
    const out: number[] = [];
    for (let i = Math.max(1, from); i < Math.min(t.length, to); i++) if (!tainted.has(i)) out.push(t[i]! - t[i - 1]!);
    return out;
  };
  const steps = wall.length - 2;
  const completed = outcome.status === 'completed';
  const firstEpoch = (t: number[]) => (steps >= stepsPerEpoch ? t[stepsPerEpoch]! - t[0]! : NaN);
  const result: EngineResult = {
    kind: 'tfjs',
    engine: engine.name,
    engineDetail: `${engine.detail}, ${threads} thread${threads > 1 ? 's' : ''}${xnnpackThreads !== undefined && xnnpackThreads > 1 ? `, XNNPACK on ${xnnpackThreads} threads` : ''}`,
    threads,
    workload: wl.name,
    n: train.n,
    dim: train.dim,
    batch: spec.training.batchSize,
    steps,
    step: summarize(intervals(wall, 1 + args.warmup, wall.length - 1)),
    stepCpu: summarize(intervals(cpu, 1 + args.warmup, cpu.length - 1)),
    loadSeconds,
    rssAfterLoadBytes: rssAfterLoad,
    peakRssAfterLoadBytes: peakRssAfterLoad,
    wasmHeapBytes: heap,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    dataFloat32Bytes: train.values.byteLength,
    modelParams,
    diagnostics: {
      mcSamples: spec.diagnostics.mcSamples,
      points: diagnostics[0]?.points ?? 0,
      every: spec.diagnostics.every,
      passSeconds: completed && lastPass ? lastPass.wall / 1000 : NaN,
      passCpuSeconds: completed && lastPass ? lastPass.cpu / 1000 : NaN,
      epochSeconds: firstEpoch(wall) / 1000,
      epochCpuSeconds: firstEpoch(cpu) / 1000,
    },
    finalLoss: losses.at(-1),
    tailLoss: tailLoss(losses),
    minorFaultsPerStep: perStep(intervals(faults, 1 + args.warmup, faults.length - 1)),
  };
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
  // The threaded engine's workers would keep the process alive.
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
