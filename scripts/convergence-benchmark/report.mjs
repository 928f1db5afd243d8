/**
 * The convergence benchmark's tables and the sentences around them, written between the
 * convergence-benchmark markers of docs/verification.md. Only figures of the runs scored here.
 */
import { endsShort, expected, expectsDone, GRID, GRID_CONFIRM, inTimeOf, leastPrecise, NOT_DONE, SWEEPS, TOLERANCE, totals, WINDOW } from './scoring.mjs';

/** The setting a sweep's row is the rule's own: the default of `diagnostics.window` and `tolerance`, or the rule's constant. */
const defaultOf = (knob, rule) => ({ window: WINDOW, tolerance: TOLERANCE, decayingStepGainFactor: rule.decayingStepGainFactor })[knob];

// One decimal: a share just under the 95 % target must not print as 95 %.
const pct = (x) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);

export function delayText(d) {
  if (!d) return 'no plateau';
  if (d.passes === undefined) return `never (plateau at ${d.plateauEpoch})`;
  return `${d.epochs} ep (${d.passes} passes; ≤ ${d.allowed.toFixed(0)} allowed)`;
}

function delayCell(d) {
  if (!d) return '–';
  if (d.epochs === undefined) return 'never';
  return `${d.epochs}/${d.allowed.toFixed(0)}${d.epochs > d.allowed ? ' ✗' : ''}`;
}

export function render(results, heldOutRuns, { seconds, runSeconds, trainedSeconds }, rule) {
  const configs = [...new Set(results.map((r) => r.cfg))];
  const rows = configs.map((cfg) => {
    const runs = results.filter((r) => r.cfg === cfg);
    const cell = (k) => {
      const calls = runs.reduce((a, r) => a + r[k].calls, 0);
      const good = runs.reduce((a, r) => a + r[k].good, 0);
      const delays = runs.map((r) => delayCell(r[k].delay)).join(' · ');
      const right = runs.filter((r) => expected(r, r[k].final)).length;
      return `${calls ? `${good}/${calls} = ${pct(good / calls)}` : '0 calls'} | ${Math.max(...runs.map((r) => r[k].flips))} | ${delays} | ${right}/${runs.length}`;
    };
    const below = runs.map((r) => `${(100 * r.lastGap).toFixed(2)}`).join(' · ');
    return `| ${cfg.id} | ${runs.map((r) => r.seed).join(', ')} | ${runs[0].passes} | ${below} % | ${[cfg.expect].flat().join(' / ')} | ${cell('before')} | ${cell('now')} |`;
  });
  const total = (k) => {
    const { calls, good, noisy, flips, right, timed, inTime } = totals(results, (r) => r[k]);
    const flatInTime = results.filter((r) => inTimeOf(r[k].flatDelay)).length;
    const flatText =
      flatInTime === inTime
        ? ''
        : ` (${flatInTime} of ${timed} counting \`noise-limited\` too: the plateau seen, the ELBO flat under the step's noise, "converged" held back while the decay still gives more than \`m/2\`)`;
    return (
      `"converged" calls at the optimum ${calls ? `${good}/${calls} = ${pct(good / calls)}` : 'n/a'} (${calls ? pct(noisy / calls) : 'n/a'} allowing each pass 2 s.e. of Monte-Carlo error), ` +
      `at most ${flips} flip${flips === 1 ? '' : 's'} in a run, the verdict within 10 % of the epochs after the plateau in ${inTime} of the ${timed} runs that reach one${flatText}, final state as expected in ${right} of ${results.length} runs`
    );
  };
  const sweepTable = (knob) => [
    `| ${knob} | "converged" calls at the optimum | allowing 2 s.e. | least precise configuration | most flips in a run | verdict in time | median passes from plateau to verdict | final as expected |`,
    '| --- | --- | ---: | --- | ---: | --- | ---: | --- |',
    ...SWEEPS[knob].map((v) => {
      const t = totals(results, (r) => r.sweep[knob][v]);
      const late = results
        .map((r) => r.sweep[knob][v].delay)
        .filter((d) => d && d.passes !== undefined)
        .map((d) => d.passes)
        .sort((a, b) => a - b);
      const median = late.length ? late[Math.floor((late.length - 1) / 2)] : 'n/a';
      const worst = leastPreciseText(leastPrecise(configs, results, (r) => r.sweep[knob][v]));
      return `| ${v}${v === defaultOf(knob, rule) ? ' (default)' : ''} | ${t.calls ? `${t.good}/${t.calls} = ${pct(t.good / t.calls)}` : '0 calls'} | ${t.calls ? pct(t.noisy / t.calls) : 'n/a'} | ${worst} | ${t.flips} | ${t.inTime} of ${t.timed} | ${median} | ${t.right} of ${results.length} |`;
    }),
  ];
  const seeds = [...new Set(results.map((r) => r.seed))];
  const runsOf = (cfg) => results.filter((r) => r.cfg === cfg).map((r) => r.seed);
  const fewer = configs.filter((c) => runsOf(c).length < seeds.length);
  return [
    `Written by \`node scripts/convergence-benchmark.mjs\` (${configs.length} configurations under training seeds ${seeds.join(', ')}${fewer.length ? ` (${fewer.map((c) => `${c.id}: ${runsOf(c).join(', ')}`).join('; ')})` : ''}: ${results.length} runs${heldOutRuns ? ` (and ${heldOutRuns} held out, below)` : ''}, and one reference run per configuration where the optimum is not exact: ${runSeconds.toFixed(0)} s of training as their summaries recorded it, on this 2-core machine shared with other jobs; ${(seconds - trainedSeconds).toFixed(1)} s of labelling and replay). Old rule: the one before issue 13 (\`src/core/convergenceLegacy.ts\`); new rule: \`src/core/convergence.ts\`, replayed on the same records. Per-seed figures are listed in seed order, separated by ·; a verdict's delay reads "epochs late / allowed", "–" where the run has no plateau, "never" where it has one but no call follows.`,
    '',
    '| run | seeds | passes | last pass below optimum | expected at end | old: "converged" calls at the optimum | old: most flips | old: verdict after the plateau | old: final as expected | new: "converged" calls at the optimum | new: most flips | new: verdict after the plateau | new: final as expected |',
    '| --- | --- | ---: | ---: | --- | --- | ---: | --- | ---: | --- | ---: | --- | ---: |',
    ...rows,
    '',
    `- old rule: ${total('before')}`,
    `- new rule: ${total('now')}`,
    `- ${shortOfOptimum(results)}`,
    `- ${decayGainLine(results, rule.decayingStepGainFactor)}`,
    '',
    `Where the new rule is late, what held it (three-pass means of the ELBO). ${lateSummary(results)}`,
    '',
    ...results.filter((r) => r.late).map((r) => `- ${lateLine(r)}`),
    '',
    `The new rule under other windows w (\`diagnostics.window\`: the trend reads the last 2w passes (and a slow rise over the last quarter of the epochs so far, where that is more), the gap and the averaging gain the last w), replayed on the same ${results.length} runs: a shorter window calls sooner and less surely.`,
    '',
    ...sweepTable('window'),
    '',
    `And under other tolerances (\`diagnostics.tolerance\`: every threshold of the rule is a multiple of m = tolerance x |H_enc| + |H_prior| + |H_dec|), on the same runs. ${sweepFinding(results, 'tolerance', 'tolerance')}`,
    '',
    ...sweepTable('tolerance'),
    '',
    `And under other factors by which the rule expects a falling step to gain more than the averaging gain at its last step (\`DECAYING_STEP_GAIN_FACTOR\` in src/core/convergence.ts, not a setting), on the same runs: a larger factor calls "converged" later on a decaying step. ${sweepFinding(results, 'decayingStepGainFactor', 'factor')} ${crossings(results)}`,
    '',
    ...sweepTable('decayingStepGainFactor'),
    '',
    ...gridSection(configs, results, rule),
    '',
    `Ground truth per configuration (the optimum the passes are measured against), and the new rule's final reason on seed ${seeds[0]}:`,
    '',
    ...configs.map((cfg) => {
      const r = results.find((x) => x.cfg === cfg);
      return `- ${cfg.id} (${cfg.what}): optimum ${r.truth.optimum.toFixed(4)} (${r.truth.source}); 1 % of ${r.magnitude.toFixed(3)} nats. Final reason: “${r.finalReason}”`;
    }),
  ].join('\n');
}

/**
 * The joint search: how many of the GRID's settings meet the three targets together (pooled, and in
 * every configuration), and its frontier: each setting that no other beats on both the runs called
 * in time and the least precise configuration's share.
 */
function gridSection(configs, results, rule) {
  const rows = GRID.map((setting, i) => {
    const of = (r) => r.grid[i];
    const t = totals(results, of);
    return { setting, ...t, worst: leastPrecise(configs, results, of) };
  });
  const pooled = (t) => t.calls > 0 && t.good / t.calls >= 0.95;
  const everyConfig = (t) => pooled(t) && (t.worst === undefined || t.worst.share >= 0.95);
  const allTargets = (t, precise) => precise(t) && t.flips <= 2 && t.inTime === t.timed;
  const share = (t) => t.worst?.share ?? 0;
  const frontier = [...rows]
    .filter((t) => t.calls > 0 && t.flips <= 2)
    .sort((a, b) => b.inTime - a.inTime || share(b) - share(a))
    .filter((t, i, sorted) => sorted.slice(0, i).every((u) => share(u) < share(t)));
  const name = ({ window, tolerance, decayingStepGainFactor, confirmPasses }) =>
    `w ${window}, tolerance ${tolerance}, factor ${decayingStepGainFactor}, ${confirmPasses} of ${confirmPasses + 1}`;
  const isDefault = ({ window, tolerance, decayingStepGainFactor, confirmPasses }) =>
    window === WINDOW && tolerance === TOLERANCE && decayingStepGainFactor === rule.decayingStepGainFactor && confirmPasses === rule.confirmPasses;
  const timed = rows[0].timed;
  const pooledBest = rows.filter((t) => pooled(t) && t.flips <= 2).sort((a, b) => b.inTime - a.inTime || b.good / b.calls - a.good / a.calls)[0];
  return [
    `And every combination of those settings with the passes that must agree before the verdict changes (\`CONFIRM_PASSES\`, ${GRID_CONFIRM.join(', ')} of one more): ${rows.length} settings of the rule, replayed on the same ${results.length} runs. ` +
      `${rows.filter((t) => allTargets(t, pooled)).length} of them meet the three targets with the calls pooled, ${rows.filter((t) => allTargets(t, everyConfig)).length} in every configuration; ` +
      `${rows.filter(everyConfig).length} keep 95 % of the calls at the optimum in every configuration, calling at most ${Math.max(0, ...rows.filter(everyConfig).map((t) => t.inTime))} of the ${timed} runs with a plateau in time; ` +
      (pooledBest
        ? `with the calls pooled, the most runs in time at 95 % and at most 2 flips is ${pooledBest.inTime} of ${timed} (${name(pooledBest.setting)}${isDefault(pooledBest.setting) ? ', the default' : ''}: ${pct(pooledBest.good / pooledBest.calls)}). `
        : 'with the calls pooled, none keeps 95 % at the optimum with at most 2 flips. ') +
      'The settings below are those no other setting beats on both the runs called in time and the least precise configuration (among those with at most 2 flips): to call more runs in time, a setting gives up precision somewhere.',
    '',
    '| setting | "converged" calls at the optimum | least precise configuration | most flips in a run | verdict in time | final as expected |',
    '| --- | --- | --- | ---: | --- | --- |',
    ...frontier.map(
      (t) =>
        `| ${name(t.setting)}${isDefault(t.setting) ? ' (default)' : ''} | ${t.good}/${t.calls} = ${pct(t.good / t.calls)} | ${leastPreciseText(t.worst)} | ${t.flips} | ${t.inTime} of ${t.timed} | ${t.right} of ${results.length} |`,
    ),
  ];
}

/** The new rule on the held-out seeds, per configuration and in total. */
export function renderHeldOut(runs, heldOutSeeds, rule) {
  const configs = [...new Set(runs.map((r) => r.cfg))];
  const line = (list) => {
    const t = totals(list, (r) => r.now);
    const flat = list.filter((r) => inTimeOf(r.now.flatDelay)).length;
    return `${t.calls ? `${t.good}/${t.calls} = ${pct(t.good / t.calls)}` : '0 calls'} | ${t.calls ? pct(t.noisy / t.calls) : 'n/a'} | ${t.flips} | ${t.inTime} of ${t.timed} (${flat} counting \`noise-limited\`) | ${t.right} of ${list.length} |`;
  };
  return [
    `Held out: the configurations expected to end done, under training seeds ${heldOutSeeds.join(', ')}, which no constant of the rule was chosen on (${runs.length} runs; one earlier change of the rule, that \`noise-limited\` enters a done state on the thresholds to enter one, was found on them).`,
    '',
    '| run | "converged" calls at the optimum | allowing 2 s.e. | most flips in a run | verdict in time | final as expected |',
    '| --- | --- | ---: | ---: | --- | --- |',
    ...configs.map((cfg) => `| ${cfg.id} | ${line(runs.filter((r) => r.cfg === cfg))}`),
    `| all | ${line(runs)}`,
    '',
    `- ${shortOfOptimum(runs)}`,
    `- ${decayGainLine(runs, rule.decayingStepGainFactor)}`,
  ].join('\n');
}

const leastPreciseText = (worst) => (worst === undefined ? 'n/a' : `${worst.id} ${pct(worst.share)}`);

/**
 * How long the runs expected to end done stay on the edge of the 1 % band: per configuration, the
 * epochs from the first pass within 1 % to the plateau (the first pass from which all are), and the
 * share of the passes between them outside it. A "converged" call there is at the optimum about as
 * often as the pass's own ELBO happens to fall inside, however the rule decides.
 */
function crossings(results) {
  const byConfig = new Map();
  for (const r of results) {
    if (!expectsDone(r.cfg) || r.endsOutside) continue;
    const first = r.atOptimum.indexOf(true);
    if (first < 0 || r.now.delay === undefined) continue;
    const plateau = r.records.findIndex((p) => p.epoch === r.now.delay.plateauEpoch);
    const between = r.atOptimum.slice(first, plateau);
    const c = byConfig.get(r.cfg.id) ?? { epochs: [], outside: 0, passes: 0 };
    c.epochs.push(r.records[plateau].epoch - r.records[first].epoch);
    c.outside += between.filter((at) => !at).length;
    c.passes += between.length;
    byConfig.set(r.cfg.id, c);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const text = [...byConfig].map(
    ([id, c]) => `${id} ${median(c.epochs)} epochs (${c.passes ? `${c.outside} of ${c.passes} passes between outside` : 'none between'})`,
  );
  return (
    `From the first pass within 1 % to the plateau (the first pass from which all are), the runs expected to end done and ending inside took (median per configuration; in all its runs, the passes in between that fell outside 1 %): ${text.join(', ')}. ` +
    'A call made in that stretch is at the optimum only when its own pass happens to fall inside: there, precision asks the rule to wait for the plateau itself.'
  );
}

/**
 * What a sweep says of the issue's three targets together, from its own figures: precision (pooled,
 * and in the least precise configuration), flips, and runs in time.
 */
function sweepFinding(results, knob, name) {
  const configs = [...new Set(results.map((r) => r.cfg))];
  const rows = SWEEPS[knob].map((v) => ({ v, ...totals(results, (r) => r.sweep[knob][v]), worst: leastPrecise(configs, results, (r) => r.sweep[knob][v]) }));
  const precise = (t) => t.calls > 0 && t.good / t.calls >= 0.95;
  const all = rows.filter((t) => precise(t) && (t.worst === undefined || t.worst.share >= 0.95) && t.flips <= 2 && t.inTime === t.timed);
  if (all.length) return `${capitalised(name)} ${all.map((t) => t.v).join(', ')} meets the three targets at once, in every configuration.`;
  const kept = rows.filter(precise);
  const best = kept.reduce((a, t) => (a === undefined || t.inTime > a.inTime ? t : a), undefined);
  const sooner = rows.filter((t) => !best || t.inTime > best.inTime);
  const text = (t) => `${t.v}: ${t.inTime} of ${t.timed} in time, ${t.calls ? pct(t.good / t.calls) : 'no calls'}`;
  const perConfig = rows.filter((t) => t.worst !== undefined && t.worst.share >= 0.95);
  const perConfigText = perConfig.length
    ? ` Every configuration keeps 95 % of its calls at the optimum only under ${name} ${perConfig.map((t) => `${t.v} (${t.inTime} of ${t.timed} in time)`).join(', ')}.`
    : ` Under none does every configuration keep 95 % of its calls at the optimum (the column "least precise configuration").`;
  if (!best)
    return `No ${name} meets the three targets at once, and none keeps 95 % of its calls at the optimum (${rows.map(text).join('; ')}).${perConfigText}`;
  return (
    `No ${name} meets the three targets at once: the one with most runs in time among those that keep 95 % of their calls at the optimum is ${text(best)}` +
    (sooner.length ? `; every ${name} that calls more runs in time makes fewer of its calls at the optimum (${sooner.map(text).join('; ')})` : '') +
    `.${perConfigText}`
  );
}

const capitalised = (text) => text[0].toUpperCase() + text.slice(1);

function lateSummary(results) {
  const late = results.filter((r) => r.late);
  const rising = late.filter((r) => r.late.toEnd >= r.late.m / 2);
  const short = late.filter((r) => r.late.allowedPasses < 2);
  return (
    `Of the ${late.length} late runs, ${rising.length} still gained m/2 or more after their plateau (the least rise the rule counts), so that by its own unit their rise had not ended there; ` +
    `${short.length} allowed less than two pass intervals, where a call must wait for a second pass to agree.`
  );
}

function lateLine(r) {
  const l = r.late;
  const d = r.now.delay;
  const nats = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(3)} nats (${((100 * x) / l.magnitude).toFixed(2)} %)`;
  return (
    `${r.cfg.id} seed ${r.seed}: plateau at epoch ${d.plateauEpoch}, ${d.allowed.toFixed(0)} epochs allowed (${l.allowedPasses.toFixed(1)} pass intervals), ` +
    `${d.epochs === undefined ? 'never called' : `called ${d.epochs} epochs after it`}; in between the rule said ${l.held.map(([s, k]) => `${s} ${k}×`).join(', ')}. ` +
    `From the plateau the ELBO gained ${l.toCall === undefined ? '' : `${nats(l.toCall)} to the call and `}${nats(l.toEnd)} to the run's end, where m/2 = ${(l.m / 2).toFixed(3)} nats`
  );
}

function decayGainLine(results, factor) {
  const byConfig = new Map();
  for (const r of results) if (r.decayGainRatios.length) byConfig.set(r.cfg.id, [...(byConfig.get(r.cfg.id) ?? []), ...r.decayGainRatios]);
  const all = [...byConfig.values()].flat();
  if (all.length === 0) return 'no pass of a run expected to end done weighs an averaging gain on a falling step';
  const q = (xs, f) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1))].toFixed(2);
  return (
    `On a falling step the ELBO went on to gain ${q(all, 0.5)} times the averaging gain (median; quartiles ${q(all, 0.25)}-${q(all, 0.75)}) over the ${all.length} passes of runs expected to end done where the rule weighs that gain ` +
    `(${[...byConfig].map(([id, xs]) => `${id} ${q(xs, 0.5)} over ${xs.length}`).join(', ')}); the rule takes ${factor} (DECAYING_STEP_GAIN_FACTOR in src/core/convergence.ts)`
  );
}

/**
 * The runs that end short of the optimum their configuration was meant to reach: there a done state
 * would be a wrong call, so a not-done state is expected instead.
 */
function shortOfOptimum(results) {
  const runs = results.filter(endsShort);
  const wrong = (r) => r.now.calls - r.now.good;
  const sum = (list, f) => list.reduce((a, r) => a + f(r), 0);
  if (runs.length === 0) return 'every run meant to end done ends within 1 % of its optimum';
  return (
    `${runs.length} runs meant to end done end outside 1 % of their optimum (the mean of their last three passes): ${runs.map((r) => `${r.cfg.id} seed ${r.seed} (${(100 * r.endGap).toFixed(2)} %)`).join(', ')}. ` +
    `Their final state is expected to be a not-done one (${NOT_DONE.join(', ')}); the new rule makes ${sum(runs, wrong)} of its ${sum(results, wrong)} calls outside 1 % on them`
  );
}
