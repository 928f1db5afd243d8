/**
 * Decimal numbers straight from bytes, without making a string per cell.
 * Plain decimals (<= 15 significant digits, small exponent) take the exact fast
 * path: an integer mantissa below 2^53 times or divided by an exactly
 * representable power of ten is one correctly rounded operation. Anything else
 * that is syntactically a number goes through Number(), so results always equal
 * Number(text), a Fortran exponent (1.5D+03) read as the e it stands for.
 */

const POW10: number[] = [];
for (let k = 0; k <= 22; k++) POW10.push(Number(`1e${k}`));

const CH_0 = 48;
const CH_9 = 57;
const CH_PLUS = 43;
const CH_MINUS = 45;
const CH_DOT = 46;
const CH_E = 69;
const CH_LOWER_E = 101;
const CH_D = 68;
const CH_LOWER_D = 100;
const CH_SPACE = 32;
const CH_TAB = 9;
const CH_QUOTE = 34;

export const NOT_A_NUMBER = Number.NaN;

/**
 * The value of the decimal in `bytes[start, end)`, allowing surrounding spaces and
 * one pair of double quotes. Returns NaN when the text is not a plain decimal
 * (empty, "NaN", "inf", "1,5", words...): callers treat NaN as "explain this cell".
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  let s = start;
  let e = end;
  while (s < e && (bytes[s] === CH_SPACE || bytes[s] === CH_TAB)) s++;
  while (e > s && (bytes[e - 1] === CH_SPACE || bytes[e - 1] === CH_TAB)) e--;
  if (e - s >= 2 && bytes[s] === CH_QUOTE && bytes[e - 1] === CH_QUOTE) {
    s++;
    e--;
  }
  let i = s;
  let negative = false;
  if (i < e && (bytes[i] === CH_PLUS || bytes[i] === CH_MINUS)) {
    negative = bytes[i] === CH_MINUS;
    i++;
  }
  let mantissa = 0;
  let significant = 0;
  let digits = 0;
  let fraction = 0;
  while (i < e && bytes[i]! >= CH_0 && bytes[i]! <= CH_9) {
    const d = bytes[i]! - CH_0;
    if (significant > 0 || d !== 0) significant++;
    mantissa = mantissa * 10 + d;
    digits++;
    i++;
  }
  if (i < e && bytes[i] === CH_DOT) {
    i++;
    while (i < e && bytes[i]! >= CH_0 && bytes[i]! <= CH_9) {
      const d = bytes[i]! - CH_0;
      if (significant > 0 || d !== 0) significant++;
      mantissa = mantissa * 10 + d;
      digits++;
      fraction++;
      i++;
    }
  }
  if (digits === 0) return NOT_A_NUMBER;
  let exponent = 0;
  // Fortran writes D for a double's exponent (1.5D+03); nothing else could be meant by it.
  if (i < e && (bytes[i] === CH_E || bytes[i] === CH_LOWER_E || bytes[i] === CH_D || bytes[i] === CH_LOWER_D)) {
    i++;
    let expNegative = false;
    if (i < e && (bytes[i] === CH_PLUS || bytes[i] === CH_MINUS)) {
      expNegative = bytes[i] === CH_MINUS;
      i++;
    }
    const expStart = i;
    while (i < e && bytes[i]! >= CH_0 && bytes[i]! <= CH_9) {
      // Saturate: a huge exponent only needs to be recognised as huge.
      if (exponent < 100000) exponent = exponent * 10 + (bytes[i]! - CH_0);
      i++;
    }
    if (i === expStart) return NOT_A_NUMBER;
    if (expNegative) exponent = -exponent;
  }
  if (i !== e) return NOT_A_NUMBER;
  const k = exponent - fraction;
  if (significant <= 15 && k >= -22 && k <= 22) {
    const v = k < 0 ? mantissa / POW10[-k]! : mantissa * POW10[k]!;
    return negative ? -v : v;
  }
  return Number(fortranAsE(Buffer.from(bytes.buffer, bytes.byteOffset + s, e - s).toString('latin1')));
}

/** A decimal with a Fortran exponent (1.5D+03, 2d-3). */
const FORTRAN_EXPONENT = /^([+-]?(?:\d+\.?\d*|\.\d+))[dD]([+-]?\d+)$/;

const fortranAsE = (text: string) => text.replace(FORTRAN_EXPONENT, '$1e$2');

/** Whether a cell's text (unquoted, trimmed) is a number as parseDecimal reads one, or as Number() does. */
export const readsAsNumber = (text: string): boolean => !Number.isNaN(Number(fortranAsE(text)));

/**
 * Without the spaces and tabs a parser skips: String.trim would also drop a non-breaking space,
 * the very character a message about "1 234,5" must show.
 */
const trimAscii = (text: string) => text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');

/** The cell's text as the user wrote it (trimmed), shortened for messages. */
export function cellText(bytes: Uint8Array, start: number, end: number, max = 24): string {
  const text = trimAscii(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'));
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** What R (NA), Excel (#N/A), pandas, databases (NULL) and surveys (-, ?) write for a missing value. */
const MISSING_MARKERS = /^(na|n\/a|#n\/a|nan|null|none|nil|missing|-|\?)$/i;
/** What a spreadsheet writes in a cell whose formula failed (#N/A is a missing value, above). */
const SPREADSHEET_ERRORS = /^#(VALUE!|DIV\/0!|REF!|NAME\?|NUM!|NULL!|SPILL!|CALC!)$/i;

/** Whether a cell's text (unquoted) is one of the markers of a missing value. */
export const isMissingMarker = (text: string): boolean => MISSING_MARKERS.test(text);

/** Spaces that spreadsheets put between thousands (French, Swiss, SI); invisible in a message. */
const WIDE_SPACES = /[\u00a0\u2007\u2009\u202f]/;

/**
 * A number as spreadsheets and locales write it for people, which VAE Lens does not read: digits in
 * groups of three (1.234,5  1 234  1'234.5  -1,234.5) or a decimal comma (0,5). A first line of such
 * cells is data with cells to refuse, not a header.
 */
const NUMBER_FOR_PEOPLE = /^[+-]?(?:\d{1,3}([.,' \u00a0\u2007\u2009\u202f])\d{3}(?:\1\d{3})*(?:[.,]\d+)?|\d+,\d+)$/;

/** Dashes that word processors, web pages and some spreadsheets write for a minus sign (U+2212 is the typographic one). */
const TYPOGRAPHIC_MINUS = /^[\u2012\u2013\u2212\ufe63\uff0d]/;

export function isNumberForPeople(text: string): boolean {
  const ascii = text.replace(TYPOGRAPHIC_MINUS, '-');
  return NUMBER_FOR_PEOPLE.test(ascii) || (ascii !== text && ascii.length > 1 && !Number.isNaN(Number(ascii)));
}

/** Why a cell is not usable, in words a user can act on. */
export function describeBadCell(text: string, delimiter: string | undefined): string {
  const unquoted = trimAscii(text.replace(/^"(.*)"$/, '$1'));
  if (unquoted === '') return 'is empty; fill in or remove missing values';
  if (/^[+-]?(nan|inf|infinity)$/i.test(unquoted))
    return `is ${JSON.stringify(unquoted)}; VAE Lens needs finite numbers: remove or impute missing values first`;
  if (MISSING_MARKERS.test(unquoted))
    return `is ${JSON.stringify(unquoted)}, a missing value; VAE Lens needs a number in every cell: remove or impute missing values first`;
  if (SPREADSHEET_ERRORS.test(unquoted))
    return `is ${JSON.stringify(unquoted)}, an error value a spreadsheet formula gave; fix the formula, or remove or impute the cell`;
  const space = WIDE_SPACES.exec(unquoted)?.[0];
  if (space !== undefined)
    return (
      `is ${JSON.stringify(unquoted)}, with a non-breaking space (U+${space.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}) in it, which is no part of a number ` +
      '(spreadsheets write one as a thousands separator): save the cells as plain numbers'
    );
  const minus = TYPOGRAPHIC_MINUS.exec(unquoted)?.[0];
  if (minus !== undefined && isNumberForPeople(unquoted))
    return (
      `is ${JSON.stringify(unquoted)}, whose minus sign is the character U+${minus.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}, ` +
      'not the hyphen-minus "-" numbers are written with: replace it (find and replace in an editor does)'
    );
  const group = /^[+-]?\d{1,3}([.,' ])\d{3}/.exec(unquoted)?.[1];
  if (group !== undefined && NUMBER_FOR_PEOPLE.test(unquoted) && !/^[+-]?\d+,\d+$/.test(unquoted))
    return (
      `is ${JSON.stringify(unquoted)}, with ${JSON.stringify(group)} as a thousands separator: VAE Lens reads plain numbers ` +
      '(1234.5, not 1.234,5 or 1,234.5): save the cells without thousands separators'
    );
  if (delimiter !== ',' && /^[+-]?\d+,\d+$/.test(unquoted))
    return `is ${JSON.stringify(unquoted)}, which looks like a decimal comma; write decimals with a point (0.5, not 0,5)`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f]/.test(unquoted)) return 'holds binary bytes: this file does not look like text; check data.path and data.format';
  const other = otherValueKind(unquoted);
  if (other) return `is ${JSON.stringify(unquoted)}, ${other}`;
  return `is ${JSON.stringify(unquoted)}, not a number; every cell must be a decimal number like 0.25, -3 or 1e-4`;
}

/** Booleans as pandas (True), R and Excel (TRUE; German Excel WAHR/FALSCH, French VRAI/FAUX) write them. */
const BOOLEAN = /^(true|false|wahr|falsch|vrai|faux)$/i;
const PERCENT = /^[+-]?(\d+\.?\d*|\.\d+)\s?%$/;
/** Python's and pandas' complex numbers: (1+2j), 1-0.5j. */
const COMPLEX = /^\(?[+-]?(\d+\.?\d*(e[+-]?\d+)?)?[+-]?(\d+\.?\d*(e[+-]?\d+)?)?j\)?$/i;
const DATE = /^\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d+)?)?)?|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$/;
const CURRENCY = /^[+-]?[$€£¥]\s?\d|\d\s?[$€£¥]$/;

/** A cell holding a value of another type than a number, said with what to write instead (undefined for none). */
function otherValueKind(text: string): string | undefined {
  if (BOOLEAN.test(text)) return 'a true/false value, not a number: write it as 1 or 0 (df.astype(float) in pandas, as.numeric in R, before saving)';
  if (PERCENT.test(text)) return 'a percentage, not a plain number: write it as a fraction (50% as 0.5), e.g. by saving the cells as plain numbers';
  if (COMPLEX.test(text) && /\d/.test(text)) return 'a complex number, as Python writes one: save the real and imaginary parts as two columns of plain numbers';
  if (DATE.test(text)) return 'a date or time, not a number: convert it to a number (days or seconds since a start) or leave the column out';
  if (CURRENCY.test(text)) return 'an amount with a currency sign: save the cells as plain numbers, without the sign';
  return undefined;
}
