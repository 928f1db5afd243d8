/**
 * Text as other tools save it: a whole file and the same bytes read piece by piece (a followed
 * metrics.jsonl) must give the same text, damaged ends included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeText, encodingOf, PieceDecoder, type TextEncoding } from '../../src/core/text';
import { lcg } from './follow-testkit';

/** Text with ASCII, Latin-1, a character outside the BMP (a surrogate pair in UTF-16) and every line end. */
const SAMPLE = '{"elbo": -1.25, "note": "naïve ✓ 𝜎²"}\r\n{"elbo": 2}\n{"x": "é"}\r';

function encoded(text: string, encoding: TextEncoding, bom: boolean): Buffer {
  const le = Buffer.from(text, 'utf16le');
  if (encoding === 'utf8') return Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
  if (encoding === 'utf16le') return Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), le]);
  const be = Buffer.from(le);
  be.swap16();
  return Buffer.concat([bom ? Buffer.from([0xfe, 0xff]) : Buffer.alloc(0), be]);
}

const CASES = (['utf8', 'utf16le', 'utf16be'] as const).flatMap((encoding) => [true, false].map((bom) => ({ encoding, bom })));

test('decodeText reads every encoding, with or without its byte-order mark', () => {
  for (const { encoding, bom } of CASES) {
    const bytes = encoded(SAMPLE.repeat(3), encoding, bom);
    assert.equal(encodingOf(bytes), encoding, `${encoding}, mark ${bom}`);
    assert.equal(decodeText(bytes), SAMPLE.repeat(3), `${encoding}, mark ${bom}`);
  }
});

test('read in pieces cut at any byte, then ended, the text is the whole read, damaged ends too', () => {
  for (const { encoding, bom } of CASES) {
    const whole = encoded(SAMPLE.repeat(3), encoding, bom);
    const rng = lcg(encoding.length * 7 + (bom ? 1 : 0));
    for (let round = 0; round < 60; round++) {
      // A file cut anywhere: inside a character, a surrogate pair or a UTF-16 code unit.
      const bytes = whole.subarray(0, whole.length - Math.floor(rng() * 9));
      const decoder = new PieceDecoder(encodingOf(bytes));
      let text = '';
      for (let at = 0; at < bytes.length;) {
        const next = Math.min(bytes.length, at + 1 + Math.floor(rng() * 7));
        text += decoder.write(bytes.subarray(at, next));
        at = next;
      }
      text += decoder.end();
      const where = `${encoding}, mark ${bom}, ${bytes.length} of ${whole.length} bytes`;
      assert.equal(text, decodeText(bytes), where);
      // The bytes handed in are not changed (big-endian units are swapped on a copy).
      assert.deepEqual(bytes, whole.subarray(0, bytes.length), where);
      if (bytes.length === whole.length) assert.equal(decodeText(bytes), SAMPLE.repeat(3), where);
    }
  }
});

test('a lone last UTF-16 byte is dropped; a character cut short reads as U+FFFD', () => {
  assert.equal(decodeText(Buffer.from([0xff, 0xfe, 0x61, 0x00, 0x62])), 'a');
  assert.equal(decodeText(Buffer.from([0xfe, 0xff, 0x00, 0x61, 0x00])), 'a');
  // A high surrogate without its low half.
  assert.equal(decodeText(Buffer.from([0xff, 0xfe, 0x61, 0x00, 0x35, 0xd8])), 'a\ufffd');
  // UTF-8: the first two bytes of a three-byte character.
  assert.equal(decodeText(Buffer.from([0x61, 0xe2, 0x9c])), 'a\ufffd');
});
