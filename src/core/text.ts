/** Text as other tools save it. Pure. */

/** The text without the byte-order mark some editors put first (JSON readers refuse it). */
export const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** Lines ended by LF, CR LF or a lone CR (classic Mac OS, some loggers), in any mix; a JSON line holds no raw CR. */
export const splitLines = (text: string): string[] => text.split(/\r\n|\r|\n/);

/** Where the last line end of the text is (-1 if none): the text after it is a line not finished yet. */
export const lastLineEnd = (text: string): number => Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));

/**
 * Bytes as text: UTF-8, or UTF-16 when its byte-order mark says so (Windows PowerShell 5 writes
 * files that way with `>` and Out-File); the mark itself left out.
 */
export function decodeText(bytes: Uint8Array): string {
  if (!isUtf16(bytes)) return withoutBom(new TextDecoder('utf-8').decode(bytes));
  const be = bytes[0] === 0xfe;
  const body = bytes.slice(2, 2 + ((bytes.length - 2) & ~1));
  if (be) for (let i = 0; i < body.length; i += 2) [body[i], body[i + 1]] = [body[i + 1]!, body[i]!];
  return new TextDecoder('utf-16le').decode(body);
}

/** Whether the bytes start with a UTF-16 byte-order mark. */
export const isUtf16 = (bytes: Uint8Array): boolean =>
  bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
