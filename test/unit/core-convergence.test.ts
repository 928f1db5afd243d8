/**
 * The convergence verdict on record histories made to be in each state, its hysteresis, records
 * without the optional fields, the shared wording, and the evidence's math.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONFIRM_PASSES,
  DECAYING_STEP_GAIN_FACTOR,
  judgeConvergence,
  judgeEveryPass,
  type ConvergenceOptions,
  type ConvergencePoint,
  type ConvergenceState,
} from '../../src/core/convergence';
import { fitTrend, latentEvidence, mutualInformation } from '../../src/core/evidence';
import { CONVERGENCE_STATES } from '../../src/core/runFormat';
import { Rng } from '../../src/core/random';
import { shortReason, verdictHeadline, verdictLabel, verdictLine, verdictTone } from '../../src/core/verdictText';

// scale = |hEnc| + |hPrior| + |hDec| = 8, so with tolerance 0.01 a change of m = 0.08 matters.
const opts: ConvergenceOptions = { tolerance: 0.01, window: 5, theoremApplies: true, learningRate: 0.01, schedule: 'constant' };

interface Shape {
  elbo: (i: number, rng: Rng) => number;
  /** A level, or one per pass. */
  rDec?: number | ((i: number) => number);
  rPrior?: number;
  elboStdErr?: number;
  gain?: (i: number, rng: Rng) => number | undefined;
  kl?: number[];
  activity?: number[];
  epochs?: boolean;
  /** The mean-field gap per pass, and whether the decoder is linear. */
  meanField?: (i: number) => number;
  linear?: boolean;
}

function history(passes: number, s: Shape, seed = 1): ConvergencePoint[] {
  const rng = new Rng(seed);
  return Array.from({ length: passes }, (_, i) => {
    const elbo = s.elbo(i, rng);
    // Residuals jitter around their level, as minibatch noise makes them.
    const rDec = (typeof s.rDec === 'function' ? s.rDec(i) : (s.rDec ?? 0)) + 0.01 * rng.normal();
    const rPrior = (s.rPrior ?? 0) + 0.01 * rng.normal();
    const gain = s.gain?.(i, rng);
    return {
      elbo,
      elboStdErr: s.elboStdErr ?? 0.01,
      gap: rDec + rPrior,
      gapStdErr: 0.01,
      rDec,
      rPrior,
      hEnc: -1,
      hPrior: 4,
      hDec: 3,
      ...(s.epochs === false ? {} : { epoch: i * 10 }),
      ...(gain === undefined ? {} : { averagedElbo: elbo + gain }),
      ...(s.kl ? { klPerLatent: s.kl } : {}),
      ...(s.activity ? { latentMeanVariance: s.activity } : {}),
      ...(s.meanField ? { meanFieldGap: s.meanField(i), decoderLinear: s.linear ?? false } : {}),
    };
  });
}

const flat = (_i: number, rng: Rng) => -5 + 0.01 * rng.normal();
const smallGain = (_i: number, rng: Rng) => 0.003 + 0.003 * rng.normal();

function stateOf(h: ConvergencePoint[], o: ConvergenceOptions = opts): ConvergenceState {
  return judgeConvergence(h, o).state;
}

test('too early: fewer than 2 x window passes, unless the rise is already plain', () => {
  assert.equal(judgeConvergence([], opts).state, 'too-early');
  const v = judgeConvergence(history(6, { elbo: flat }), opts);
  assert.equal(v.state, 'too-early');
  assert.match(v.reason, /^Needs 10 passes to judge, has 6\./);
  assert.equal(stateOf(history(6, { elbo: (i) => -9 + i })), 'improving');
});

test('improving: a rise beyond its standard error and beyond what matters', () => {
  const v = judgeConvergence(history(20, { elbo: (i, rng) => -6 + 0.03 * i + 0.01 * rng.normal() }), opts);
  assert.equal(v.state, 'improving');
  assert.match(v.reason, /^The ELBO still rises: \+0\.2\d+ over the last 10 passes/);
  assert.ok(v.evidence!.slopePerEpoch > 0.002 && v.evidence!.slopePerEpoch < 0.004, String(v.evidence!.slopePerEpoch));
  // A significant but immaterial rise (0.0005 per pass, 0.005 over the window) is not "improving".
  assert.equal(stateOf(history(20, { elbo: (i, rng) => -5 + 0.0005 * i + 0.0001 * rng.normal(), elboStdErr: 0.0001, gain: smallGain })), 'converged');
});

test('a rise that ended early in the window does not hold the verdict once the last w + 1 passes are flat beyond doubt', () => {
  // Four passes of steep rise, then flat: the 2w-pass slope still leans up for a while.
  const riseThenFlat = (i: number, rng: Rng) => (i < 4 ? -5 - 0.5 * (4 - i) : -5) + 0.005 * rng.normal();
  const h = history(20, { elbo: riseThenFlat, gain: smallGain });
  const states = judgeEveryPass(h, opts).map((v) => v.state);
  const first = states.indexOf('converged');
  // Flat from pass 4: the last w + 1 = 6 passes are all flat at pass 9, the first pass the verdict may speak.
  assert.ok(first >= 9 && first <= 10, states.join(' '));
  const whole = fitTrend(
    h.slice(0, 10).map((p) => p.epoch!),
    h.slice(0, 10).map((p) => p.elbo),
  );
  assert.ok(whole.slope * 90 > opts.tolerance * 8, 'the 2w-pass slope alone would still call it rising');
  // A rise that continues in the last passes still counts.
  const slow = history(20, { elbo: (i, rng) => -6 + 0.02 * i + 0.005 * rng.normal(), gain: smallGain });
  assert.equal(stateOf(slow), 'improving');
});

test('a rise that levels off is judged by what it has left: an exponential approach is called while it still rises, a steady rise is not', () => {
  // y = -5 - 1.5 rho^i: every pass still rises, by less each time. m/2 = 0.04.
  const m = 0.08;
  for (const rho of [0.6, 0.7]) {
    const firsts: number[] = [];
    let named = 0;
    for (let seed = 1; seed <= 3; seed++) {
      const h = history(30, { elbo: (i, rng) => -5 - 1.5 * rho ** i + 0.005 * rng.normal(), elboStdErr: 0.005, gain: smallGain }, seed);
      const verdicts = judgeEveryPass(h, opts);
      const first = verdicts.findIndex((v) => v.state === 'converged');
      const left = 1.5 * rho ** first;
      assert.ok(first > 0 && left < m / 2, `rho ${rho} seed ${seed}: called at pass ${first} with ${left} left`);
      firsts.push(first);
      for (const [i, v] of verdicts.entries()) {
        const said = /would gain about (\S+) more/.exec(v.reason);
        if (said) assert.ok(Number(said[1]) >= 1.5 * rho ** i, `pass ${i} says ${said[1]} is left, ${1.5 * rho ** i} is`);
      }
      named += verdicts.some((v) =>
        /^The gap is closed and the ELBO levels off\. .*Its rise is levelling off: the slope of the last 6 passes is at most \d+ %/.test(v.reason),
      )
        ? 1
        : 0;
    }
    assert.ok(named >= 2, `the reason names the levelling in ${named} of 3 runs`);
    // Waiting for the last w + 1 passes to be flat beyond doubt called these at passes 16-17 (rho 0.6) and 17-21 (0.7).
    assert.ok(
      Math.max(...firsts) <= (rho === 0.6 ? 12 : 17) && firsts.reduce((a, b) => a + b) / 3 <= (rho === 0.6 ? 12 : 16),
      `rho ${rho}: called at passes ${firsts.join(', ')}`,
    );
  }
  // A steady rise shows no slowing, so nothing says how much is left: improving on every pass.
  const steady = judgeEveryPass(history(30, { elbo: (i, rng) => -6 + 0.01 * i + 0.005 * rng.normal(), elboStdErr: 0.005, gain: smallGain }), opts);
  assert.deepEqual(new Set(steady.slice(10).map((v) => v.state)), new Set(['improving']));
  assert.ok(steady.every((v) => !/levelling/.test(v.reason)));
});

test('generated rises: an exponential approach is called with less than m left, a steady rise of m per 2w passes never', () => {
  const rng = new Rng(11);
  const m = 0.08;
  let seed = 100;
  const run = (elbo: (i: number) => number, noise: number) =>
    judgeEveryPass(history(40, { elbo: (i, r) => elbo(i) + noise * r.normal(), elboStdErr: noise, gain: () => 0.003 }, seed++), opts).map((v) => v.state);
  let calls = 0;
  const late: string[] = [];
  for (let k = 0; k < 400; k++) {
    const amp = 0.2 + 3 * rng.uniform();
    const rho = 0.5 + 0.45 * rng.uniform();
    const noise = [0.002, 0.005, 0.01, 0.02][Math.floor(4 * rng.uniform())]!;
    run((i) => -5 - amp * rho ** i, noise).forEach((s, i) => {
      if (s !== 'converged') return;
      calls++;
      const left = amp * rho ** i;
      assert.ok(left < 2 * m, `amplitude ${amp}, rate ${rho}, noise ${noise}: called at pass ${i} with ${left} left`);
      if (left > m) late.push(`${amp.toFixed(2)}/${rho.toFixed(2)}/${noise}@${i}`);
    });
  }
  assert.ok(calls > 5000, `${calls} calls`);
  assert.ok(late.length <= 0.002 * calls, `${late.length} of ${calls} calls with more than m left: ${late.join(' ')}`);
  // Steady rises of m to m + 0.5 over 2w passes, with noise up to an eighth of m per pass.
  for (let k = 0; k < 300; k++) {
    const per2w = m + 0.5 * rng.uniform();
    const noise = [0.002, 0.005, 0.01][Math.floor(3 * rng.uniform())]!;
    const start = -6 - 5 * rng.uniform();
    const states = run((i) => start + (per2w / 10) * i, noise);
    assert.ok(!states.includes('converged'), `a rise of ${per2w} per 10 passes, noise ${noise}: ${states.join(' ')}`);
  }
});

test('generated rises: a verdict called on a levelling rise stays called while the steep start leaves the window', () => {
  // A call can come from w + 2 passes on, with the rise's steep start still in the 2w-pass window;
  // once settled, what the levelling rise has left is judged against m, not forgotten.
  const rng = new Rng(12);
  const flipped: string[] = [];
  let called = 0;
  for (let k = 0; k < 300; k++) {
    const amp = 0.5 + 3 * rng.uniform();
    const rho = 0.4 + 0.4 * rng.uniform();
    const noise = [0.002, 0.005, 0.01][Math.floor(3 * rng.uniform())]!;
    const h = history(30, { elbo: (i, r) => -5 - amp * rho ** i + noise * r.normal(), elboStdErr: noise, gain: () => 0.003 }, 500 + k);
    const states = judgeEveryPass(h, opts).map((v) => v.state);
    const first = states.indexOf('converged');
    if (first < 0) continue;
    called++;
    if (states.slice(first).some((s) => s !== 'converged')) flipped.push(`${amp.toFixed(2)}/${rho.toFixed(2)}/${noise}: ${states.join(' ')}`);
  }
  assert.ok(called > 250, `${called} of 300 called`);
  // 28 flipped while a settled verdict did not ask what the rise had left. The few left are the
  // noisiest (0.01 a pass), where the slowing cannot be told from noise and the window still rises by m.
  assert.ok(flipped.length <= 0.015 * called, `${flipped.length} of ${called} flipped:\n${flipped.join('\n')}`);
});

test('passes that share an epoch number, or go back, are read per pass: a rise is not hidden by a zero-width window', () => {
  // A script that diagnoses several times an epoch and records the whole epoch number.
  const rising = history(20, { elbo: (i, rng) => -6 + 0.03 * i + 0.005 * rng.normal(), gain: smallGain }).map((p, i) => ({ ...p, epoch: Math.floor(i / 4) }));
  const v = judgeConvergence(rising, opts);
  assert.equal(v.state, 'improving', v.reason);
  assert.match(v.reason, /per pass\)/);
  assert.doesNotMatch(v.reason, /Infinity|NaN/);
  // All at one epoch: before, the slope was 0 ± Infinity and the run was called converged.
  assert.equal(stateOf(rising.map((p) => ({ ...p, epoch: 3 }))), 'improving');
  const flatRun = history(20, { elbo: flat, gain: smallGain }).map((p) => ({ ...p, epoch: 3 }));
  assert.equal(stateOf(flatRun), 'converged');
  // Epochs that go back (a resumed run appended to the same records): also per pass.
  assert.equal(stateOf(rising.map((p, i) => ({ ...p, epoch: i % 7 }))), 'improving');
});

test('a plateau reached in the first passes is judged from w + 2 passes on, before the 2w the trend window holds', () => {
  // Two passes of steep rise, flat from pass 2: the last w + 1 = 6 passes are flat at pass 7, and the
  // next pass confirms, before the 2w = 10 passes the trend window holds.
  const h = history(14, { elbo: (i, rng) => (i < 2 ? -9 + 2 * i : -5) + 0.005 * rng.normal(), elboStdErr: 0.005, gain: smallGain });
  const states = judgeEveryPass(h, opts).map((v) => v.state);
  assert.ok([7, 8].includes(states.indexOf('converged')), states.join(' '));
  assert.ok(
    states.slice(0, 7).every((s) => s === 'too-early' || s === 'improving'),
    states.join(' '),
  );
  // Still rising at pass 7: no verdict before 2w passes.
  const rising = judgeEveryPass(history(9, { elbo: (i, rng) => -9 + 0.3 * i + 0.005 * rng.normal(), gain: smallGain }), opts);
  assert.ok(rising.every((v) => v.state === 'too-early' || v.state === 'improving'));
});

test('a verdict held at improving while a flat stretch is confirmed says the rise no longer counts, not that noise hides one', () => {
  // Rising for 12 passes, then flat: the verdict is improving, then one pass points to converged and holds.
  const h = history(24, { elbo: (i, rng) => (i < 12 ? -5 - 0.1 * (12 - i) : -5) + 0.005 * rng.normal(), gain: smallGain });
  const verdicts = judgeEveryPass(h, opts);
  const first = verdicts.findIndex((v) => v.state === 'converged');
  assert.ok(first > 0 && verdicts[first - 1]!.state === 'improving', verdicts.map((v) => v.state).join(' '));
  const held = verdicts[first - 1]!.reason;
  assert.match(held, /^The ELBO no longer rises by what matters: its slope over the last 6 passes is [-+]\S+ ± \S+ per epoch\./);
  assert.match(held, /This pass points to "converged"/);
  assert.doesNotMatch(held, /cannot rule out/);
});

test('a verdict held at not-converged while a closed gap is confirmed says what this pass shows', () => {
  // The decoder variance lags for 14 passes, then sits at its optimum: not converged, then one held pass.
  const h = history(24, { elbo: flat, gain: smallGain }).map((p, i) => (i < 14 ? { ...p, rDec: p.rDec + 0.5, gap: p.gap + 0.5 } : p));
  const verdicts = judgeEveryPass(h, opts);
  const first = verdicts.findIndex((v) => v.state === 'converged');
  assert.ok(first > 0 && verdicts[first - 1]!.state === 'not-converged', verdicts.map((v) => v.state).join(' '));
  const held = verdicts[first - 1]!.reason;
  assert.match(held, /^On this pass the ELBO is not falling and the gap is closed\. /);
  assert.match(held, /This pass points to "converged"/);
  assert.doesNotMatch(held, /off its optimum/);
  // While the gap is open the head names the residual, and whether the ELBO still rises.
  assert.match(verdicts[12]!.reason, /^The gap is open: the decoder variance is off its optimum, though the ELBO is flat\./);
});

test('generated runs: a held verdict never contradicts what its own pass shows', () => {
  // Piecewise runs: rises, plateaus and falls, a gap that opens and closes, a step's noise that comes
  // and goes, each segment a few passes long, so that verdicts are held on every kind of pass.
  const rng = new Rng(7);
  let held = 0;
  for (let run = 0; run < 150; run++) {
    const elbos: number[] = [];
    const gaps: number[] = [];
    const gains: number[] = [];
    for (let i = 0, slope = 0, gap = 0, gain = 0; i < 40; i++) {
      if (i === 0 || rng.uniform() < 0.15) {
        slope = [0, 0, 0.03, 0.2, -0.05][Math.floor(rng.uniform() * 5)]!;
        gap = rng.uniform() < 0.3 ? 0.5 : 0;
        gain = rng.uniform() < 0.3 ? 0.1 : 0.003;
      }
      elbos.push((elbos.at(-1) ?? -5) + slope);
      gaps.push(gap);
      gains.push(gain);
    }
    const h = history(40, { elbo: (i, r) => elbos[i]! + 0.01 * r.normal(), rDec: (i) => gaps[i]!, gain: (i) => gains[i] }, run + 1);
    for (const v of judgeEveryPass(h, opts)) {
      const [head, pointed] = v.reason.split(' (This pass points to ');
      if (/still rises/.test(head!)) assert.equal(v.elboStable, false, v.reason);
      assert.ok(!(/residuals are small/.test(head!) && /off its optimum|off the prior/.test(head!.split('. ')[0]!)), v.reason);
      if (pointed === undefined) continue;
      held++;
      const moving = /^"[^"]+": The ELBO (still rises|is falling)/.test(pointed);
      if (moving) assert.doesNotMatch(head!, /the ELBO is flat|The ELBO is stationary|^At a stationary point/, v.reason);
    }
  }
  assert.ok(held > 100, `only ${held} held verdicts were generated`);
});

test('converged: flat ELBO, both residuals near zero, averaging gains nothing, every latent in use', () => {
  const v = judgeConvergence(history(20, { elbo: flat, gain: smallGain, kl: [1.2, 0.8], activity: [0.9, 0.5] }), opts);
  assert.equal(v.state, 'converged', v.reason);
  assert.ok(v.gapClosed && v.elboStable);
  assert.match(v.reason, /^The gap is closed and the ELBO is flat/);
});

test('noise-limited: the averaged recent weights beat the current ones by more than half of what matters', () => {
  const v = judgeConvergence(history(20, { elbo: flat, gain: (_i, rng) => 0.12 + 0.01 * rng.normal() }), opts);
  assert.equal(v.state, 'noise-limited', v.reason);
  assert.match(v.reason, /^A smaller step would gain about 0\.1\d+ nats/);
  assert.match(v.reason, /"schedule": "cosine"/);
  assert.match(v.reason, /learningRate of 0\.001/);
  // Already on a cosine schedule: the advice is to train longer.
  assert.match(judgeConvergence(history(20, { elbo: flat, gain: () => 0.12 }), { ...opts, schedule: 'cosine' }).reason, /train for more epochs/);
});

test('noise-limited mid-run on a decaying step: the rest of the schedule is the smaller step', () => {
  // 20 passes, 10 epochs apart: the last is at epoch 190.
  const noisy = history(20, { elbo: flat, gain: () => 0.12 });
  const reasonAt = (h: ConvergencePoint[], o: ConvergenceOptions) => {
    const v = judgeConvergence(h, o);
    assert.equal(v.state, 'noise-limited', v.reason);
    return v.reason;
  };
  assert.match(
    reasonAt(noisy, { ...opts, schedule: 'cosine', epochs: 600 }),
    /The cosine schedule is still lowering the step and 410 of 600 epochs are still to go: that is the smaller step, so let the run finish\./,
  );
  // At the planned end, or without a plan, the advice is the schedule's.
  assert.match(reasonAt(noisy, { ...opts, schedule: 'cosine', epochs: 190 }), /train for more epochs/);
  assert.match(reasonAt(noisy, { ...opts, schedule: 'cosine', epochs: Number.NaN }), /train for more epochs/);
  // A script's run names no schedule, but its recorded step falls.
  const falling = noisy.map((p, i) => ({ ...p, learningRate: 0.01 * 0.97 ** i }));
  assert.match(reasonAt(falling, { ...opts, epochs: 400 }), /The falling learning rate is still lowering the step and 210 of 400 epochs are still to go/);
  // A steady step with epochs left: the step itself is what to change.
  assert.match(reasonAt(noisy, { ...opts, epochs: 400 }), /"schedule": "cosine"/);
});

test('noise-limited without averaged weights: the ELBO scatters far beyond its Monte-Carlo error', () => {
  const h = history(20, { elbo: (_i, rng) => -5 + 0.1 * rng.normal(), elboStdErr: 0.005 });
  const v = judgeConvergence(h, opts);
  assert.equal(v.state, 'noise-limited', v.reason);
  assert.match(v.reason, /times its Monte-Carlo error/);
  // The same scatter from Monte-Carlo noise alone is not the step's.
  assert.notEqual(stateOf(history(20, { elbo: (_i, rng) => -5 + 0.02 * rng.normal(), elboStdErr: 0.02 })), 'noise-limited');
});

test('collapsed: a stationary point where a latent carries nothing (KL_h < 0.01 or inactive mean)', () => {
  const byKl = judgeConvergence(history(20, { elbo: flat, gain: smallGain, kl: [1.2, 0.004, 0.9] }), opts);
  assert.equal(byKl.state, 'collapsed');
  assert.match(byKl.reason, /^At a stationary point with 1 of 3 latents inactive\./);
  assert.match(byKl.reason, /z1/);
  const byActivity = judgeConvergence(history(20, { elbo: flat, gain: smallGain, kl: [1.2, 0.05], activity: [0.8, 0.002] }), opts);
  assert.equal(byActivity.state, 'collapsed');
  assert.match(judgeConvergence(history(20, { elbo: flat, kl: [0.001, 0.002] }), opts).reason, /the posterior has collapsed/);
});

test('generated latent counts: the reason names a few inactive latents and counts the rest, however many there are', () => {
  for (const H of [5, 12, 40, 500, 2000])
    for (const every of [2, 5]) {
      const kl = Array.from({ length: H }, (_, h) => (h % every === 1 ? 0.001 : 1.2));
      const inactive = kl.filter((k) => k < 0.01).length;
      const v = judgeConvergence(history(20, { elbo: flat, gain: smallGain, kl }), opts);
      assert.equal(v.state, 'collapsed', `${H} latents`);
      assert.match(v.reason, new RegExp(`${inactive} of ${H} latents are inactive \\(z1[,)]`), `${H} latents`);
      assert.ok(v.reason.length < 1200, `${H} latents, 1 in ${every} inactive: a reason of ${v.reason.length} characters`);
      if (inactive > 10) assert.match(v.reason, new RegExp(`and ${inactive - 10} more\\)`), `${H} latents`);
      else assert.match(v.reason, new RegExp(`z${1 + every * (inactive - 1)}\\)`), `${H} latents: every one named`);
    }
});

test('not converged: flat but the gap is open, and the reason names the residual that is off', () => {
  const v = judgeConvergence(history(20, { elbo: flat, rDec: 0.3, gain: smallGain }), opts);
  assert.equal(v.state, 'not-converged');
  assert.ok(v.elboStable && !v.gapClosed);
  assert.match(v.reason, /^The gap is open: the decoder variance is off its optimum/);
  assert.match(judgeConvergence(history(20, { elbo: flat, rPrior: -0.3 }), opts).reason, /second moments are off the prior's/);
  // R_dec and R_prior that cancel leave a small gap, but not a closed one.
  assert.equal(stateOf(history(20, { elbo: flat, rDec: 0.5, rPrior: -0.5, gain: smallGain })), 'not-converged');
});

test('an open R_dec: the reason reads the variance against the one its error asks for, and its own cost', () => {
  const withVariance = (sigma2: unknown, sigma2Opt: unknown, elboAtOptVariance?: unknown) =>
    history(20, { elbo: flat, rDec: 0.3, gain: smallGain }).map(
      (p) => ({ ...p, sigma2, sigma2Opt, elboAtOptVariance: elboAtOptVariance ?? null }) as ConvergencePoint,
    );
  const above = judgeConvergence(withVariance(0.0115, 0.01, -4.99), { ...opts, schedule: 'cosine' }).reason;
  assert.match(above, /The decoder variance is 15 % above the s\*² its error asks for: the error fell faster than the variance could follow/);
  assert.match(above, /Setting it to s\*² alone would gain 0\.0\d+ nats/);
  assert.match(above, /Train longer \(more epochs, so the cosine schedule ends later\)\.$/);
  // Mid-run the epochs still to go are the longer training.
  assert.match(
    judgeConvergence(withVariance(0.0115, 0.01, -4.99), { ...opts, schedule: 'cosine', epochs: 250 }).reason,
    /the decoder was still improving\..* 60 of 250 epochs are still to go\.$/,
  );
  assert.match(
    judgeConvergence(withVariance(0.008, 0.01), opts).reason,
    /The decoder variance is 20 % below the s\*² its error asks for: the error grew past it\.$/,
  );
  // Nothing to read: fields missing, odd, or variances that agree on average (per-dimension ones can still be off).
  for (const [s2, opt] of [
    [undefined, undefined],
    [null, 0.01],
    [0.01, 0],
    [-1, 0.01],
    ['0.01', 0.01],
    [Number.NaN, 0.01],
    [0.01, 0.01002],
  ])
    assert.doesNotMatch(judgeConvergence(withVariance(s2, opt), opts).reason, /s\*²/, `${s2} ${opt}`);
});

test('the mean-field gap: a linear decoder with m/4 or more of it is not done; a nonlinear one only while the gap shrinks by that much', () => {
  // m = 0.08: m/4 = 0.02.
  const base = { elbo: flat, gain: smallGain };
  const shrinking = judgeConvergence(history(30, { ...base, meanField: (i) => 0.06 - 0.0005 * i, linear: true }), opts);
  assert.equal(shrinking.state, 'improving');
  assert.match(shrinking.reason, /^The latents' posterior is correlated: a diagonal encoder loses 0\.04\d+ nats a point to it .* the gap shrank/);
  const stuck = judgeConvergence(history(30, { ...base, meanField: () => 0.03, linear: true }), opts);
  assert.equal(stuck.state, 'not-converged');
  assert.match(stuck.reason, /loses 0\.0300 nats .* More epochs at a step that still moves the weights/);
  // VAE-0's gap stays open by design: the reason names the correlation, not the decoder variance.
  const vae0 = judgeConvergence(history(30, { ...base, rDec: 1.8, meanField: () => 0.03, linear: true }), { ...opts, theoremApplies: false });
  assert.equal(vae0.state, 'not-converged');
  assert.match(vae0.reason, /^The latents' posterior is correlated/);
  const small = judgeConvergence(history(30, { ...base, meanField: () => 0.01, linear: true }), opts);
  assert.equal(small.state, 'converged');
  assert.match(small.reason, /The posterior is close to factorised: the mean-field gap is 0\.0100 nats\./);
  // A nonlinear decoder may keep a large gap at its optimum: a steady one says nothing, a shrinking one is gain to come.
  assert.equal(stateOf(history(30, { ...base, meanField: () => 2, linear: false })), 'converged');
  assert.equal(stateOf(history(30, { ...base, meanField: (i) => 2 - 0.001 * i, linear: false })), 'converged', '0.009 over the window is too little');
  const turning = judgeConvergence(history(30, { ...base, meanField: (i) => 2 - 0.004 * i, linear: false }), opts);
  assert.equal(turning.state, 'improving');
  assert.match(turning.reason, /^The mean-field gap is still shrinking: 0\.036\d* over the last 10 passes/);
  // Jitter without a trend is no fall.
  const rng = new Rng(3);
  const jitter = Array.from({ length: 30 }, () => 1 + 0.05 * rng.normal());
  assert.equal(stateOf(history(30, { ...base, meanField: (i) => jitter[i]!, linear: false })), 'converged');
});

test('a linear decoder whose ELBO still rises as its mean-field gap shrinks is called once about twice the gap is under m/2', () => {
  // The ELBO gives back about twice what the gap loses: 2 x 0.08 exp(-i/12) below its optimum -5.
  const gap = (i: number) => 0.08 * Math.exp(-i / 12);
  const shape = { elbo: (i: number, rng: Rng) => -5 - 2 * gap(i) + 0.005 * rng.normal(), gain: smallGain, meanField: gap, linear: true };
  const verdicts = judgeEveryPass(history(40, shape), opts);
  const first = verdicts.findIndex((v) => v.state === 'converged');
  assert.ok(first > 0, verdicts.map((v) => v.state).join(' '));
  assert.ok(2 * gap(first) < 0.04 + 1e-9, `called with ${2 * gap(first)} left`);
  assert.ok(
    verdicts.slice(0, first + 1).some((v) => /Its rise is the latents' posterior decorrelating: the mean-field gap fell/.test(v.reason)),
    'the reason names the decorrelation',
  );
  // Without the gap the same ELBO is called later: its own trend has to see the rise end.
  const without = judgeEveryPass(history(40, { ...shape, meanField: undefined }), opts).findIndex((v) => v.state === 'converged');
  assert.ok(without > first, `${without} vs ${first}`);
  // A steady rise that the gap's slow fall does not explain stays a rise.
  const steady = {
    elbo: (i: number, rng: Rng) => -6 + 0.03 * i + 0.005 * rng.normal(),
    gain: smallGain,
    meanField: (i: number) => 0.015 - 0.0002 * i,
    linear: true,
  };
  assert.equal(stateOf(history(40, steady)), 'improving');
});

test('generated decorrelations: a call never leaves more than m to gain, and a rise the gap does not explain is never called', () => {
  const rng = new Rng(21);
  let calls = 0;
  for (let run = 0; run < 200; run++) {
    const size = 0.03 + 0.27 * rng.uniform();
    const tau = 5 + 25 * rng.uniform();
    // Up to an eighth of m per pass, and recorded as the passes' error (as in the generated rises above).
    const noise = 0.002 + 0.008 * rng.uniform();
    const gap = (i: number) => size * Math.exp(-i / tau);
    const verdicts = judgeEveryPass(
      history(60, { elbo: (i, r) => -5 - 2 * gap(i) + noise * r.normal(), elboStdErr: noise, gain: smallGain, meanField: gap, linear: true }, run + 1),
      opts,
    );
    verdicts.forEach((v, i) => {
      if (v.state !== 'converged') return;
      calls++;
      assert.ok(2 * gap(i) <= 0.08, `run ${run} (size ${size}, tau ${tau}, noise ${noise}): called at pass ${i} with ${2 * gap(i)} left`);
    });
    // A steady rise of 1.5 m per 2w passes beside a gap under m/4 that shrinks a little.
    const steady = judgeEveryPass(
      history(
        60,
        { elbo: (i, r) => -6 + 0.012 * i + noise * r.normal(), elboStdErr: noise, gain: smallGain, meanField: (i) => 0.019 * (1 - i / 120), linear: true },
        run + 1,
      ),
      opts,
    );
    assert.ok(!steady.some((v) => v.state === 'converged'), `run ${run}: a steady rise called converged`);
  }
  assert.ok(calls > 2000, `the approaches are called (${calls} calls)`);
});

test('histories from other trainers with odd mean-field fields: a state and a reason in words, never NaN or a throw', () => {
  const rng = new Rng(33);
  const odd = [undefined, null, Number.NaN, -0.5, 0, 1e-12, 0.03, 7, 1e9];
  for (let run = 0; run < 300; run++) {
    const n = 1 + Math.floor(40 * rng.uniform());
    const h = history(n, { elbo: (i, r) => -5 + (run % 3 === 0 ? 0.02 * i : 0) + 0.01 * r.normal(), gain: smallGain }, run).map((p) => ({
      ...p,
      meanFieldGap: odd[Math.floor(odd.length * rng.uniform())],
      decoderLinear: [true, false, null, undefined][Math.floor(4 * rng.uniform())],
    }));
    const verdicts = judgeEveryPass(h, opts);
    for (const v of verdicts) {
      assert.ok(CONVERGENCE_STATES.includes(v.state), v.state);
      assert.doesNotMatch(v.reason, /NaN|undefined|Infinity|gap is -/, `run ${run}: ${v.reason}`);
    }
  }
});

test('not converged: a falling ELBO', () => {
  const v = judgeConvergence(history(20, { elbo: (i, rng) => -5 - 0.03 * i + 0.01 * rng.normal(), gain: smallGain }), opts);
  assert.equal(v.state, 'not-converged');
  assert.match(v.reason, /^The ELBO is falling/);
});

test('VAE-0: a flat ELBO with the gap open is stationary, never converged', () => {
  const o = { ...opts, theoremApplies: false };
  const v = judgeConvergence(history(20, { elbo: flat, rDec: 0.4, gain: smallGain }), o);
  assert.equal(v.state, 'stationary');
  assert.match(v.reason, /fixed decoder variance \(VAE-0\)/);
  assert.equal(stateOf(history(20, { elbo: (i) => -9 + 0.1 * i, rDec: 0.4 }), o), 'improving');
});

test('a validation split whose ELBO falls while the training ELBO does not: the reason says over-fitting', () => {
  const h = history(20, { elbo: flat, gain: smallGain }).map((p, i) => ({ ...p, validationElbo: -5.5 - 0.02 * i }));
  const v = judgeConvergence(h, opts);
  assert.match(v.reason, /validation ELBO is falling while the training ELBO is not: the model is over-fitting\.$/);
  const steady = history(20, { elbo: flat, gain: smallGain }).map((p) => ({ ...p, validationElbo: p.elbo - 0.5 }));
  assert.doesNotMatch(judgeConvergence(steady, opts).reason, /over-fitting/);
});

test('records without the optional fields (no epoch, latents, averaged ELBO) are judged too', () => {
  assert.equal(stateOf(history(20, { elbo: flat, epochs: false })), 'converged');
  assert.equal(stateOf(history(20, { elbo: (i, rng) => -6 + 0.03 * i + 0.01 * rng.normal(), epochs: false })), 'improving');
});

test('hysteresis: one outlier pass does not change the verdict; evidence that lasts does', () => {
  const settled = history(30, { elbo: flat, gain: smallGain });
  const outlier = [
    ...settled,
    { ...settled[29]!, elbo: -4.5, epoch: 300 },
    ...history(5, { elbo: flat, gain: smallGain }, 2).map((p, i) => ({ ...p, epoch: 310 + 10 * i })),
  ];
  const states = judgeEveryPass(outlier, opts).map((v) => v.state);
  assert.deepEqual([...new Set(states.slice(10))], ['converged'], states.join(' '));
  // A held verdict says what the last pass pointed to.
  // One wild pass of R_dec does not open the gap either.
  const wildGap = [
    ...settled,
    { ...settled[29]!, rDec: 3, gap: 3, epoch: 300 },
    ...history(5, { elbo: flat, gain: smallGain }, 3).map((p, i) => ({ ...p, epoch: 310 + 10 * i })),
  ];
  assert.deepEqual(
    [
      ...new Set(
        judgeEveryPass(wildGap, opts)
          .slice(10)
          .map((v) => v.state),
      ),
    ],
    ['converged'],
  );
  // A real, lasting rise takes over within a few passes.
  const rise = [...settled, ...Array.from({ length: 8 }, (_, i) => ({ ...settled[29]!, elbo: -5 + 0.1 * (i + 1), epoch: 300 + 10 * i }))];
  const after = judgeEveryPass(rise, opts)
    .map((v) => v.state)
    .slice(30);
  const turned = after.indexOf('improving');
  assert.ok(turned >= 1 && turned <= 4, after.join(' '));
  // On the pass before it turned, the held verdict said what that pass pointed to.
  assert.match(
    judgeEveryPass(rise, opts)[30 + turned - 1]!.reason,
    /\(This pass points to "still improving": The ELBO still rises: .+ The verdict changes when 2 of the last 3 passes agree\.\)$/,
  );
});

test('hysteresis: a long stationary run with noisy evidence barely changes its verdict', () => {
  // Gains hover around the threshold of noise-limited (m/2 = 0.04) and the ELBO jitters.
  const h = history(200, { elbo: (_i, rng) => -5 + 0.015 * rng.normal(), gain: (_i, rng) => 0.04 + 0.03 * rng.normal() }, 7);
  const states = judgeEveryPass(h, opts).map((v) => v.state);
  let changes = 0;
  for (let i = 11; i < states.length; i++) if (states[i] !== states[i - 1]) changes++;
  assert.ok(changes <= 4, `${changes} changes: ${states.join(' ')}`);
  // Without hysteresis the same evidence crosses its threshold on many passes.
  const crossings = h.slice(10).filter((p, i, a) => i > 0 && p.averagedElbo! - p.elbo > 0.04 !== a[i - 1]!.averagedElbo! - a[i - 1]!.elbo > 0.04).length;
  assert.ok(crossings > 3 * Math.max(1, changes), `raw crossings ${crossings}`);
});

test('hysteresis: under a decaying step the verdict leaves noise-limited once what the decay still gives is below m/2', () => {
  // The averaging gain falls steadily from 0.081 towards 0, as the step's noise fades; the ELBO is flat.
  const passes = history(45, { elbo: flat, gain: (i) => 0.081 - 0.002 * i });
  const firstConverged = (h: ConvergencePoint[]) => judgeEveryPass(h, opts).findIndex((v) => v.state === 'converged');
  // The mean gain of the last 5 passes is 0.085 - 0.002 i: below m/4 = 0.02 from pass 33, which a steady step asks.
  // A decaying step gives about 1.25 times the gain at the last pass's step still: the mean gain times
  // the last pass's rate over the window's mean rate (0.94 for a step that falls 3 % a pass), below
  // m/2 = 0.04 from pass 26 (a mean gain of 0.033, 0.031 at the last pass's step). The verdict
  // follows a pass later, when the next pass agrees.
  assert.equal(firstConverged(passes), 34);
  assert.equal(firstConverged(passes.map((p) => ({ ...p, learningRate: 0.01 }))), 34, 'a steady recorded step is a steady step');
  assert.equal(firstConverged(passes.map((p, i) => ({ ...p, learningRate: 0.01 * 0.97 ** i }))), 27, 'the step falls by a quarter over 2w passes');
  assert.equal(judgeEveryPass(passes, opts)[20]!.state, 'noise-limited');
  // The converged verdict says why the remaining gain does not hold it.
  const decaying = judgeEveryPass(
    passes.map((p, i) => ({ ...p, learningRate: 0.01 * 0.97 ** i })),
    opts,
  );
  assert.equal(decaying[26]!.state, 'noise-limited');
  assert.match(
    decaying[26]!.reason,
    /A smaller step would gain about 0\.0388 nats/,
    'a gain of 0.031 at the step of pass 26, and the quarter more the decay gives',
  );
  // Its figures multiply out: the gain at the current step it names, times the factor, is the gain it states.
  const [, stated, atStep, factor] = /about ([\d.]+) nats: .*, ([\d.]+) at the current step\).* about ([\d.]+) times/.exec(decaying[26]!.reason) ?? [];
  assert.ok(Math.abs(Number(atStep) * Number(factor) - Number(stated)) < 0.0006, decaying[26]!.reason);
  assert.match(decaying[29]!.reason, /The learning rate fell to 76 % of its value 10 passes ago, and that gain falls with it\.$/);
  assert.doesNotMatch(decaying[44]!.reason, /learning rate fell/, 'not once the gain is below m/4 anyway');
});

test('the decay gain factor the benchmark sweeps: a larger one calls later on a falling step, and the reason states the one used', () => {
  const passes = history(45, { elbo: flat, gain: (i) => 0.081 - 0.002 * i }).map((p, i) => ({ ...p, learningRate: 0.01 * 0.97 ** i }));
  const firstConverged = (o: ConvergenceOptions) => judgeEveryPass(passes, o).findIndex((v) => v.state === 'converged');
  assert.equal(firstConverged({ ...opts, decayingStepGainFactor: DECAYING_STEP_GAIN_FACTOR }), firstConverged(opts), 'the default is the constant');
  // Twice the gain at the step must stay under m/2 = 0.04: a gain under 0.02 at the step, which a
  // steady step's m/4 asks from pass 33 on, so the call comes no sooner than under a steady step.
  assert.equal(firstConverged({ ...opts, decayingStepGainFactor: 2 }), 33);
  assert.ok(firstConverged({ ...opts, decayingStepGainFactor: 1 }) < firstConverged(opts));
  assert.match(judgeEveryPass(passes, { ...opts, decayingStepGainFactor: 2 })[26]!.reason, /gives about 2 times the gain at the current step/);
});

test("a decaying step: the averaging gain is read at the last pass's step, and never below that pass's own", () => {
  // The gain goes with the step (0.06 at the first pass, 3 % less a pass), the ELBO is flat.
  const lr = (i: number) => 0.01 * 0.97 ** i;
  const run = (gain: (i: number) => number) =>
    judgeEveryPass(
      history(40, { elbo: flat, gain }).map((p, i) => ({ ...p, learningRate: lr(i) })),
      opts,
    ).map((v) => v.state);
  const withStep = (i: number) => 6 * lr(i);
  // The mean gain of the last 5 passes is that of their middle pass, 6 % above the last one's; scaled
  // to the last pass's step it is that pass's gain, and 1.25 times it is below m/2 = 0.04 from pass
  // 21 (0.0317); the mean alone would hold the verdict until pass 23 (1.25 x 0.0315).
  assert.equal(run(withStep).indexOf('converged'), 22);
  // A last pass whose weights sit further below their average than the window's (a gain of 0.036,
  // 1.25 times it over m/2, where the window's mean at its step stays under) holds the call back
  // until two of the last three passes agree again.
  const states = run((i) => (i === 22 ? 0.036 : withStep(i)));
  assert.equal(states[22], 'noise-limited');
  assert.equal(states.indexOf('converged'), 23);
});

test('hysteresis: a new state is taken when two of the last three passes call for it, one contrary pass between them or not', () => {
  // What each pass called for: its state, or the one a held verdict says the pass points to.
  const byLabel = new Map(CONVERGENCE_STATES.map((s) => [verdictLabel(s), s] as const));
  // The default, and the counts the benchmark's joint search replays (k of the last k + 1 passes).
  for (const confirm of [CONFIRM_PASSES, 1, 3]) {
    let between = 0;
    for (let seed = 1; seed <= 40; seed++) {
      // Gains hover around the thresholds of noise-limited and the ELBO jitters, so the calls disagree often.
      const noisy = history(120, { elbo: (_i, rng) => -5 + 0.015 * rng.normal(), gain: (_i, rng) => 0.03 + 0.03 * rng.normal() }, seed);
      const verdicts = judgeEveryPass(noisy, confirm === CONFIRM_PASSES ? opts : { ...opts, confirmPasses: confirm });
      const calls = verdicts.map((v) => {
        const held = /This pass points to "([^"]+)"/.exec(v.reason)?.[1];
        return held === undefined ? v.state : byLabel.get(held)!;
      });
      for (let i = 12; i < verdicts.length; i++) {
        const [before, now] = [verdicts[i - 1]!.state, verdicts[i]!.state];
        const agreeing = calls.slice(i - confirm, i).filter((c) => c === calls[i]).length;
        const where = `${confirm} of ${confirm + 1}, seed ${seed}, pass ${i}: ${calls.slice(i - confirm, i + 1).join(', ')} from ${before}`;
        assert.equal(now !== before, calls[i] !== before && agreeing >= confirm - 1, where);
        if (now !== before && confirm > 1 && calls[i - 1] !== calls[i]) between++;
      }
      if (confirm > 1)
        assert.match(
          verdicts.find((v) => v.reason.includes('This pass points to'))?.reason ?? '',
          new RegExp(`changes when ${confirm} of the last ${confirm + 1} passes agree`),
        );
    }
    // The case two passes in a row would not take: a change across one contrary pass.
    if (confirm > 1) assert.ok(between > 0, `no change across a contrary pass in the generated runs (${confirm} of ${confirm + 1})`);
  }
});
test('hysteresis: from noise-limited, flat but not done, a done state is entered on the thresholds to enter one', () => {
  // Twenty passes held down by the step's noise (a gain of 0.06 > m/2), then twenty where it is gone.
  const gain = (i: number) => (i < 20 ? 0.06 : 0.003);
  const states = (h: ConvergencePoint[]) => judgeEveryPass(h, opts).map((v) => v.state);
  // A linear decoder's mean-field gap of 0.03: under the m/2 = 0.04 that holds a done verdict, over the m/4 that enters one.
  const correlated = states(history(40, { elbo: flat, gain, meanField: () => 0.03, linear: true }));
  assert.equal(correlated[19], 'noise-limited');
  assert.ok(!correlated.includes('converged'), correlated.join(' '));
  assert.equal(correlated[39], 'not-converged');
  // An R_dec that opens to 0.12 once the noise is gone: over the m + 2 s.e. = 0.1 that enters a done state.
  const opened = states(history(40, { elbo: flat, gain, rDec: (i) => (i < 20 ? 0.02 : 0.12) }));
  assert.equal(opened[19], 'noise-limited');
  assert.ok(!opened.includes('converged'), opened.join(' '));
  assert.equal(opened[39], 'not-converged');
  // Both under their thresholds to enter: converged.
  assert.equal(states(history(40, { elbo: flat, gain, meanField: () => 0.015, linear: true, rDec: 0.02 }))[39], 'converged');
});

test('a rise that slows only because a decaying step shrank is still a rise', () => {
  // The ELBO gains the same per unit of step all along (as a model far from its optimum does), under a
  // cosine step from 1e-3 to 1e-5 over 40 epochs: per epoch the rise fades with the step.
  const lrAt = (e: number) => 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + Math.cos((Math.PI * (Math.max(e, 1) - 1)) / 39));
  const rng = new Rng(3);
  let progress = 0;
  const passes: ConvergencePoint[] = Array.from({ length: 41 }, (_, e) => {
    if (e > 0) progress += (60 * (lrAt(e - 1) + lrAt(e))) / 2;
    const elbo = -5 + progress + 0.001 * rng.normal();
    return { elbo, elboStdErr: 0.01, gap: 0, gapStdErr: 0.01, rDec: 0, rPrior: 0, hEnc: -1, hPrior: 4, hDec: 3, epoch: e, learningRate: lrAt(e) };
  });
  const withStep = judgeEveryPass(passes, opts);
  assert.deepEqual([...new Set(withStep.slice(10).map((v) => v.state))], ['improving'], withStep.map((v) => v.state).join(' '));
  assert.match(withStep[40]!.reason, /The learning rate fell to \d+ % over them, so the rise slowed with the step, not because it ended/);
  // Without the recorded step the same history looks like a plateau at the end.
  const plain = judgeEveryPass(
    passes.map(({ learningRate: _lr, ...p }) => p),
    opts,
  );
  assert.equal(plain[40]!.state, 'converged');
});

test('one wording for every surface: labels, tones, the short reason', () => {
  const states: ConvergenceState[] = ['too-early', 'improving', 'not-converged', 'noise-limited', 'converged', 'collapsed', 'stationary'];
  assert.equal(new Set(states.map((s) => verdictLabel(s))).size, states.length);
  assert.equal(verdictLabel('noise-limited'), "stalled on the step's noise");
  assert.equal(verdictTone('converged'), 'good');
  assert.equal(verdictTone('collapsed'), 'warn');
  const reason = 'The ELBO still rises: +0.05 over the last 10 passes (slope +0.005 ± 0.001 per epoch). The gap is closed.';
  assert.equal(shortReason(reason), 'The ELBO still rises: +0.05 over the last 10 passes (slope +0.005 ± 0.001 per epoch).');
  assert.equal(verdictHeadline('improving', reason), 'still improving: the ELBO still rises: +0.05 over the last 10 passes (slope +0.005 ± 0.001 per epoch).');
  assert.equal(verdictHeadline('improving', 'R_dec is large. More.'), 'still improving: R_dec is large.');
  assert.equal(verdictLine('converged', undefined), 'converged');
  assert.equal(verdictLine('converged', 'Why.'), 'converged. Why.');
});

test('plateau test: a robust slope and its standard error', () => {
  const exact = fitTrend([0, 1, 2, 3], [1, 3, 5, 7]);
  assert.equal(exact.slope, 2);
  assert.equal(exact.slopeStdErr, 0);
  assert.ok(Math.abs(fitTrend([0, 1, 2, 3, 4], [0, 1.1, 1.9, 3.2, 3.8]).slope - 0.95) < 1e-9); // the median pairwise slope
  // Gaussian noise of sd 0.1 on 10 points 1 apart: the slope's s.e. is about 0.1 / sqrt(82.5) = 0.011.
  const rng = new Rng(5);
  const xs = Array.from({ length: 10 }, (_, i) => i);
  const noisy = fitTrend(
    xs,
    xs.map((x) => 0.5 * x + 0.1 * rng.normal()),
  );
  assert.ok(Math.abs(noisy.slope - 0.5) < 0.04, String(noisy.slope));
  assert.ok(noisy.slopeStdErr > 0.004 && noisy.slopeStdErr < 0.03, String(noisy.slopeStdErr));
  // One wild point does not tilt it.
  assert.ok(Math.abs(fitTrend([0, 1, 2, 3, 4, 5, 6], [0, 0, 0, 5, 0, 0, 0]).slope) < 1e-12);
  assert.equal(fitTrend([1, 2], [1, 2]).slopeStdErr, Infinity);
});

test('evidence: active units, per-latent entropy, and the mutual information between its bounds', () => {
  const rng = new Rng(3);
  const N = 400;
  const H = 2;
  // z0 encodes x (means spread over [-2, 2], narrow posterior); z1 is the prior for every x.
  const nu = new Float64Array(N * H);
  const logT2 = new Float64Array(N * H);
  for (let n = 0; n < N; n++) {
    nu[n * H] = -2 + (4 * n) / N;
    logT2[n * H] = Math.log(1e-6);
    nu[n * H + 1] = 0;
    logT2[n * H + 1] = 0;
  }
  const eps = Float64Array.from({ length: N * H }, () => rng.normal());
  const ev = latentEvidence(nu, logT2, N, H, eps);
  assert.equal(ev.activeUnits, 1);
  assert.ok(Math.abs(ev.latentMeanVariance[0]! - 4 / 3) < 0.02);
  assert.equal(ev.latentMeanVariance[1], 0);
  assert.ok(Math.abs(ev.hEncPerLatent[1]! - 0.5 * Math.log(2 * Math.PI * Math.E)) < 1e-12);
  // Narrow, well-separated posteriors: each z identifies its x, I = log N up to overlap.
  assert.ok(ev.mutualInformation > Math.log(N) - 1 && ev.mutualInformation <= Math.log(N) + 1e-9, String(ev.mutualInformation));
  // Every posterior the same: no information.
  const same = mutualInformation(new Float64Array(N), new Float64Array(N), N, 1, eps);
  assert.ok(Math.abs(same) < 1e-9, String(same));
});

test('generated steady steps: an averaging gain that hovers around m/2 does not flip the verdict in and out of a done state', () => {
  // A rise that levels off, then a long flat stretch under a steady step whose averaging gain
  // scatters around m/2 = 0.04, as the README's swiss-roll example does. Coming from a rise, a
  // done state is entered only below m/4 (as from noise-limited), and left only above m/2: the
  // band between them belongs to the state the run is in.
  const rng = new Rng(23);
  let runs = 0;
  const worst: string[] = [];
  for (let k = 0; k < 200; k++) {
    const amp = 0.3 + 2 * rng.uniform();
    const rho = 0.5 + 0.4 * rng.uniform();
    const centre = 0.04 * (0.5 + 0.8 * rng.uniform());
    // Per pass the gain scatters by 20-60 % of its level (the example's passes: about 60 %).
    const spread = centre * (0.2 + 0.4 * rng.uniform());
    const h = history(60, { elbo: (i, r) => -5 - amp * rho ** i + 0.01 * r.normal(), gain: (_i, r) => centre + spread * r.normal() }, 500 + k);
    const done = judgeEveryPass(h, opts).map((v) => v.state === 'converged' || v.state === 'collapsed');
    const first = done.indexOf(true);
    if (first < 0) continue;
    runs++;
    let flips = 0;
    for (let i = first + 1; i < done.length; i++) if (done[i] !== done[i - 1]) flips++;
    if (flips > 2) worst.push(`gain ${centre.toFixed(3)} ± ${spread.toFixed(3)}: ${flips} flips`);
  }
  assert.ok(runs >= 20, `${runs} runs called done`);
  assert.deepEqual(worst, [], `${worst.length} of ${runs} runs called done flip more than twice`);
});

test('generated dense passes: a slow rise lost in the noise of 2w passes still shows over the last quarter of the run', () => {
  // A rise that levels off into a drift of 0.0035-0.004 nats an epoch, judged after every epoch,
  // with 0.02 of noise a pass: 2w = 10 passes see 0.035-0.04 of it, under m/2 = 0.04 and under two
  // of its standard errors, while the last quarter of 120 epochs gains 0.105-0.12, over the m that
  // leaves a done state. The same runs without the drift end converged.
  const rng = new Rng(31);
  const drifting: string[] = [];
  let flatCalled = 0;
  let saidSlow = 0;
  const trials = 40;
  for (let k = 0; k < trials; k++) {
    const amp = 0.5 + rng.uniform();
    const rho = 0.8 + 0.1 * rng.uniform();
    const drift = 0.0035 + 0.0005 * rng.uniform();
    const run = (r: number) =>
      judgeEveryPass(
        history(121, { elbo: (i, g) => -5 - amp * rho ** i + r * i + 0.02 * g.normal(), gain: smallGain }, 900 + k).map((p, i) => ({ ...p, epoch: i })),
        opts,
      ).at(-1)!;
    const last = run(drift);
    if (last.state === 'converged' || last.state === 'collapsed') drifting.push(`drift ${drift.toFixed(4)}: ${last.state}`);
    if (/^The ELBO still rises slowly: \+[\d.]+ over the last 3\d passes, the last quarter of the run/.test(last.reason)) saidSlow++;
    if (run(0).state === 'converged') flatCalled++;
  }
  assert.deepEqual(drifting, [], `${drifting.length} of ${trials} drifting runs end done`);
  assert.ok(saidSlow >= trials / 2, `${saidSlow} of ${trials} say the quarter's rise`);
  assert.equal(flatCalled, trials, 'the same runs without the drift end converged');
});

test('generated dense passes under a steady step: noise-limited with a slow rise over the last half advises training longer, not a smaller step', () => {
  // The README's example: a pass every epoch for 60, an averaging gain of 0.03-0.04 (over m/4: the
  // step's noise costs that much) and a drift of 0.0025-0.003 nats an epoch under 0.02 of noise a
  // pass. The verdict's spans (10 passes, the last quarter) are too short to act on the drift, but
  // over the last half it gains 0.075-0.09: a tenth of the step would slow it, so the advice is a
  // decaying step over more epochs. The same runs without the drift keep the smaller step's advice.
  const rng = new Rng(61);
  const wrongAdvice: string[] = [];
  let heldByNoise = 0;
  let flatHeld = 0;
  const flatWrong: string[] = [];
  const trials = 40;
  for (let k = 0; k < trials; k++) {
    const drift = 0.0025 + 0.0005 * rng.uniform();
    const gain = 0.03 + 0.01 * rng.uniform();
    const last = (r: number) =>
      judgeEveryPass(
        history(61, { elbo: (i, g) => -5.5 + r * i + 0.02 * g.normal(), gain: (_i, g) => gain + 0.01 * g.normal() }, 1500 + k).map((p, i) => ({
          ...p,
          epoch: i,
        })),
        { ...opts, epochs: 60 },
      ).at(-1)!;
    const drifting = last(drift);
    if (drifting.state === 'noise-limited') {
      heldByNoise++;
      if (
        !/Over the last half of the run, though, it still rose \+[\d.]+ .* over more than 60 epochs\./.test(drifting.reason) ||
        /learningRate of/.test(drifting.reason)
      )
        wrongAdvice.push(`drift ${drift.toFixed(4)}: ${drifting.reason}`);
    }
    const flatRun = last(0);
    if (flatRun.state === 'noise-limited') {
      flatHeld++;
      if (!/a learningRate of 0\.001 instead of 0\.01/.test(flatRun.reason) || /last half/.test(flatRun.reason)) flatWrong.push(flatRun.reason);
    }
  }
  assert.ok(heldByNoise >= trials / 2, `${heldByNoise} of ${trials} drifting runs end noise-limited`);
  assert.deepEqual(wrongAdvice, [], `${wrongAdvice.length} of ${heldByNoise} advise a smaller step`);
  assert.ok(flatHeld >= trials / 2, `${flatHeld} of ${trials} runs without the drift end noise-limited`);
  assert.deepEqual(flatWrong, [], 'without the drift, the smaller step stays the advice');
});

test('generated pauses: a steady rise that stalls for a few passes is not taken for one levelling off', () => {
  // A rise of 0.025-0.04 nats an epoch, judged after every epoch, stalls for 4-5 epochs (fewer
  // than the w + 1 passes that would show it flat beyond doubt) from epoch 22-27 and then goes on:
  // within the 2w-pass window the slope falls from the rise's to about none, as an exponential
  // approach's would near its end, but such an approach would have risen several times faster
  // before the window than this rise did. Runs that do level off (an exponential approach with the
  // same noise) are still called done.
  const rng = new Rng(47);
  const calledInPause: string[] = [];
  let levelledCalled = 0;
  const trials = 60;
  for (let k = 0; k < trials; k++) {
    const rate = 0.025 + 0.015 * rng.uniform();
    const stallAt = 22 + Math.floor(6 * rng.uniform());
    const stall = 4 + Math.floor(2 * rng.uniform());
    const climbed = (i: number) => rate * (Math.min(i, stallAt) + Math.max(0, i - stallAt - stall));
    const dense = (elbo: Shape['elbo'], seed: number) => history(stallAt + stall + 8, { elbo, gain: smallGain }, seed).map((p, i) => ({ ...p, epoch: i }));
    const states = judgeEveryPass(
      dense((i, g) => -6 + climbed(i) + 0.01 * g.normal(), 1200 + k),
      opts,
    ).map((v) => v.state);
    const done = states.findIndex((s) => s === 'converged' || s === 'collapsed');
    if (done >= 0) calledInPause.push(`rate ${rate.toFixed(4)}, stall ${stall} from ${stallAt}: ${states[done]} at epoch ${done}`);
    const levelling = judgeEveryPass(
      dense((i, g) => -6 + 0.3 * (1 - 0.9 ** i) + 0.01 * g.normal(), 1200 + k),
      opts,
    ).at(-1)!;
    if (levelling.state === 'converged') levelledCalled++;
  }
  assert.deepEqual(calledInPause, [], `${calledInPause.length} of ${trials} paused rises called done`);
  assert.equal(levelledCalled, trials, 'the same noise on a rise that levels off ends converged');
});

test('generated long dense runs: a slow rise is read over the whole last quarter, however many passes it holds', () => {
  // 1600 passes, one an epoch, drifting up 0.00024-0.00034 nats an epoch under 0.02 of noise a
  // pass: called converged early on (the drift shows nowhere yet), the run must then rise by m =
  // 0.08 to leave; its last 200 passes gain 0.048-0.068 of it, its last quarter (400 epochs)
  // 0.096-0.136. The same runs without the drift end converged.
  const rng = new Rng(53);
  const ended: string[] = [];
  let flatCalled = 0;
  const trials = 4;
  for (let k = 0; k < trials; k++) {
    const drift = 0.00024 + 0.0001 * rng.uniform();
    const run = (r: number) =>
      judgeConvergence(
        history(1600, { elbo: (i, g) => -5 + r * i + 0.02 * g.normal(), gain: smallGain }, 1300 + k).map((p, i) => ({ ...p, epoch: i })),
        opts,
      );
    const last = run(drift);
    if (last.state !== 'improving' || !/the last quarter of the run/.test(last.reason)) ended.push(`drift ${drift.toFixed(5)}: ${last.state}`);
    if (run(0).state === 'converged') flatCalled++;
  }
  assert.deepEqual(ended, [], `${ended.length} of ${trials} drifting runs not found rising over their last quarter`);
  assert.equal(flatCalled, trials, 'the same runs without the drift end converged');
});

test('a reason over one pass says "the last pass", never "the last 1 passes"', () => {
  for (let n = 1; n <= 12; n++)
    for (const window of [1, 2, 3, 5]) {
      const reasons = judgeEveryPass(history(n, { elbo: flat, gain: smallGain }), { ...opts, window }).map((v) => v.reason);
      for (const r of reasons) assert.doesNotMatch(r, /\blast 1 passes\b/, r);
      if (n === 1) assert.match(reasons[0]!, /over the last pass\b/);
    }
});
