/** Following a metrics.jsonl: its last record, and the records appended since the last look. Node only. */
import { promises as fsp } from 'node:fs';
import { parseRunJson, readMetricsRecord, type MetricsRecord } from '../runFormat';
import { openRegular, parseMetricsYielding, READ_LIMITS } from './files';
import { encodingOf, lastLineEnd, PieceDecoder, splitLines, UTF16_SNIFF_BYTES, withoutBom, type TextEncoding } from '../text';

const MAX_TAIL_BYTES = 64 << 20;

/**
 * The first window read for the last record: several records of a small model (a few kilobytes each).
 * A followed run's state is looked at every two seconds, so this is read at every look.
 */
const FIRST_TAIL_BYTES = 16 * 1024;

/**
 * The last complete record of a metrics.jsonl, reading only its tail: a window of `tailBytes`, made
 * larger while it holds no whole record (a model with thousands of latents writes records of
 * megabytes), up to MAX_TAIL_BYTES: a file with no whole record in its last 64 MiB is damaged, not
 * to be read whole for a status bar.
 */
export async function lastMetricsRecord(file: string, tailBytes = FIRST_TAIL_BYTES): Promise<MetricsRecord | undefined> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await openRegular(file);
    if (!handle) return undefined;
    const { size } = await handle.stat();
    const encoding = await encodingAt(handle, size);
    const limit = Math.min(size, MAX_TAIL_BYTES);
    for (let window = Math.min(tailBytes, limit); ; window = Math.min(window * 4, limit)) {
      // A UTF-16 character starts at an even offset (the byte-order mark is two bytes).
      const start = encoding === 'utf8' ? size - window : (size - window) & ~1;
      const buf = Buffer.alloc(size - start);
      await handle.read(buf, 0, buf.length, start);
      const lines = splitLines(new PieceDecoder(encoding).write(buf));
      // The first line of a window that starts mid-file may be the end of a record: not one to read.
      const first = start === 0 ? 0 : 1;
      for (let i = lines.length - 1; i >= first; i--) {
        const line = withoutBom(lines[i]!).trim();
        if (!line) continue;
        // A line that does not read is a cut-short last line (a writer mid-write) or a damaged one.
        const read = readMetricsRecord(parseRunJson(line));
        if ('record' in read) return read.record;
      }
      if (window >= limit) return undefined;
    }
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** The encoding of the open file, told from its first bytes as a whole read of it is (decodeText). */
async function encodingAt(handle: fsp.FileHandle, size: number): Promise<TextEncoding> {
  const head = Buffer.alloc(Math.min(size, UTF16_SNIFF_BYTES));
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  return encodingOf(head.subarray(0, bytesRead));
}

const MAX_PENDING_CHARS = 16 << 20;

/** How much of a followed metrics.jsonl is read and decoded in one go. */
const READ_CHUNK_BYTES = 1 << 20;

/** How much of the file's beginning is kept to tell a file started over from one appended to. */
const HEAD_BYTES = 1024;

/** What a look at a followed metrics.jsonl found: the records since the last look, and whether the file was started over. */
export interface TailRead {
  records: MetricsRecord[];
  /**
   * The file is not the one read before (truncated, rewritten by a writer restarting the run in
   * the same folder, or another renamed over it): `records` are the new file's, from its start.
   */
  restarted: boolean;
  /** Lines of those read that are not records, numbered in the whole file. */
  bad: { line: number; message: string }[];
}

/**
 * Reads a growing metrics.jsonl incrementally: each call returns only the records
 * appended since the last call, holding back a line that is not finished yet.
 */
export class MetricsTail {
  private offset = 0;
  /** The whole lines read so far, to number a bad line in the file rather than in the read. */
  private lines = 0;
  private pending = '';
  /**
   * Holds back the bytes of a character cut by the end of a read, for the next one; set once the
   * file's first bytes tell its encoding.
   */
  private decoder: PieceDecoder | undefined;
  /** The file read so far: its identity and first bytes, which an append leaves as they were. */
  private identity: { dev: number; ino: number; head: Buffer } | undefined;

  constructor(readonly file: string) {}

  private queue: Promise<unknown> = Promise.resolve();

  /** Calls are serialised: two overlapping reads would return the same records twice. */
  readNew(): Promise<MetricsRecord[]> {
    return this.readChanges().then((r) => r.records);
  }

  /**
   * The records since the last look, and whether the file was started over. `final`: the writer
   * has ended, so a last line it left without a newline is read too when it is a whole record.
   */
  readChanges(opts: { final?: boolean } = {}): Promise<TailRead> {
    const next = this.queue.then(() => this.read(opts.final === true));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(final: boolean): Promise<TailRead> {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await openRegular(this.file);
      if (!handle) return { records: [], restarted: false, bad: [] };
      const stat = await handle.stat();
      const { size } = stat;
      const restarted = this.offset > 0 && (size < this.offset || !(await this.sameFile(handle, stat)));
      if (restarted) {
        this.offset = 0;
        this.lines = 0;
        this.pending = '';
        this.decoder = undefined;
        this.identity = undefined;
      }
      // Too few bytes yet to tell UTF-16 without a byte-order mark from UTF-8; no record is this short.
      if (this.decoder === undefined && size < UTF16_SNIFF_BYTES && !final) return { records: [], restarted, bad: [] };
      const decoder = (this.decoder ??= new PieceDecoder(await encodingAt(handle, size)));
      if (size > this.offset) {
        // At most the read limit per call: a file that grew by gigabytes is read in steps, not at once.
        let left = Math.min(size - this.offset, READ_LIMITS.metrics);
        // Decoded a chunk at a time: tens of megabytes decoded at once would hold the thread.
        const buf = Buffer.alloc(Math.min(left, READ_CHUNK_BYTES));
        while (left > 0) {
          const { bytesRead } = await handle.read(buf, 0, Math.min(left, buf.length), this.offset);
          if (bytesRead <= 0) break;
          this.offset += bytesRead;
          left -= bytesRead;
          this.pending += decoder.write(buf.subarray(0, bytesRead));
        }
        await this.remember(handle, stat);
      }
      const text = this.pending;
      const cut = lastLineEnd(text);
      this.pending = cut < 0 ? text : text.slice(cut + 1);
      // A record is kilobytes: a "line" of megabytes without its newline is not one; do not hold it.
      if (this.pending.length > MAX_PENDING_CHARS) this.pending = '';
      const whole = cut < 0 ? '' : text.slice(0, cut + 1);
      const parsed = await parseMetricsYielding(whole);
      const records = parsed.records;
      const bad = parsed.bad.map((b) => ({ line: this.lines + b.line, message: b.message }));
      this.lines += splitLines(whole).length - 1;
      if (final && this.pending.trim() !== '') {
        const last = readMetricsRecord(parseRunJson(withoutBom(this.pending).trim()));
        if ('record' in last) {
          records.push(last.record);
          this.pending = '';
        }
      }
      return { records, restarted, bad };
    } catch {
      return { records: [], restarted: false, bad: [] };
    } finally {
      await handle?.close();
    }
  }

  /** Whether the open file is the one read before: same inode, same first bytes. */
  private async sameFile(handle: fsp.FileHandle, stat: { dev: number; ino: number }): Promise<boolean> {
    const known = this.identity;
    if (known === undefined) return true;
    if (known.dev !== stat.dev || known.ino !== stat.ino) return false;
    const head = Buffer.alloc(known.head.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(known.head);
  }

  private async remember(handle: fsp.FileHandle, stat: { dev: number; ino: number }): Promise<void> {
    if (this.identity !== undefined && this.identity.head.length >= HEAD_BYTES) return;
    const head = Buffer.alloc(Math.min(this.offset, HEAD_BYTES));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    this.identity = { dev: stat.dev, ino: stat.ino, head: head.subarray(0, bytesRead) };
  }
}
