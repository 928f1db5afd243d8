/**
 * The command line's grammar: a command, then options (two dashes; "--name value" or
 * "--name=value"; -h for help) and file names in any order; "--" ends the options.
 */
import { didYouMean, quoted, shownPath, UserError } from '../core/errors';
import { integerFieldBounds } from '../core/specSchema';

export const USAGE = `usage:
  vae-lens train SPEC [--epochs N] [--out DIR] [--backend auto|tensorflow|wasm|cpu] [--threads N] [--json] [--resume RUN_DIR]
  vae-lens eval RUN_DIR [--samples S] [--points N] [--backend B] [--json]
  vae-lens report RUN_DIR... [--out FILE.html] [--png]`;

export interface Args {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

const FLAGS: Record<string, { value: boolean; commands: string[] }> = {
  epochs: { value: true, commands: ['train'] },
  out: { value: true, commands: ['train', 'report'] },
  backend: { value: true, commands: ['train', 'eval'] },
  threads: { value: true, commands: ['train'] },
  json: { value: false, commands: ['train', 'eval'] },
  resume: { value: true, commands: ['train'] },
  samples: { value: true, commands: ['eval'] },
  points: { value: true, commands: ['eval'] },
  png: { value: false, commands: ['report'] },
  help: { value: false, commands: ['train', 'eval', 'report'] },
};

const COMMANDS = ['train', 'eval', 'report'];

/** What an option the command does not have was likely meant as: another command's, or a misspelling of its own. */
function meantOption(command: string, name: string): string {
  const def = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
  if (def?.commands.includes(command)) return ` (did you mean --${name}?)`;
  if (def) return ` (--${name} is an option of ${def.commands.join(' and ')})`;
  const own = Object.keys(FLAGS).filter((n) => FLAGS[n]!.commands.includes(command));
  const meant = didYouMean(name, own);
  return meant ? ` (did you mean --${meant}?)` : '';
}

export function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (!command) throw new UserError(USAGE);
  if (!COMMANDS.includes(command)) {
    const meant = COMMANDS.find((c) => command.toLowerCase().startsWith(c)) ?? didYouMean(command, COMMANDS);
    throw new UserError(`unknown command "${command}"${meant ? ` (did you mean "${meant}"?)` : ''}\n${USAGE}`);
  }
  refuseNul(argv);
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  let options = true;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    // "--" ends the options: a file whose name starts with a dash goes after it.
    if (options && a === '--') {
      options = false;
      continue;
    }
    if (!options || a === '-' || !a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    if (a === '-h') {
      flags.set('help', true);
      continue;
    }
    if (!a.startsWith('--'))
      throw new UserError(
        `"${command}" has no option ${a}${meantOption(command, a.slice(1).split('=')[0]!)}; options are spelled with two dashes (--epochs 3), and a file whose name starts with a dash goes after --\n${USAGE}`,
      );
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    const def = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
    if (!def || !def.commands.includes(command)) throw new UserError(`"${command}" has no option --${name}${meantOption(command, name)}\n${USAGE}`);
    if (!def.value) {
      if (inline !== undefined) throw new UserError(`--${name} takes no value, not "${inline}": give --${name} alone, or leave it out`);
      flags.set(name, true);
    } else {
      const v = inline ?? rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UserError(`--${name} needs a value\n${USAGE}`);
      // An empty value (--out= , a shell variable that is not set) would read as the option left out.
      if (v === '') throw new UserError(`--${name} needs a value, not an empty one\n${USAGE}`);
      // Which of two values was meant cannot be known: the last one winning would hide a mistake.
      const earlier = flags.get(name);
      if (earlier !== undefined) throw new UserError(`--${name} is given twice ("${String(earlier)}" and "${v}"); give it once`);
      flags.set(name, v);
    }
  }
  const resume = flags.get('resume');
  // The run folder of a resume is the one resumed: an --out beside it would be silently ignored.
  if (flags.has('out') && typeof resume === 'string')
    throw new UserError(`--out cannot go with --resume: a resumed run continues in its own folder (${shownPath(resume)}); leave --out out`);
  return { command, positional, flags };
}

/**
 * No file name or value holds a NUL: a shell cannot pass one, but a program that builds the
 * argument list can, and the file system would answer with an error naming no argument.
 */
function refuseNul(argv: readonly string[]): void {
  const at = argv.findIndex((a) => a.includes('\u0000'));
  if (at < 0) return;
  const a = argv[at]!;
  const inline = /^--([a-z]+)=/.exec(a);
  const before = at > 0 ? /^--([a-z]+)$/.exec(argv[at - 1]!) : null;
  const option = inline?.[1] ?? (before && FLAGS[before[1]!]?.value ? before[1] : undefined);
  const what = option ? `--${option} ${quoted(inline ? a.slice(inline[0].length) : a)}` : `argument ${at + 1} (${quoted(a)})`;
  throw new UserError(`${what} holds a NUL character (\\u0000), which no file name or value can hold: check the program that built the command line`);
}

/** The spec fields the numeric flags stand in for: a flag is held to the same bounds. */
const FLAG_BOUNDS = {
  epochs: { ...integerFieldBounds('training', 'epochs'), field: 'training.epochs' },
  threads: { ...integerFieldBounds('training', 'threads'), field: 'training.threads' },
  samples: { ...integerFieldBounds('diagnostics', 'mcSamples'), field: 'diagnostics.mcSamples' },
  points: { minimum: 1, maximum: Number.MAX_SAFE_INTEGER, field: undefined },
} as const;

/** Decimal digits with a fraction and an exponent at most: a count is any of these whose value is whole, as in a spec (1500, 1.5e3, 1500.0). */
const DECIMAL = /^[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** The value of an integer option, held to its bounds; undefined when it is not given. */
export function intFlag(args: Args, name: keyof typeof FLAG_BOUNDS): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  // Number() would also read "0x10", " 3", "+3" and "3.": only a decimal number as JSON writes one (leading zeros allowed) is a count.
  const n = typeof v === 'string' && DECIMAL.test(v) ? Number(v) : NaN;
  const { minimum, maximum, field } = FLAG_BOUNDS[name];
  if (!(Number.isInteger(n) || n === Infinity) || n < minimum)
    throw new UserError(`--${name} must be a whole number of at least ${minimum} in decimal digits (like 3, 1500 or 1.5e3), not "${String(v)}"`);
  if (n > maximum) throw new UserError(`--${name} ${v} is more than ${maximum}, the most ${field ? `a spec's ${field} may ask for` : 'allowed'}`);
  return n;
}
