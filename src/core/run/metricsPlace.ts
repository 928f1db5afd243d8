/**
 * Reading a metrics.jsonl on from where an earlier read of it ended. A run followed live grows by a
 * pass at a time; reading and parsing its megabytes at every growth, to judge one pass, is what this
 * saves. What was read is trusted only while the file shows it still holds it (the same inode, its
 * first bytes and the bytes just before where the read ended unchanged, and grown, not rewritten to
 * the same size); otherwise the caller reads the file whole. Node only.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { comesAfter, metricsParser, parseRunJson, readMetricsRecord, type MetricsRecord } from '../runFormat';
import { decodeText, isUtf16Text, withoutBom } from '../text';
import { openRegular, READ_LIMITS, stampOfStats } from './files';
import { inSlices } from './slices';

/**
 * Where a read of a metrics.jsonl ended, and what shows that the file still holds what was read.
 * Offsets count from after a UTF-8 byte-order mark (readers leave it out, and an editor may add or drop it).
 */
export interface ReadPlace {
  /** The file's inode, where known: another is another file (one renamed over it). */
  ino: number | undefined;
  /** The file's size in bytes when read: a file of the same size with another stamp was rewritten, not appended to. */
  size: number;
  /** Bytes read: to the end of the last whole line, or of a last record whose line end is still to come (`open`). */
  end: number;
  open: boolean;
  /** The first bytes, and those just before `end`. */
  head: Buffer;
  tail: Buffer;
}

/** Records read from a metrics.jsonl, the file's stamp (metricsStamp) at the read, and where the read ended. */
export interface MetricsPart {
  stamp: string;
  records: MetricsRecord[];
  /** Undefined where a later read cannot start at an offset (a UTF-16 file). */
  place: ReadPlace | undefined;
  bytesRead: number;
}

const HEAD_BYTES = 1024;
/** About the last record of a small model's run (more than one line of most). */
const TAIL_BYTES = 4096;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The whole file, as readText and parseMetricsJsonl read it; undefined when it is missing, not a regular file or over the read limit. */
export async function readWholeMetrics(file: string): Promise<MetricsPart | undefined> {
  return withFile(file, async (handle, stat) => {
    if (stat.size > READ_LIMITS.metrics) return undefined;
    const bytes = await readAt(handle, 0, stat.size);
    const records = (await inSlices(metricsParser(decodeText(bytes)))).records;
    const place = isUtf16Text(bytes) ? undefined : placeOf(startsWithBom(bytes) ? bytes.subarray(UTF8_BOM.length) : bytes, stat.ino, stat.size);
    return { stamp: stampOfStats(stat), records, place, bytesRead: bytes.length };
  });
}

/**
 * The records appended since `place` (parsed apart from those before it: one that replaces an earlier
 * pass is the caller's to see), or undefined when the file is not the one read there grown by
 * appended bytes, and must be read whole.
 */
export async function readAppended(file: string, place: ReadPlace): Promise<MetricsPart | undefined> {
  return withFile(file, async (handle, stat) => {
    if (stat.size <= place.size || stat.size > READ_LIMITS.metrics || (place.ino !== undefined && stat.ino !== place.ino)) return undefined;
    const first = await readAt(handle, 0, UTF8_BOM.length + place.head.length);
    if (isUtf16Text(first)) return undefined;
    const base = startsWithBom(first) ? UTF8_BOM.length : 0;
    if (stat.size - base < place.end || !first.subarray(base, base + place.head.length).equals(place.head)) return undefined;
    const from = base + place.end - place.tail.length;
    const read = await readAt(handle, from, stat.size - from);
    if (!read.subarray(0, place.tail.length).equals(place.tail)) return undefined;
    const added = read.subarray(place.tail.length);
    // A last record read without its line end: what follows must end that line, or it was not a whole record.
    // A byte-order mark is one only at the file's start: a whole read takes one here for part of a line.
    if ((place.open && added.length > 0 && !isLineEnd(added[0]!)) || startsWithBom(added)) return undefined;
    const records = (await inSlices(metricsParser(added.toString('utf8')))).records;
    const { used, open } = linesRead(added);
    const moved: ReadPlace =
      used === 0
        ? { ...place, size: stat.size }
        : {
            ino: stat.ino,
            size: stat.size,
            end: place.end + used,
            open,
            head: place.head,
            tail: lastBytes(Buffer.concat([place.tail, added.subarray(0, used)])),
          };
    return { stamp: stampOfStats(stat), records, place: moved, bytesRead: first.length + read.length };
  });
}

/**
 * metrics.jsonl read on from where an earlier read ended (`from`, with the last pass it read), where the
 * file still holds what was read there and the appended records follow that pass (`appended`); else
 * read whole (a resumed run's record that replaces passes asks for all of them). `part` is undefined
 * where the file cannot be read; `bytesRead` counts both tries.
 */
export async function readOnward(
  file: string,
  from: { place: ReadPlace; last: MetricsRecord | undefined } | undefined,
): Promise<{ part: MetricsPart | undefined; appended: boolean; bytesRead: number }> {
  let bytesRead = 0;
  if (from !== undefined) {
    const added = await readAppended(file, from.place);
    bytesRead += added?.bytesRead ?? 0;
    const first = added?.records[0];
    if (added !== undefined && (first === undefined || from.last === undefined || comesAfter(first, from.last)))
      return { part: added, appended: true, bytesRead };
  }
  const whole = await readWholeMetrics(file);
  return { part: whole, appended: false, bytesRead: bytesRead + (whole?.bytesRead ?? 0) };
}

/**
 * Where the passes of a metrics.jsonl already read as text end (the panel's whole read), its size and
 * inode as its stamp said before the read. A text that is not the file's bytes as UTF-8 (a UTF-16 file)
 * gives a place the file does not match: it is read whole then.
 */
export function placeOfText(text: string, ino: number | undefined, size: number): ReadPlace {
  return placeOf(Buffer.from(withoutBom(text), 'utf8'), ino, size);
}

/** Whether `content`, the file's text read whole again, still holds what the read that ended at `place` read. */
export function holdsPlace(text: string, place: ReadPlace): boolean {
  const content = Buffer.from(withoutBom(text), 'utf8');
  if (content.length < place.end) return false;
  return content.subarray(0, place.head.length).equals(place.head) && content.subarray(place.end - place.tail.length, place.end).equals(place.tail);
}

function placeOf(content: Buffer, ino: number | undefined, size: number): ReadPlace {
  const { used, open } = linesRead(content);
  return { ino, size, end: used, open, head: Buffer.from(content.subarray(0, HEAD_BYTES)), tail: lastBytes(content.subarray(0, used)) };
}

/** How many of `bytes` metricsParser has read for good: to the last line end, or to the end when the last line, without one, holds a record. */
function linesRead(bytes: Buffer): { used: number; open: boolean } {
  const cut = Math.max(bytes.lastIndexOf(0x0a), bytes.lastIndexOf(0x0d));
  const rest = bytes.subarray(cut + 1).toString('utf8');
  return rest.trim() !== '' && 'record' in readMetricsRecord(parseRunJson(rest)) ? { used: bytes.length, open: true } : { used: cut + 1, open: false };
}

/** A copy (not a view of a whole file's buffer) of the last TAIL_BYTES. */
const lastBytes = (bytes: Buffer) => Buffer.from(bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)));

const isLineEnd = (byte: number) => byte === 0x0a || byte === 0x0d;

const startsWithBom = (bytes: Buffer) => bytes.subarray(0, UTF8_BOM.length).equals(UTF8_BOM);

async function withFile<T>(file: string, read: (handle: FileHandle, stat: Stats) => Promise<T | undefined>): Promise<T | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await openRegular(file);
    return handle === undefined ? undefined : await read(handle, await handle.stat());
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** Up to `length` bytes at `position` (fewer where the file ends sooner). */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.max(0, length));
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead <= 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}
