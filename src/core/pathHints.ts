/** Paths written in a spec that are not found because of how they are written, not where they point. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Why `written`, a path relative to `baseDir`, may not have been found: a leading "~" (only a shell
 * expands it), backslashes or a drive letter (Windows only). A sentence to append, or ''.
 */
export function pathSpellingHint(written: string, baseDir: string, platform: NodeJS.Platform = process.platform): string {
  if (written.startsWith('~')) {
    const own = written === '~' || /^~[/\\]/.test(written);
    const full = own ? path.join(os.homedir(), written.slice(2).replace(/\\/g, '/')) : undefined;
    return (
      `; it starts with "~", which only a shell expands to a home folder, so here it names a folder called "~": ` +
      `write the path relative to the spec's folder${full ? `, or in full (${JSON.stringify(full)})` : ''}`
    );
  }
  if (platform === 'win32') return '';
  if (/^[A-Za-z]:[\\/]/.test(written))
    return `; it is a Windows path (drive ${written.slice(0, 2)}): write it relative to the spec's folder, with forward slashes`;
  if (written.includes('\\')) {
    const forward = written.replace(/\\+/g, '/');
    const found = fs.existsSync(path.resolve(baseDir, forward)) ? ', which exists' : '';
    return `; it contains "\\", which separates folders on Windows only: write it with forward slashes (${JSON.stringify(forward)}${found}), relative to the spec's folder`;
  }
  return '';
}

/**
 * output.runsDir is made, not looked for, so a "~" or backslashes in it would not fail: they would
 * name a folder "~" (or "a\\b") beside the spec. Said as a warning; undefined when it is fine.
 */
export function runsDirSpellingWarning(written: string | undefined, platform: NodeJS.Platform = process.platform): string | undefined {
  if (written === undefined) return undefined;
  if (written.startsWith('~'))
    return `the path starts with "~", which only a shell expands to a home folder: the runs go to a folder named "~" beside the spec; write the path relative to the spec's folder, or in full`;
  if (platform !== 'win32' && written.includes('\\'))
    return `the path contains "\\", which separates folders on Windows only: here it is part of a folder's name; write it with forward slashes (${JSON.stringify(written.replace(/\\+/g, '/'))})`;
  return undefined;
}
