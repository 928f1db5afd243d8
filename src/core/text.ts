/** Text as other tools save it. Pure. */

/** The text without the byte-order mark some editors put first (JSON readers refuse it). */
export const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** Lines ended by LF, CR LF or a lone CR (classic Mac OS, some loggers), in any mix; a JSON line holds no raw CR. */
export const splitLines = (text: string): string[] => text.split(/\r\n|\r|\n/);

/** Where the last line end of the text is (-1 if none): the text after it is a line not finished yet. */
export const lastLineEnd = (text: string): number => Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));

/**
 * Bytes as text: UTF-8, or UTF-16 when its byte-order mark says so (Windows PowerShell 5 writes
 * files that way with `>` and Out-File), the mark itself left out, or when its start shows it
 * without one (utf16WithoutBom).
 */
export function decodeText(bytes: Uint8Array): string {
  const decoder = new PieceDecoder(encodingOf(bytes));
  return withoutBom(decoder.write(bytes) + decoder.end());
}

/** The encodings decodeText tells apart. */
export type TextEncoding = 'utf8' | 'utf16le' | 'utf16be';

/** The encoding decodeText reads a file in, told from its first bytes (UTF16_SNIFF_BYTES of them where it has as many). */
export function encodingOf(head: Uint8Array): TextEncoding {
  if (isUtf16(head)) return head[0] === 0xfe ? 'utf16be' : 'utf16le';
  const order = utf16WithoutBom(head);
  return order === undefined ? 'utf8' : order === 'le' ? 'utf16le' : 'utf16be';
}

/**
 * Text that arrives in pieces, as a growing file read from where the last read ended: a character
 * (or, in UTF-16, a byte) cut off by a piece's end is held back for the next piece. A piece must
 * start where the file's characters do: at its start, or where the previous piece ended. A
 * byte-order mark at the start is left out.
 */
export class PieceDecoder {
  private readonly decoder: InstanceType<typeof TextDecoder>;
  /** UTF-16: the first byte of a code unit whose second is in the next piece. */
  private oddByte: number | undefined;

  constructor(readonly encoding: TextEncoding) {
    // Big-endian is swapped to little-endian first: not every ICU build a host ships decodes "utf-16be".
    this.decoder = new TextDecoder(encoding === 'utf8' ? 'utf-8' : 'utf-16le');
  }

  write(bytes: Uint8Array): string {
    if (this.encoding === 'utf8') return this.decoder.decode(bytes, { stream: true });
    // Whole code units only; the caller's bytes are never swapped in place.
    const copy = this.oddByte !== undefined || this.encoding === 'utf16be';
    const all = copy ? new Uint8Array(bytes.length + (this.oddByte === undefined ? 0 : 1)) : bytes;
    if (copy) {
      if (this.oddByte !== undefined) all[0] = this.oddByte;
      all.set(bytes, all.length - bytes.length);
    }
    const even = all.length & ~1;
    this.oddByte = even < all.length ? all[even] : undefined;
    const units = all.subarray(0, even);
    if (this.encoding === 'utf16be') for (let i = 0; i < even; i += 2) [units[i], units[i + 1]] = [units[i + 1]!, units[i]!];
    return this.decoder.decode(units, { stream: true });
  }

  /** The end of the text: a character cut short reads as U+FFFD; a lone last UTF-16 byte, half a unit, is dropped. */
  end(): string {
    this.oddByte = undefined;
    return this.decoder.decode();
  }
}

/** Whether the bytes start with a UTF-16 byte-order mark. */
export const isUtf16 = (bytes: Uint8Array): boolean =>
  bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));

/** Whether decodeText reads the bytes as UTF-16: by its byte-order mark, or by a start without one. */
export const isUtf16Text = (bytes: Uint8Array): boolean => isUtf16(bytes) || utf16WithoutBom(bytes) !== undefined;

/** How many of a file's first bytes utf16WithoutBom reads. */
export const UTF16_SNIFF_BYTES = 64;

/**
 * UTF-16 saved without a byte-order mark (Python's "utf-16-le", pandas' to_csv(encoding="utf-16le")):
 * told by its start, where at least half the characters are ASCII or Latin-1, a zero byte beside
 * each (a name such as "naïve ✓" among them leaves the rest so), and no zero byte on the other side.
 * UTF-8 text holds no zero bytes, so it is never taken for this.
 */
export function utf16WithoutBom(bytes: Uint8Array): 'le' | 'be' | undefined {
  const n = Math.min(bytes.length, UTF16_SNIFF_BYTES) & ~1;
  if (n < 4) return undefined;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZero++;
    if (bytes[i + 1] === 0) oddZero++;
  }
  const pairs = n / 2;
  if (evenZero === 0 && 2 * oddZero >= pairs) return 'le';
  if (oddZero === 0 && 2 * evenZero >= pairs) return 'be';
  return undefined;
}
