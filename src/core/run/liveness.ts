/** Whether a run is still being written: process liveness and the status a viewer should show. Node only. */
import * as os from 'node:os';
import type { RunMeta, RunStatus, RunSummary } from '../runFormat';

/** The machine a writer records in run.json's `host` and in run.lock: a pid means something only there. */
export function thisHost(): string {
  return os.hostname();
}

/** Whether a process id was recorded on another machine (a run on a shared file system), where we cannot look it up. */
export function isOtherHost(host: string | undefined): host is string {
  return host !== undefined && host !== thisHost();
}

/** Is a process with this id alive (ours or anyone's)? */
export function isProcessAlive(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A run's status as a viewer should show it. A summary that still says "running"
 * while no process writes the run any more means the run was interrupted. A run written on
 * another machine (a cluster's shared file system) is taken at its word: its process cannot be
 * seen from here, and a pid of this machine's would say nothing about it.
 */
export function effectiveStatus(
  meta: RunMeta | undefined,
  summary: RunSummary | undefined,
  aliveElsewhere: (pid: number | undefined) => boolean,
): { status: RunStatus; message?: string } {
  const status = summary?.status ?? 'running';
  if (status !== 'running') return { status, message: summary?.message };
  if (isOtherHost(meta?.host)) return { status: 'running', message: summary?.message ?? `being written on ${meta.host}, as far as its summary says` };
  if (aliveElsewhere(meta?.pid)) return { status: 'running', message: summary?.message };
  return { status: 'stopped', message: 'interrupted: the trainer is no longer running' };
}
