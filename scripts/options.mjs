// The measuring scripts' command lines: `--name value` options taken out of argv, leaving the operands.

/** The value after `name` in argv, removed with it; `fallback` when the option is not given. */
export function takeOption(argv, name, fallback) {
  const at = argv.indexOf(name);
  if (at < 0) return fallback;
  if (at + 1 >= argv.length || argv[at + 1].startsWith('--')) {
    console.error(`${name} needs a value`);
    process.exit(2);
  }
  return argv.splice(at, 2)[1];
}
