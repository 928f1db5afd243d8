/**
 * The command line's grammar: options are refused or taken exactly as written, never half read
 * (a single-dash option taken for a file name, a value cut at its second "=", a value given to a switch).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intFlag, parseArgs } from '../../src/cli/args';
import { isUserError } from '../../src/core/errors';

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
