/** Where a path setting (vaeLens.runsDirectory, vaeLens.tfjsNodePath) leads. No vscode here. */
import * as path from 'node:path';

export interface SettingPathContext {
  /** The workspace folders, in order. */
  folders: readonly { name: string; path: string }[];
  /** The workspace folder of the file the setting is read for, if any. */
  scope: string | undefined;
  home: string;
  /** The folder of the file the setting is read for: the base when no workspace folder is open. */
  fileDir?: string;
}

/**
 * The folder a path setting names. VS Code leaves `~` and `${workspaceFolder}` in an extension's
 * settings as written, and joined to the workspace folder they would name a folder "~" or
 * "${workspaceFolder}" inside it: a leading `~`, `${userHome}`, `${workspaceFolder}` (also
 * `:name`) and `${workspaceFolderBasename}` are expanded here. What stays relative is relative to
 * the scope's workspace folder (or the first one); with no folder open, to the file's own folder
 * (not the extension host's working folder, which is wherever the editor was started).
 */
export function resolveSettingPath(written: string, ctx: SettingPathContext): string {
  const base = ctx.scope ?? ctx.folders[0]?.path ?? ctx.fileDir;
  const expanded = written
    .replace(/^~(?=$|[/\\])/, () => ctx.home)
    .replace(/\$\{(userHome|workspaceFolder|workspaceFolderBasename)(?::([^}]*))?\}/g, (whole, name: string, folder: string | undefined) => {
      if (name === 'userHome') return ctx.home;
      const dir = folder === undefined ? base : ctx.folders.find((f) => f.name === folder)?.path;
      if (dir === undefined) return whole;
      return name === 'workspaceFolder' ? dir : path.basename(dir);
    });
  if (path.isAbsolute(expanded)) return path.resolve(expanded);
  return base ? path.resolve(base, expanded) : path.resolve(expanded);
}
