/**
 * The subset of Python literal syntax that NPY headers are written in:
 * dicts, tuples, lists, strings, integers, True/False/None.
 */

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export class PyLiteralError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 32;

export function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const skip = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const fail = (what: string): never => {
    const found = pos < text.length ? JSON.stringify(text.slice(pos, pos + 10)) : 'the end';
    throw new PyLiteralError(`expected ${what}, found ${found}`, pos);
  };
  const sequence = (close: string, depth: number): PyValue[] => {
    const items: PyValue[] = [];
    for (;;) {
      skip();
      if (text[pos] === close) {
        pos++;
        return items;
      }
      items.push(value(depth + 1));
      skip();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) fail(`',' or '${close}'`);
    }
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail('a shallower value');
    skip();
    const ch = text[pos];
    if (ch === '{') {
      pos++;
      const dict: { [key: string]: PyValue } = Object.create(null) as { [key: string]: PyValue };
      for (;;) {
        skip();
        if (text[pos] === '}') {
          pos++;
          return dict;
        }
        const key = value(depth + 1);
        if (typeof key !== 'string') fail('a string key');
        skip();
        if (text[pos] !== ':') fail("':'");
        pos++;
        dict[key as string] = value(depth + 1);
        skip();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail("',' or '}'");
      }
    }
    if (ch === '(') {
      pos++;
      return sequence(')', depth);
    }
    if (ch === '[') {
      pos++;
      return sequence(']', depth);
    }
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, pos + 1);
      if (end < 0) fail('a closing quote');
      const s = text.slice(pos + 1, end);
      pos = end + 1;
      return s;
    }
    const word = /^(True|False|None|-?\d+L?)/.exec(text.slice(pos, pos + 40));
    if (!word) return fail('a value');
    pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace('L', ''));
  };
  const result = value(0);
  skip();
  if (pos !== text.length) fail('the end of the header');
  return result;
}
