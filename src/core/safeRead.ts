/**
 * Reading files a run folder (or anyone) may have planted: only regular files, opened without
 * blocking (a FIFO named metrics.jsonl would otherwise wait forever for a writer) and checked on
 * the open descriptor, and never more than a stated number of bytes.
 */
import * as fs from 'node:fs';
import { formatBytes } from './allocation';
import { decodeText } from './text';

export type SafeRead = { ok: true; text: string } | { ok: false; reason: 'missing' | 'not-a-file' | 'too-large' | 'unreadable'; detail: string };

const NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

/** What a file is when it is not a regular one, for messages. */
function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isDirectory()) return 'a folder';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function openFailure(e: unknown): SafeRead {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? { ok: false, reason: 'missing', detail: 'it does not exist' }
    : { ok: false, reason: 'unreadable', detail: code ?? (e as Error).message };
}

/** Why an opened file is not read: not a regular file, or over the limit. */
function statRefusal(st: fs.Stats, maxBytes: number): SafeRead | undefined {
  if (!st.isFile()) return { ok: false, reason: 'not-a-file', detail: `it is ${kindOf(st)}, not a regular file` };
  if (st.size > maxBytes) return { ok: false, reason: 'too-large', detail: `it is ${formatBytes(st.size)}, more than the ${formatBytes(maxBytes)} read limit` };
  return undefined;
}

/** Read a regular file as UTF-8 (or UTF-16 with its byte-order mark), at most `maxBytes`; never blocks on a pipe or device. */
export function readRegularFileSync(file: string, maxBytes: number): SafeRead {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | NONBLOCK);
  } catch (e) {
    return openFailure(e);
  }
  try {
    const st = fs.fstatSync(fd);
    const refused = statRefusal(st, maxBytes);
    if (refused) return refused;
    const buf = Buffer.alloc(st.size);
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(fd, buf, done, buf.length - done, done);
      if (n <= 0) break; // shrank while reading: what is there
      done += n;
    }
    return { ok: true, text: decodeText(buf.subarray(0, done)) };
  } catch (e) {
    return { ok: false, reason: 'unreadable', detail: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  } finally {
    fs.closeSync(fd);
  }
}

/** The same, asynchronously (the editor reads run folders without blocking its thread). */
export async function readRegularFile(file: string, maxBytes: number): Promise<SafeRead> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, fs.constants.O_RDONLY | NONBLOCK);
  } catch (e) {
    return openFailure(e);
  }
  try {
    const st = await handle.stat();
    const refused = statRefusal(st, maxBytes);
    if (refused) return refused;
    const buf = Buffer.alloc(st.size);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await handle.read(buf, done, buf.length - done, done);
      if (bytesRead <= 0) break;
      done += bytesRead;
    }
    return { ok: true, text: decodeText(buf.subarray(0, done)) };
  } catch (e) {
    return { ok: false, reason: 'unreadable', detail: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  } finally {
    await handle.close();
  }
}

/** The first `bytes` bytes of a regular file, undefined where it is missing, not a regular file or unreadable; never blocks on a pipe. */
export function readHeadSync(file: string, bytes: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return undefined;
    const head = Buffer.alloc(bytes);
    return head.subarray(0, fs.readSync(fd, head, 0, bytes, 0));
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
