/**
 * Checking a spec against SPEC_SCHEMA with ajv (compiled once per schema), then saying each problem in
 * the wording the spec's users see, on the node it is about: did-you-mean for misspelt fields and
 * values, and for `data` the variant meant (picked by its identifying key) rather than every variant's
 * complaints. Two things a validator of values cannot see are checked on the syntax tree: a key given
 * twice, and a key that names Object.prototype's members in an object open to any key.
 *
 * The whole schema's validator is compiled at build time (specValidatorCode.ts): compiling it here took
 * ~100 ms of the editor's thread at the first check. The parts checked on their own (the earlier value of
 * a key given twice) are compiled when met; ajv does that with `new Function`, fine in Node (extension
 * host, trainer, CLI); the panel's webview, whose CSP forbids it, never imports this module.
 */
import type Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Node } from 'jsonc-parser';
import { didYouMean } from '../errors';
import { counted } from '../wording';
import { SPEC_SCHEMA, type JsonSchema } from '../specSchema';
import { AJV_OPTIONS } from './ajvOptions';
import { nodeValue } from './jsonc';
import { validate as validateSpec } from './specValidator.generated';

export interface SchemaProblem {
  message: string;
  node: Node | undefined;
  field: string;
}

/** A problem with where it sorts: document order, an object's missing fields after its contents. */
interface Placed extends SchemaProblem {
  anchor: number;
  rank: number;
}

const compiled = new WeakMap<JsonSchema, ValidateFunction>([[SPEC_SCHEMA, validateSpec]]);
let ajv: Ajv | undefined;

function validatorFor(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    // Loaded here, not imported: ajv's compiler takes tens of milliseconds to load, and most specs never need it.
    ajv ??= new (require('ajv') as typeof import('ajv')).default(AJV_OPTIONS);
    v = ajv.compile(schema as object);
    compiled.set(schema, v);
  }
  return v;
}

/** Every way `value` (the plain value of the tree `root`, see jsonc.nodeValue) breaks `schema`, in document order. */
export function schemaProblems(root: Node, value: unknown, schema: JsonSchema): SchemaProblem[] {
  return check(root, value, schema, '')
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.anchor - b.p.anchor || a.p.rank - b.p.rank || a.i - b.i)
    .map(({ p }) => ({ message: p.message, node: p.node, field: p.field }));
}

/** The problems of the subtree `root` (at dotted field `base`) against its part of the schema. */
function check(root: Node, value: unknown, schema: JsonSchema, base: string): Placed[] {
  const validate = validatorFor(schema);
  const errors = validate(value) ? [] : (validate.errors ?? []);
  return [...describe(root, schema, settleVariants(root, schema, errors, base), base), ...treeProblems(root, schema, errors, base)];
}

type Settled = { error: ErrorObject } | { custom: Placed };

/**
 * `anyOf` (model or script spec): the first variant's complaints only. `oneOf` (`data`): the variant whose
 * identifying key is given; with none or both, one message saying so instead of every variant's errors.
 */
function settleVariants(root: Node, schema: JsonSchema, errors: readonly ErrorObject[], base: string): Settled[] {
  const dropped = new Set<string>(); // schemaPath prefixes whose errors are not the user's business
  const custom: Placed[] = [];
  for (const e of errors) {
    if (e.keyword === 'anyOf') {
      // Keep the first variant's complaints (what a model spec misses); drop the others' and the summary.
      dropped.add(e.schemaPath + '\u0000');
      const variants = (schemaAt(schema, e.schemaPath) as JsonSchema[] | undefined) ?? [];
      variants.forEach((_, i) => i > 0 && dropped.add(`${e.schemaPath}/${i}/`));
    }
    if (e.keyword === 'oneOf') {
      const variants = (schemaAt(schema, e.schemaPath) as JsonSchema[] | undefined) ?? [];
      const where = locate(root, e.instancePath, base);
      const owner = e.schemaPath.slice(0, -'/oneOf'.length);
      dropped.add(e.schemaPath + '\u0000');
      const picked = where.node ? pickVariant(where.node, variants) : { kind: 'not-object' as const };
      if (picked.kind === 'one') {
        variants.forEach((_, i) => i !== picked.index && dropped.add(`${e.schemaPath}/${i}/`));
        continue;
      }
      dropped.add(`${e.schemaPath}/`);
      dropped.add(`${owner}/type\u0000`);
      custom.push(...oneOfProblems(where.node, where.field, variants, picked.kind));
    }
  }
  const isDropped = (e: ErrorObject) => dropped.has(e.schemaPath + '\u0000') || [...dropped].some((p) => p.endsWith('/') && e.schemaPath.startsWith(p));
  return [...errors.filter((e) => !isDropped(e)).map((error) => ({ error })), ...custom.map((c) => ({ custom: c }))];
}

type Pick = { kind: 'one'; index: number } | { kind: 'none' | 'both' | 'not-object' };

function pickVariant(node: Node, variants: readonly JsonSchema[]): Pick {
  if (node.type !== 'object') return { kind: 'not-object' };
  const keys = new Set((node.children ?? []).map((p) => p.children?.[0]?.value as string));
  const matching = variants.flatMap((v, i) => ((v.required ?? []).every((r) => keys.has(r)) ? [i] : []));
  if (matching.length === 1) return { kind: 'one', index: matching[0]! };
  return { kind: matching.length === 0 ? 'none' : 'both' };
}

function oneOfProblems(node: Node | undefined, field: string, variants: readonly JsonSchema[], kind: 'none' | 'both' | 'not-object'): Placed[] {
  const at = { node, field, anchor: node?.offset ?? 0, rank: 0 };
  if (kind === 'not-object' || !node) return [{ ...at, message: `${field} must be an object such as {"path": "data.csv"} or {"synthetic": "swiss_roll"}` }];
  const ids = variants.map((v) => JSON.stringify(v.required?.[0]));
  if (kind === 'none') {
    // "sythetic" or "pth": say which key was meant rather than only that none was given.
    const variantKeys = variants.map((v) => v.required?.[0] ?? '');
    const known = new Set(variants.flatMap((v) => Object.keys(v.properties ?? {})));
    const misspelt = (node.children ?? []).flatMap((pair) => {
      const keyNode = pair.children?.[0];
      const key = keyNode?.value as string | undefined;
      const guess = key === undefined || known.has(key) ? undefined : didYouMean(key, variantKeys);
      return keyNode && key !== undefined && guess ? [{ keyNode, key, guess }] : [];
    });
    if (misspelt.length > 0)
      return misspelt.map((m) => ({
        message: `unknown field ${JSON.stringify(m.key)} in ${field} (did you mean ${JSON.stringify(m.guess)}?)`,
        node: m.keyNode,
        field: `${field}.${m.key}`,
        anchor: m.keyNode.offset,
        rank: 0,
      }));
  }
  return [{ ...at, message: kind === 'none' ? `${field} needs exactly one of ${ids.join(' or ')}` : `${field} has both ${ids.join(' and ')}; give only one` }];
}

const RANK: Record<string, number> = { type: 0, enum: 1, minimum: 2, maximum: 3, exclusiveMinimum: 4, minLength: 5, minItems: 6, maxItems: 7 };

/** ajv's errors in the spec's own wording, each on its node. */
function describe(root: Node, schema: JsonSchema, settled: readonly Settled[], base: string): Placed[] {
  const errors = settled.flatMap((s) => ('error' in s ? [s.error] : []));
  // A value of the wrong type gets that one message, not also the checks its type would have had.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const out: Placed[] = settled.flatMap((s) => ('custom' in s ? [s.custom] : []));
  for (const e of errors) {
    if (e.keyword !== 'type' && wrongType.has(e.instancePath)) continue;
    const { node, field } = locate(root, e.instancePath, base);
    const at = field || 'the spec';
    const placed = (message: string, n: Node | undefined = node, f = field, anchor = n?.offset ?? 0): Placed => ({
      message,
      node: n,
      field: f,
      anchor,
      rank: RANK[e.keyword] ?? 8,
    });
    const p = e.params as Record<string, unknown>;
    const value = node?.value as unknown;
    switch (e.keyword) {
      case 'type': {
        const shown = node?.type === 'string' ? JSON.stringify(value) : node?.type === 'number' ? String(value) : (node?.type ?? 'nothing');
        out.push(placed(`${at} must be ${article(String(p.type))}, not ${shown}`));
        break;
      }
      case 'enum': {
        const allowed = (p.allowedValues as (string | number)[] | undefined) ?? [];
        const guess = typeof value === 'string' ? didYouMean(value, allowed.map(String)) : undefined;
        out.push(
          placed(
            `${at} is ${JSON.stringify(value)}; expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}`,
          ),
        );
        break;
      }
      case 'minimum':
        out.push(placed(`${at} is ${String(value)}; it must be at least ${String(p.limit)}`));
        break;
      case 'maximum':
        out.push(placed(`${at} is ${String(value)}; it must be at most ${String(p.limit)}`));
        break;
      case 'exclusiveMinimum':
        out.push(placed(`${at} is ${String(value)}; it must be greater than ${String(p.limit)}`));
        break;
      case 'minLength':
        out.push(placed(`${at} must not be empty`));
        break;
      case 'minItems':
        out.push(placed(`${at} needs at least ${counted(Number(p.limit), 'entry', 'entries')}`));
        break;
      case 'maxItems':
        out.push(placed(`${at} may have at most ${counted(Number(p.limit), 'entry', 'entries')}`));
        break;
      case 'additionalProperties': {
        const key = String(p.additionalProperty);
        const props = (schemaAt(schema, e.schemaPath.slice(0, -'/additionalProperties'.length)) as JsonSchema | undefined)?.properties ?? {};
        const keyNode = keyNodeOf(node, key);
        out.push(placed(unknownField(key, field, props), keyNode, field ? `${field}.${key}` : key));
        break;
      }
      case 'required': {
        const req = String(p.missingProperty);
        // The owner's properties describe the field (for an anyOf variant, the object holding the anyOf).
        const ownerPath = e.schemaPath.slice(0, -'/required'.length).replace(/\/anyOf\/\d+$/, '');
        const desc = (schemaAt(schema, ownerPath) as JsonSchema | undefined)?.properties?.[req]?.description;
        const message = `${at} is missing the required field ${JSON.stringify(req)}${desc ? ` (${desc})` : ''}`;
        // After the object's contents, as a reader meets the closing brace.
        out.push(placed(message, node, field ? `${field}.${req}` : req, (node?.offset ?? 0) + (node?.length ?? 0)));
        break;
      }
      default:
        out.push(placed(`${at} ${e.message ?? 'is not valid'}`));
    }
  }
  return out;
}

function unknownField(key: string, field: string, props: Record<string, JsonSchema>): string {
  const guess = didYouMean(key, Object.keys(props));
  const known = Object.keys(props).filter((k) => k !== '$schema');
  return `unknown field ${JSON.stringify(key)} in ${field || 'the spec'}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : `; known fields: ${known.join(', ')}`}`;
}

/** Keys that reach or replace an object's prototype when assigned; never a field of a spec. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Keys given twice, and prototype-named keys where the schema lets any key through (ajv passes those). */
function treeProblems(root: Node, schema: JsonSchema, errors: readonly ErrorObject[], base: string): Placed[] {
  const out: Placed[] = [];
  const reported = new Set(
    errors.filter((e) => e.keyword === 'additionalProperties').map((e) => `${e.instancePath}/${escape(String(e.params.additionalProperty))}`),
  );
  const walk = (node: Node, sub: JsonSchema | undefined, field: string, pointer: string) => {
    if (node.type === 'array') {
      (node.children ?? []).forEach((child, i) => walk(child, sub?.items, `${field}[${i}]`, `${pointer}/${i}`));
      return;
    }
    if (node.type !== 'object') return;
    const variant = sub?.oneOf ? pickVariant(node, sub.oneOf) : undefined;
    const own = variant ? (variant.kind === 'one' ? sub!.oneOf![variant.index] : undefined) : sub;
    const props = own?.properties ?? {};
    const seen = new Set<string>();
    const pairs = node.children ?? [];
    // ajv saw only the last value of a key given twice: the earlier ones are checked here.
    const lastOf = new Map(pairs.map((pair, i) => [pair.children?.[0]?.value as string, i]));
    for (const [i, pair] of pairs.entries()) {
      const [keyNode, valueNode] = pair.children ?? [];
      if (!keyNode) continue;
      const key = keyNode.value as string;
      const f = field ? `${field}.${key}` : key;
      if (seen.has(key)) out.push({ message: `${f} is given twice`, node: keyNode, field: f, anchor: keyNode.offset, rank: 0 });
      seen.add(key);
      const known = Object.hasOwn(props, key);
      if (!known && PROTOTYPE_KEYS.has(key) && own && own.additionalProperties !== false && !reported.has(`${pointer}/${escape(key)}`))
        out.push({ message: unknownField(key, field, props), node: keyNode, field: f, anchor: keyNode.offset, rank: 0 });
      if (valueNode && lastOf.get(key) !== i) {
        if (known) out.push(...check(valueNode, nodeValue(valueNode), props[key]!, f));
      } else if (valueNode) walk(valueNode, known ? props[key] : undefined, f, `${pointer}/${escape(key)}`);
    }
  };
  walk(root, schema, base, '');
  return out;
}

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** The node and dotted field at a JSON pointer (the last of a key given twice: the value ajv saw). */
function locate(root: Node, pointer: string, base: string): { node: Node | undefined; field: string } {
  let node: Node | undefined = root;
  let field = base;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node?.type === 'array') {
      node = node.children?.[Number(part)];
      field = `${field}[${part}]`;
    } else {
      const pairs: Node[] = (node?.children ?? []).filter((p) => p.children?.[0]?.value === part);
      node = pairs[pairs.length - 1]?.children?.[1];
      field = field ? `${field}.${part}` : part;
    }
  }
  return { node, field };
}

function keyNodeOf(objectNode: Node | undefined, key: string): Node | undefined {
  const pairs = (objectNode?.children ?? []).filter((p) => p.children?.[0]?.value === key);
  return pairs[pairs.length - 1]?.children?.[0] ?? objectNode;
}

/** The part of the schema at an ajv schemaPath ("#/properties/data/oneOf/0"). */
function schemaAt(schema: JsonSchema, schemaPath: string): unknown {
  let at: unknown = schema;
  for (const raw of schemaPath.replace(/^#/, '').split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

const article = (t: string) => (t === 'object' || t === 'array' || t === 'integer' ? `an ${t}` : `a ${t}`);
