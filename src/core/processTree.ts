/**
 * Ending a process together with the processes it started (data-loader workers, the ranks under
 * torchrun, npm under the shell that runs npm.cmd), which would otherwise outlive it and keep its
 * output pipes open.
 *
 * POSIX: a process spawned `detached` leads its own process group, and SIGKILL to the negative pid
 * reaches every member, also those left behind after the leader ended. Windows has no signal a
 * process can catch and no group a child joins: `taskkill /T /F` ends the tree of parent ids below
 * the pid, and is the only way to end it there.
 */
import { spawn, spawnSync } from 'node:child_process';

export interface TreeKill {
  /** The process leads its own group (spawned `detached` on POSIX): kill the whole group. */
  group: boolean;
  /** Wait for taskkill to finish (Windows): for an exit handler, where nothing asynchronous runs any more. */
  wait?: boolean;
}

export function killProcessTree(pid: number, how: TreeKill, platform: NodeJS.Platform = process.platform): void {
  if (platform === 'win32') {
    const args = ['/pid', String(pid), '/T', '/F'];
    if (how.wait) spawnSync('taskkill', args, { stdio: 'ignore', timeout: 5000, windowsHide: true });
    else spawn('taskkill', args, { stdio: 'ignore', windowsHide: true }).on('error', () => signalQuietly(pid, 'SIGKILL'));
    return;
  }
  signalQuietly(how.group ? -pid : pid, 'SIGKILL');
}

/** process.kill without the throw for a process already gone; whether the signal was sent. */
export function signalQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
