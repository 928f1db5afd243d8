/**
 * The command line's grammar: options are refused or taken exactly as written, never half read
 * (a single-dash option taken for a file name, a value cut at its second "=", a value given to a switch).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intFlag, parseArgs } from '../../src/cli/args';
import { isUserError, quoted } from '../../src/core/errors';
import { parseSpec } from '../../src/core/spec';

function refused(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (e) {
    assert.ok(isUserError(e), `${argv.join(' ')}: not a user error: ${String(e)}`);
    return e.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

const COMMANDS = ['train', 'eval', 'report'] as const;

test('a single-dash option is refused as an option, naming it, not looked for as a file', () => {
  for (const command of COMMANDS)
    for (const bad of ['-e', '-epochs', '-o', '-json', '-x', '-5']) {
      const message = refused([command, 'x', bad, '3']);
      assert.match(message, new RegExp(`"${command}" has no option ${bad}\\b`), `${command} ${bad}: ${message}`);
      assert.match(message, /two dashes/);
    }
});

test('after "--" every word is a file name, even one that starts with a dash', () => {
  for (const command of COMMANDS)
    for (const name of ['-h', '--help', '-run', '--out', '--']) {
      const args = parseArgs([command, '--', name]);
      assert.deepEqual(args.positional, [name], `${command} -- ${name}`);
      assert.equal(args.flags.size, 0);
    }
  assert.deepEqual(parseArgs(['train', '--json', '--', 'a']).positional, ['a']);
  assert.equal(parseArgs(['train', '--json', '--', 'a']).flags.get('json'), true);
});

test('an option value keeps every "=" after the first', () => {
  for (const value of ['runs/lr=0.01', 'a=b=c', '=x', 'x=']) {
    assert.equal(parseArgs(['train', 's', `--out=${value}`]).flags.get('out'), value);
    assert.equal(parseArgs(['train', 's', '--out', value]).flags.get('out'), value);
  }
});

test('a switch given a value is refused, not silently switched on', () => {
  for (const [command, name] of [
    ['train', 'json'],
    ['eval', 'json'],
    ['report', 'png'],
    ['train', 'help'],
  ] as const)
    for (const value of ['no', 'false', '0', '']) {
      const message = refused([command, 'x', `--${name}=${value}`]);
      assert.match(message, new RegExp(`--${name} takes no value`), message);
    }
});

test('--out with --resume is refused: a resumed run continues in its own folder, not where --out points', () => {
  for (const argv of [
    ['train', 's', '--resume', 'runs/a', '--out', 'elsewhere'],
    ['train', 's', '--out=elsewhere', '--resume=runs/a'],
  ])
    assert.match(refused(argv), /--out cannot go with --resume: a resumed run continues in its own folder \(runs\/a\)/);
  assert.equal(parseArgs(['train', 's', '--resume', 'runs/a']).flags.get('resume'), 'runs/a');
  assert.equal(parseArgs(['report', 'r', '--out', 'x.html']).flags.get('out'), 'x.html');
});

/** Each command's options that take a value. */
const VALUE_OPTIONS: [string, string[]][] = [
  ['train', ['epochs', 'out', 'backend', 'threads', 'resume']],
  ['eval', ['samples', 'points', 'backend']],
  ['report', ['out']],
];

test('an option given twice is refused, naming both values, not settled by the last one', () => {
  for (const [command, names] of VALUE_OPTIONS)
    for (const name of names)
      for (const [a, b] of [
        ['3', '5'],
        ['x', 'x'],
        ['a b', 'y'],
      ])
        for (const spell of [
          [`--${name}`, a, `--${name}`, b],
          [`--${name}=${a}`, `--${name}`, b],
          [`--${name}`, a, `--${name}=${b}`],
        ]) {
          const message = refused([command, 'x', ...spell]);
          assert.match(message, new RegExp(`--${name} is given twice \\("${a}" and "${b}"\\)`), `${spell.join(' ')}: ${message}`);
        }
  // A switch given twice asks for the same thing twice: no conflict to settle.
  assert.equal(parseArgs(['train', 's', '--json', '--json']).flags.get('json'), true);
});

test('an integer option takes plain decimal digits only, not hexadecimal, octal, binary, signs, spaces or fractions', () => {
  const flags = [
    ['train', 'epochs'],
    ['train', 'threads'],
    ['eval', 'samples'],
    ['eval', 'points'],
  ] as const;
  const bad = ['0x10', '0X1F', '0o17', '0b11', '+3', ' 3', '3 ', '3.5', '3.', '.5', '1_000', 'Infinity', '-0', '1e-1', '0x', '٣'];
  for (const [command, name] of flags) {
    for (const v of bad) {
      const args = parseArgs([command, 'x', `--${name}=${v}`]);
      assert.throws(
        () => intFlag(args, name),
        (e: unknown) =>
          isUserError(e) && new RegExp(`^--${name} must be a whole number of at least \\d+ in decimal digits`).test(e.message) && e.message.includes(`"${v}"`),
        `--${name}=${v}`,
      );
    }
    for (const [v, n] of [
      ['3', 3],
      ['007', 7],
      ['1e1', 10],
      ['2E1', 20],
    ] as const)
      assert.equal(intFlag(parseArgs([command, 'x', `--${name}`, v]), name), n, `--${name} ${v}`);
  }
  // Past what a double holds is past every bound, not "not a whole number".
  for (const v of ['1e400', '9'.repeat(400)])
    assert.throws(
      () => intFlag(parseArgs(['train', 'x', '--epochs', v]), 'epochs'),
      (e: unknown) => isUserError(e) && e.message.startsWith(`--epochs ${v} is more than 100000`),
      v,
    );
});

test('an option given an empty value is refused, not read as the option left out', () => {
  for (const [command, names] of VALUE_OPTIONS)
    for (const name of names)
      for (const spell of [[`--${name}=`], [`--${name}`, '']]) {
        const message = refused([command, 'x', ...spell]);
        assert.match(message, new RegExp(`^--${name} needs a value, not an empty one`), `${spell.join(' ')}: ${message}`);
      }
});

test('an integer option reads every decimal spelling of a whole number the spec reads (1.5e3, 3.0), and no other (generated)', () => {
  const flags = [
    ['train', 'epochs', 'training', 'epochs'],
    ['train', 'threads', 'training', 'threads'],
    ['eval', 'samples', 'diagnostics', 'mcSamples'],
  ] as const;
  const spellings = ['1.5e3', '1.5E3', '1.5e+3', '2.50e1', '3.0', '3.00', '1E+2', '15000e-4', '25e-1', '3.5', '1.25e1', '1e-1'];
  for (const [command, name, section, field] of flags)
    for (const v of spellings) {
      const value = JSON.parse(v) as number;
      const spec = `{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2 }, "${section}": { "${field}": ${v} } }`;
      let specReads = true;
      try {
        parseSpec(spec, 'm.vae.json');
      } catch (e) {
        assert.ok(isUserError(e), String(e));
        specReads = false;
      }
      const args = parseArgs([command, 'x', `--${name}`, v]);
      if (specReads) assert.equal(intFlag(args, name), value, `--${name} ${v}: the spec reads ${section}.${field}: ${v}`);
      else
        assert.throws(
          () => intFlag(args, name),
          (e: unknown) =>
            isUserError(e) &&
            (Number.isInteger(value)
              ? e.message.startsWith(`--${name} ${v} is more than`)
              : e.message.startsWith(`--${name} must be a whole number`) && /1\.5e3/.test(e.message)),
          `--${name} ${v}: the spec refuses ${section}.${field}: ${v}`,
        );
    }
});

test('an argument holding a NUL character is refused naming it (and its option), never passed on to the file system (generated)', () => {
  for (const nul of ['run\u0000', '\u0000', 'a\u0000b/run'])
    for (const [command, words, names] of [
      ['eval', (p: string) => [p], /argument 2 /],
      ['report', (p: string) => ['ok', p], /argument 3 /],
      ['train', (p: string) => [p], /argument 2 /],
      ['train', (p: string) => ['s.vae.json', '--resume', p], /--resume /],
      ['train', (p: string) => ['s.vae.json', `--out=${p}`], /--out /],
      ['report', (p: string) => ['r', '--out', p], /--out /],
      ['eval', (p: string) => ['r', '--samples', p], /--samples /],
      ['eval', (p: string) => ['r', `--ba${p}`], /argument 3 /],
    ] as const) {
      const argv = [command, ...words(nul)];
      const message = refused(argv);
      assert.match(message, names, JSON.stringify(argv));
      assert.match(message, /NUL/, JSON.stringify(argv));
      assert.ok(message.includes(quoted(argv.find((a) => a.includes('\u0000'))!.replace(/^--\w+=/, ''))), `${JSON.stringify(argv)}: ${message}`);
      assert.ok(!message.includes('\u0000'), JSON.stringify(argv));
    }
});

/** Every option of `command`, as FLAGS in src/cli/args.ts lists them (help aside). */
const OPTIONS: Record<(typeof COMMANDS)[number], string[]> = {
  train: ['epochs', 'out', 'backend', 'threads', 'json', 'resume'],
  eval: ['samples', 'points', 'backend', 'json'],
  report: ['out', 'png'],
};

/** The misspellings of a first day: a letter missing, one too many, two swapped, another case, one dash. */
function misspellings(name: string): string[] {
  const out = [`--${name.slice(0, -1)}`, `--${name}s`, `--${name.toUpperCase()}`, `-${name}`];
  if (name.length > 3) out.push(`--${name.slice(0, 1)}${name.slice(2, 3)}${name.slice(1, 2)}${name.slice(3)}`);
  return out.filter((w) => w !== `--${name}` && !Object.values(OPTIONS).flat().includes(w.replace(/^-+/, '')));
}

test('a misspelt option is refused with the option meant', () => {
  for (const command of COMMANDS)
    for (const name of OPTIONS[command])
      for (const bad of misspellings(name)) {
        const message = refused([command, 'x', bad, '3']);
        assert.match(message, new RegExp(`did you mean --${name}\\?`), `${command} ${bad}: ${message}`);
      }
});

test("another command's option says which command takes it", () => {
  for (const command of COMMANDS)
    for (const other of COMMANDS)
      for (const name of OPTIONS[other].filter((n) => !OPTIONS[command].includes(n))) {
        const message = refused([command, 'x', `--${name}`, '3']);
        const takers = COMMANDS.filter((c) => OPTIONS[c].includes(name));
        assert.match(message, new RegExp(`--${name} is an option of ${takers.join(' and ')}`), `${command} --${name}: ${message}`);
      }
});

test('a misspelt command is refused with the command meant', () => {
  for (const [bad, meant] of [
    ['trian', 'train'],
    ['Train', 'train'],
    ['evaluate', 'eval'],
    ['evl', 'eval'],
    ['reports', 'report'],
    ['reprot', 'report'],
  ])
    assert.match(refused([bad, 'x']), new RegExp(`unknown command "${bad}" \\(did you mean "${meant}"\\?\\)`), bad);
});
