/** Counting what a piece of work reads from files: for measurements and tests of what a look at a run costs. */
import { promises as fsp } from 'node:fs';

type Read = (...args: unknown[]) => Promise<{ bytesRead: number }>;

/** Counts the bytes every file handle of this process reads, while `work` runs. */
export async function bytesReadDuring(work: () => Promise<unknown>): Promise<number> {
  const probe = await fsp.open(__filename, 'r');
  const proto = Object.getPrototypeOf(probe) as { read: Read };
  await probe.close();
  const read = proto.read;
  let bytes = 0;
  proto.read = async function (this: unknown, ...args: unknown[]) {
    const r = await read.apply(this, args);
    bytes += r.bytesRead;
    return r;
  };
  try {
    await work();
  } finally {
    proto.read = read;
  }
  return bytes;
}
