/**
 * vae-lens: the command-line front end.
 *   vae-lens train SPEC [--epochs N] [--out DIR] [--backend B] [--threads N] [--json] [--resume RUN]
 *   vae-lens eval RUN [--samples S] [--points N] [--backend B] [--json]
 *   vae-lens report RUN... [--out FILE.html] [--png]
 * Exit codes: 0 success (or a run stopped: Ctrl-C, SIGTERM, SIGHUP, stdout closed by its reader), 1 training
 * failed or diverged or its output could not be written, 2 bad input (a one-paragraph message, no stack).
 */
import { verdictLine } from '../core/verdictText';
import { LOG_2PIE } from '../core/constants';
import { formatUserError, isUserError, shownPath, UserError } from '../core/errors';
import { startRequest, type FromTrainer } from '../core/protocol';
import { BACKENDS } from '../core/specSchema';
import type { BackendChoice } from '../core/spec';
import { datasetKnown, epochText, etaKnown, formatDuration, progressFraction, rateKnown } from '../core/wording';
import { spanLines } from '../core/sessionHistory';
import { decompositionTable, evidenceTable, passLine, pathForDisplay, perLatentTable, progressLine, sessionsList, showsProgress } from './format';
import { guardOutput, whenOutputLost } from './output';
import { intFlag, parseArgs, USAGE, type Args } from './args';
import type { MetricsRecord } from '../core/runFormat';
import type { SessionControl } from '../train/sessionHost';

function resumeFlag(args: Args): string | undefined {
  const v = args.flags.get('resume');
  return v === undefined ? undefined : String(v);
}

function backendFlag(args: Args): BackendChoice | undefined {
  const v = args.flags.get('backend');
  if (v === undefined) return undefined;
  if (!(BACKENDS as readonly unknown[]).includes(v)) throw new UserError(`--backend must be one of ${BACKENDS.join(', ')}, not "${String(v)}"`);
  return v as BackendChoice;
}

async function train(args: Args): Promise<number> {
  const specPath = args.positional[0];
  if (!specPath || args.positional.length > 1) throw new UserError(`train takes one spec file\n${USAGE}`);
  const json = args.flags.has('json');
  const tty = !json && showsProgress(process.stderr.isTTY === true, process.env);
  const { runSession } = await import('../train/session');
  let epochs = 0;
  let lastRecord: MetricsRecord | undefined;
  let barShown = false;
  const clearBar = () => {
    if (barShown) process.stderr.write('\r\x1b[2K');
    barShown = false;
  };
  const control: SessionControl = { stopRequested: false };
  let runDir: string | undefined;
  const onSignal = () => {
    if (control.stopRequested) {
      // Aborted: the run folder is left stopped and unlocked, never "running", and the user told where it is.
      const abort = control.abort;
      control.abort = undefined;
      abort?.();
      process.stderr.write(
        `\naborted${runDir && abort ? `; the run folder ${pathForDisplay(runDir)} is marked stopped (--resume continues a run of the built-in trainer from its last checkpoint)` : ''}\n`,
      );
      process.exit(130);
    }
    control.stopRequested = true;
    process.stderr.write('\nstopping after this step (Ctrl-C again to abort)...\n');
  };
  // SIGTERM (kill, timeout, a CI job cancelled) stops as gracefully as Ctrl-C: summary and checkpoint written.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // So does SIGHUP (the terminal closed, the ssh connection dropped), whose default would end the process
  // with no summary and leave a script it runs training on in its own process group. The terminal is
  // gone, so what is still printed may fail to reach it: guardOutput keeps those errors from ending the stop.
  const onHangUp = () => onSignal();
  process.on('SIGHUP', onHangUp);
  // Output nobody reads any more (`| head`, a quit pager) stops the run as Ctrl-C does; output that
  // cannot be written (a redirect onto a full disk) stops it too, and the exit says it failed.
  let outputFailed = false;
  whenOutputLost((lost) => {
    if (!lost.readerClosed) outputFailed = true;
    if (lost.stream === 'stdout' || !lost.readerClosed)
      (lost.stream === 'stdout' ? process.stderr : process.stdout).write(
        `vae-lens: ${lost.readerClosed ? `${lost.stream} was closed` : `cannot write to ${lost.stream} (${lost.code})`}; stopping after this step, with the run folder written\n`,
      );
    control.stopRequested = true;
  });
  let failed = false;
  // Bad input exits 2; a run that failed for another reason (a kernel thread died...) exits 1.
  let badInput = false;
  const emit = (ev: FromTrainer) => {
    if (ev.type === 'started') runDir = ev.runDir;
    if (json) {
      process.stdout.write(JSON.stringify(ev) + '\n');
      if (ev.type === 'error') failed = true;
      if (ev.type === 'error' && ev.userError) badInput = true;
      return;
    }
    switch (ev.type) {
      case 'started':
        epochs = ev.epochs;
        // A training script (trainer.command) does not say its steps per epoch, nor, until its run.json, its data and epochs.
        const data = !datasetKnown(ev.dataset)
          ? `script ${shownPath(ev.dataset.source)}; its data as the script reads them`
          : `data ${shownPath(ev.dataset.source)}: ${ev.dataset.n} x ${ev.dataset.dim}`;
        const planned = ev.epochs > 0 ? `; ${ev.epochs} epochs${ev.stepsPerEpoch > 0 ? ` of ${ev.stepsPerEpoch} steps` : ''}` : '';
        console.log(`run ${pathForDisplay(ev.runDir)}\n${data}; engine ${ev.backend}${planned}`);
        break;
      case 'progress':
        if (tty) {
          const p = { ...ev, epochs };
          const label = [
            epochText(p) ?? 'starting',
            `loss ${ev.loss.toFixed(3)}`,
            ...(rateKnown(ev.samplesPerSec) ? [`${Math.round(ev.samplesPerSec)} samples/s`] : []),
            ...(etaKnown(p) ? [`eta ${formatDuration(ev.etaSeconds)}`] : []),
          ].join('  ');
          process.stderr.write('\r\x1b[2K' + progressLine(progressFraction(p), label, process.stderr.columns ?? 80));
          barShown = true;
        }
        break;
      case 'diagnostics':
        clearBar();
        lastRecord = ev.record;
        console.log(passLine(ev.record, epochs));
        break;
      case 'log':
        clearBar();
        if (ev.level !== 'info' || !tty) console.error(`${ev.level}: ${ev.message}`);
        else console.log(ev.message);
        break;
      case 'done': {
        clearBar();
        if (lastRecord?.convergenceReason) console.log(`verdict: ${verdictLine(lastRecord.convergence, lastRecord.convergenceReason, lastRecord)}`);
        console.log(`${ev.status}${ev.message ? `: ${ev.message}` : ''}\nrun folder: ${pathForDisplay(ev.runDir)}`);
        if (ev.status === 'diverged') failed = true;
        break;
      }
      case 'error':
        clearBar();
        failed = true;
        if (ev.userError) badInput = true;
        console.error(`vae-lens: ${ev.userError && ev.location ? formatUserError(new UserError(ev.message, ev.location)) : ev.message}`);
        break;
      case 'images':
        break;
    }
  };
  const status = await runSession(
    startRequest({
      specPath,
      requestedBy: 'cli',
      runsDir: args.flags.get('out') as string | undefined,
      backend: backendFlag(args),
      epochs: intFlag(args, 'epochs'),
      threads: intFlag(args, 'threads'),
      resume: resumeFlag(args),
    }),
    emit,
    control,
  );
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onHangUp);
  whenOutputLost(undefined);
  if (status === 'failed' && failed && badInput) return 2;
  if (outputFailed) return 1;
  return status === 'completed' || status === 'stopped' ? 0 : 1;
}

async function evaluate(args: Args): Promise<number> {
  const runDir = args.positional[0];
  if (!runDir || args.positional.length > 1) throw new UserError(`eval takes one run folder\n${USAGE}`);
  const { evaluateRun } = await import('../train/evaluate');
  const ev = await evaluateRun(runDir, { samples: intFlag(args, 'samples'), points: intFlag(args, 'points'), backend: backendFlag(args) });
  for (const w of ev.warnings) console.error(`warning: ${w}`);
  if (args.flags.has('json')) {
    process.stdout.write(
      JSON.stringify({
        runDir,
        epoch: ev.epoch,
        batchesDone: ev.batchesDone,
        backend: ev.backend,
        points: ev.points,
        samples: ev.samples,
        ...ev.result,
        ...ev.latents,
        priorVariance: ev.priorVariance,
        validationElbo: ev.validationElbo,
        convergence: ev.verdict?.state,
        convergenceReason: ev.verdict?.reason,
        verdictNotes: ev.verdictNotes,
        sessions: ev.sessions,
      }) + '\n',
    );
    return 0;
  }
  const r = ev.result;
  // A run stopped within an epoch has weights past its last whole one: say how far.
  const within = ev.batchesDone ? ` + ${ev.batchesDone} batch${ev.batchesDone === 1 ? '' : 'es'} of epoch ${ev.epoch + 1}` : '';
  console.log(`${ev.spec.name}: ${ev.spec.model.type}, H=${ev.spec.model.latentDim}, D=${ev.meta.dataset.dim}; checkpoint of epoch ${ev.epoch}${within}`);
  console.log(`${ev.points} points x ${ev.samples} Monte-Carlo samples, engine ${ev.backend}\n`);
  const sessions = spanLines(ev.sessions);
  if (sessions.length > 0) console.log(sessionsList(sessions));
  console.log(decompositionTable(r));
  console.log('');
  console.log(
    perLatentTable(
      r.latentSecondMoment,
      r.klPerLatent,
      r.collapsedLatents,
      ev.latents,
      ev.priorVariance.map((a2) => 0.5 * (LOG_2PIE + Math.log(a2))),
    ),
  );
  console.log('');
  console.log(evidenceTable(ev.latents, r.klPerLatent.length, ev.validationElbo, r.elbo));
  if (ev.verdict) console.log(`\nverdict over the run's passes: ${verdictLine(ev.verdict.state, ev.verdict.reason)}`);
  for (const note of ev.verdictNotes) console.log(`stored verdict differs: ${note}`);
  return 0;
}

async function report(args: Args): Promise<number> {
  if (args.positional.length === 0) throw new UserError(`report takes one or more run folders\n${USAGE}`);
  const { writeReport } = await import('./report');
  const out = await writeReport(args.positional, { out: args.flags.get('out') as string | undefined, png: args.flags.has('png') });
  for (const w of out.warnings) console.error(`warning: ${w}`);
  for (const n of out.notes) console.error(`note: ${n}`);
  for (const f of out.written) console.log(f);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  guardOutput();
  try {
    // Asked for, the usage is an answer (stdout, exit 0); without a command it is a complaint (exit 2).
    if (argv[0] === '--help' || argv[0] === '-h') {
      console.log(USAGE);
      return 0;
    }
    const args = parseArgs(argv);
    if (args.flags.has('help')) {
      console.log(USAGE);
      return 0;
    }
    if (args.command === 'train') return await train(args);
    if (args.command === 'eval') return await evaluate(args);
    return await report(args);
  } catch (e) {
    if (isUserError(e)) {
      console.error(`vae-lens: ${formatUserError(e)}`);
      return 2;
    }
    console.error(`vae-lens: internal error (please report it):\n${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
