/** Paths written in a spec that are not found because of how they are written, not where they point. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quoted, shownPath } from './errors';

/**
 * Why `written`, a path relative to `baseDir`, may not have been found: a leading "~" (only a shell
 * expands it), a file URI, backslashes or a drive letter (Windows only). A sentence to append, or ''.
 */
export function pathSpellingHint(written: string, baseDir: string, platform: NodeJS.Platform = process.platform): string {
  if (written.startsWith('~')) {
    const own = written === '~' || /^~[/\\]/.test(written);
    const full = own ? path.join(os.homedir(), written.slice(2).replace(/\\/g, '/')) : undefined;
    return (
      `; it starts with "~", which only a shell expands to a home folder, so here it names a folder called "~": ` +
      `write the path relative to the spec's folder${full ? `, or in full (${quoted(full)})` : ''}`
    );
  }
  if (/^file:\/\//i.test(written)) {
    const meant = filePathOfUri(written);
    const found = meant !== undefined && fs.existsSync(meant) ? ', which exists' : '';
    return `; it is a file URI, not a path: write the path itself${meant !== undefined ? ` (${quoted(meant)}${found})` : ''}`;
  }
  const trimmed = written.trim();
  if (trimmed !== written) {
    const found = trimmed !== '' && fs.existsSync(path.resolve(baseDir, trimmed)) ? ', which exists' : '';
    return `; it has white space before or after it, which is part of a file's name: remove it (${quoted(trimmed)}${found})`;
  }
  if (platform === 'win32') return '';
  const otherCase = sameNameInOtherCase(path.resolve(baseDir, written));
  if (otherCase !== undefined)
    return `; names are case-sensitive here: the folder holds ${quoted(otherCase)}, which differs only in the case of its letters (a name from a Windows or macOS disk?)`;
  if (/^[A-Za-z]:[\\/]/.test(written))
    return `; it is a Windows path (drive ${written.slice(0, 2)}): write it relative to the spec's folder, with forward slashes`;
  if (written.includes('\\')) {
    const forward = written.replace(/\\+/g, '/');
    const found = fs.existsSync(path.resolve(baseDir, forward)) ? ', which exists' : '';
    return `; it contains "\\", which separates folders on Windows only: write it with forward slashes (${quoted(forward)}${found}), relative to the spec's folder`;
  }
  return '';
}

/** How many folders above the spec a relative path is looked for (a workspace or repository root is seldom farther). */
const FOLDERS_ABOVE = 8;

/**
 * Where `written`, a relative path not found from `baseDir` (the spec's folder), names a file when read
 * from a folder above it or from `cwd`, as a path written from the project's root or from where a
 * command runs: a sentence with the path to write instead, or ''.
 */
export function pathFromElsewhereHint(written: string, baseDir: string, cwd: string = process.cwd()): string {
  if (written.trim() === '' || path.isAbsolute(written)) return '';
  const above: string[] = [];
  for (let dir = path.dirname(path.resolve(baseDir)); above.length < FOLDERS_ABOVE && !above.includes(dir); dir = path.dirname(dir)) above.push(dir);
  for (const base of [path.resolve(cwd), ...above]) {
    const found = path.resolve(base, written);
    if (base === path.resolve(baseDir) || !isFile(found)) continue;
    const meant = path.relative(baseDir, found).split(path.sep).join('/');
    const from = base === path.resolve(cwd) ? `${shownPath(base)} (the current folder)` : shownPath(base);
    return `; it names a file when read from ${from}: write ${quoted(meant)}, the path from the spec's folder`;
  }
  return '';
}

/** A stat that cannot throw: a folder on the way that is a file (ENOTDIR) or unreadable is no file either. */
function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The name of a file beside `file` that differs from its name only in case, if there is one. */
function sameNameInOtherCase(file: string): string | undefined {
  const name = path.basename(file).toLowerCase();
  try {
    return fs.readdirSync(path.dirname(file)).find((entry) => entry.toLowerCase() === name);
  } catch {
    return undefined;
  }
}

/** The path a file URI names (%20 decoded), or undefined when it is no valid one. */
function filePathOfUri(uri: string): string | undefined {
  try {
    return fileURLToPath(new URL(uri));
  } catch {
    return undefined;
  }
}

/**
 * output.runsDir is made, not looked for, so a "~" or backslashes in it would not fail: they would
 * name a folder "~" (or "a\\b") beside the spec. Said as a warning; undefined when it is fine.
 */
export function runsDirSpellingWarning(written: string | undefined, platform: NodeJS.Platform = process.platform): string | undefined {
  if (written === undefined) return undefined;
  if (/^file:\/\//i.test(written)) {
    const meant = filePathOfUri(written);
    return `the path is a file URI: the runs go to a folder named "file:" beside the spec; write the path itself${meant !== undefined ? ` (${quoted(meant)})` : ''}`;
  }
  if (written.startsWith('~'))
    return `the path starts with "~", which only a shell expands to a home folder: the runs go to a folder named "~" beside the spec; write the path relative to the spec's folder, or in full`;
  if (platform !== 'win32' && written.includes('\\'))
    return `the path contains "\\", which separates folders on Windows only: here it is part of a folder's name; write it with forward slashes (${quoted(written.replace(/\\+/g, '/'))})`;
  return undefined;
}
