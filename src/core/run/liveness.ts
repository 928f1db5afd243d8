/** Whether a run is still being written: process liveness and the status a viewer should show. Node only. */
import type { RunMeta, RunStatus, RunSummary } from '../runFormat';

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
 * while no process writes the run any more means the run was interrupted.
 */
export function effectiveStatus(
  meta: RunMeta | undefined,
  summary: RunSummary | undefined,
  aliveElsewhere: (pid: number | undefined) => boolean,
): { status: RunStatus; message?: string } {
  const status = summary?.status ?? 'running';
  if (status !== 'running') return { status, message: summary?.message };
  if (aliveElsewhere(meta?.pid)) return { status: 'running', message: summary?.message };
  return { status: 'stopped', message: 'interrupted: the trainer is no longer running' };
}
