/**
 * Line-by-line reading of text data from a buffer or a file. Files are read in
 * chunks so a large CSV never has to exist as one JS string (V8 caps strings at
 * ~512 MiB, and the text would double the memory of the parsed matrix).
 */
import { closeSync, openSync, readSync } from 'node:fs';

export type TextInput = { kind: 'buffer'; data: Buffer } | { kind: 'file'; path: string; chunkBytes?: number };

/**
 * Called with the bytes of one line, `[start, end)` in `bytes`, without the line
 * break (and without a trailing CR). `line` is 1-based; `offset` is the byte offset
 * of `start` in the whole input. The buffer may be reused after the call returns.
 * Return false to stop early.
 */
export type LineVisitor = (bytes: Buffer, start: number, end: number, line: number, offset: number) => boolean | void;

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const DEFAULT_CHUNK = 1 << 20;

export function forEachLine(input: TextInput, visit: LineVisitor): void {
  if (input.kind === 'buffer') visitBuffer(input.data, visit);
  else visitFile(input.path, input.chunkBytes ?? DEFAULT_CHUNK, visit);
}

function bomLength(buf: Buffer, length: number): number {
  return length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
}

function lineEnd(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
}

function visitBuffer(buf: Buffer, visit: LineVisitor): void {
  let pos = bomLength(buf, buf.length);
  let line = 1;
  while (pos < buf.length) {
    const nl = buf.indexOf(NEWLINE, pos);
    const end = nl < 0 ? buf.length : nl;
    if (visit(buf, pos, lineEnd(buf, pos, end), line, pos) === false) return;
    line++;
    pos = end + 1;
  }
}

function visitFile(path: string, chunkBytes: number, visit: LineVisitor): void {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(Math.max(16, chunkBytes));
    let filled = 0; // bytes of buf holding data
    let bufFileOffset = 0; // file offset of buf[0]
    let line = 1;
    let first = true;
    for (;;) {
      if (filled === buf.length) {
        // One line longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const got = readSync(fd, buf, filled, buf.length - filled, bufFileOffset + filled);
      const eof = got === 0;
      filled += got;
      let pos = 0;
      if (first && (filled >= 3 || eof)) {
        pos = bomLength(buf, filled);
        first = false;
      } else if (first) {
        continue;
      }
      for (;;) {
        const nl = buf.indexOf(NEWLINE, pos);
        if (nl < 0 || nl >= filled) break;
        if (visit(buf, pos, lineEnd(buf, pos, nl), line, bufFileOffset + pos) === false) return;
        line++;
        pos = nl + 1;
      }
      if (eof) {
        if (pos < filled) visit(buf, pos, lineEnd(buf, pos, filled), line, bufFileOffset + pos);
        return;
      }
      buf.copy(buf, 0, pos, filled);
      filled -= pos;
      bufFileOffset += pos;
    }
  } finally {
    closeSync(fd);
  }
}
