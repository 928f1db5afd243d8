/**
 * A small schema library for the messages that cross a process or page boundary. A schema is
 * written once; its TypeScript type is derived from it (`Infer`) and so is its check, so the two
 * cannot drift apart. Checks report the first problem with a path ("record.elbo: expected a
 * number"), which is what a log line about a refused message needs.
 *
 * Objects are closed by default (an unknown field is a problem: a peer speaking another version
 * of the protocol is refused, not half-understood); `open` lets extra fields through, for run
 * records that other trainers may extend.
 */

export interface Guard<T> {
  /** Undefined when `v` is a T, else the first problem found, prefixed with `path`. */
  readonly problem: (v: unknown, path: string) => string | undefined;
  /** Never set; carries T for `Infer`. */
  readonly _type?: T;
}

interface OptionalGuard<T> extends Guard<T | undefined> {
  readonly optional: true;
}

export type Infer<G> = G extends Guard<infer T> ? T : never;

export type Shape = Record<string, Guard<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalGuard<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Flatten<T> = { [K in keyof T]: T[K] };
export type ObjectOf<S extends Shape> = Flatten<{ [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }>;

const at = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);
const where = (path: string) => (path ? `${path}: ` : '');
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function primitive<T>(expected: string, test: (v: unknown) => boolean): Guard<T> {
  return { problem: (v, path) => (test(v) ? undefined : `${where(path)}expected ${expected}`) };
}

export const string = primitive<string>('a string', (v) => typeof v === 'string');
export const number = primitive<number>('a number', (v) => typeof v === 'number');
export const boolean = primitive<boolean>('true or false', (v) => typeof v === 'boolean');
/** A whole number of at least `min`, exactly held by a double (at most 2^53: beyond it, doubles skip whole numbers). */
export const wholeNumber = (min: number): Guard<number> =>
  primitive<number>(`a whole number from ${min} (at most 2^53)`, (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min);
/** A number as run files store it: JSON has no NaN or infinity, so writers put null there. */
export const jsonNumber = primitive<number | null>('a number (or null for a non-finite one)', (v) => typeof v === 'number' || v === null);
/** Anything; for payloads whose content is checked elsewhere. */
export const unknownValue: Guard<unknown> = { problem: () => undefined };

/** One of the given values; `values` lists them, for a wider union built from a narrower one. */
export function literal<const L extends string | number | boolean>(...values: L[]): Guard<L> & { readonly values: readonly L[] } {
  const text = values.map((v) => JSON.stringify(v)).join(' or ');
  return { values, problem: (v, path) => (values.includes(v as L) ? undefined : `${where(path)}expected ${text}`) };
}

export function optional<T>(inner: Guard<T>): OptionalGuard<T> {
  return { optional: true, problem: (v, path) => (v === undefined ? undefined : inner.problem(v, path)) };
}

export function nullable<T>(inner: Guard<T>): Guard<T | null> {
  return { problem: (v, path) => (v === null ? undefined : inner.problem(v, path)) };
}

export function array<T>(item: Guard<T>): Guard<T[]> {
  return {
    problem: (v, path) => {
      if (!Array.isArray(v)) return `${where(path)}expected an array`;
      for (let i = 0; i < v.length; i++) {
        const p = item.problem(v[i], at(path, i));
        if (p) return p;
      }
      return undefined;
    },
  };
}

export function object<S extends Shape>(shape: S, options: { open?: boolean } = {}): Guard<ObjectOf<S>> {
  const keys = Object.keys(shape);
  return {
    problem: (v, path) => {
      if (!isPlainObject(v)) return `${where(path)}expected an object`;
      for (const key of keys) {
        const own = Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
        const p = shape[key]!.problem(own, at(path, key));
        if (p) return p;
      }
      if (!options.open) {
        const extra = Object.keys(v).find((k) => !Object.prototype.hasOwnProperty.call(shape, k));
        if (extra !== undefined) return `${where(path)}unknown field "${extra}"`;
      }
      return undefined;
    },
  };
}

/** A union of objects told apart by their `type` field, as every message here is. */
export function tagged<M extends Record<string, Guard<object>>>(
  members: M,
): Guard<{ [K in keyof M]: Infer<M[K]> & { type: K } }[keyof M]> & { readonly tags: readonly (keyof M & string)[] } {
  const names = Object.keys(members) as (keyof M & string)[];
  return {
    tags: names,
    problem: (v, path) => {
      if (!isPlainObject(v)) return `${where(path)}expected an object`;
      const tag = v.type;
      if (typeof tag !== 'string' || !Object.prototype.hasOwnProperty.call(members, tag)) return `${where(path)}"type" must be one of ${names.join(', ')}`;
      return members[tag]!.problem(v, path);
    },
  };
}

/** A guard with one more condition that its type cannot say. */
export function refine<T>(base: Guard<T>, test: (v: T) => boolean, expected: string): Guard<T> {
  return { problem: (v, path) => base.problem(v, path) ?? (test(v as T) ? undefined : `${where(path)}expected ${expected}`) };
}

/** Whether an object may leave this member out (`optional`). */
export function isOptional(guard: Guard<unknown>): boolean {
  return 'optional' in guard && guard.optional === true;
}

export function is<T>(guard: Guard<T>, v: unknown): v is T {
  return guard.problem(v, '') === undefined;
}
