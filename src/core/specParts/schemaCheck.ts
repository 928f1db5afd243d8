/**
 * Checking a spec's syntax tree against SPEC_SCHEMA: every problem with the node it is about, in the
 * wording the spec's users see (did-you-mean for misspelt fields and values, the variant of `data` meant).
 */
import type { Node } from 'jsonc-parser';
import { didYouMean } from '../errors';
import type { JsonSchema } from '../specSchema';

export interface SchemaProblem {
  message: string;
  node: Node | undefined;
  field: string;
}
type Problem = SchemaProblem;

/** Every way `root` breaks `schema`, in document order. */
export function schemaProblems(root: Node, schema: JsonSchema): SchemaProblem[] {
  const out: Problem[] = [];
  validateNode(root, schema, '', out);
  return out;
}

const jsonType = (node: Node): string => {
  if (node.type === 'number') return Number.isInteger(node.value) ? 'integer' : 'number';
  return node.type;
};

function validateNode(node: Node, schema: JsonSchema, field: string, out: Problem[]): void {
  const at = field || 'the spec';
  if (schema.oneOf) {
    validateOneOf(node, schema, field, out);
    return;
  }
  if (schema.type) {
    const actual = jsonType(node);
    const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!ok) {
      const shown = node.type === 'string' ? JSON.stringify(node.value) : node.type === 'number' ? String(node.value) : node.type;
      out.push({ message: `${at} must be ${article(schema.type)}, not ${shown}`, node, field });
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(node.value as string | number)) {
    const guess = typeof node.value === 'string' ? didYouMean(node.value, schema.enum.map(String)) : undefined;
    out.push({
      message: `${at} is ${JSON.stringify(node.value)}; expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}`,
      node,
      field,
    });
  }
  if (node.type === 'number') {
    const v = node.value as number;
    if (schema.minimum !== undefined && v < schema.minimum) out.push({ message: `${at} is ${v}; it must be at least ${schema.minimum}`, node, field });
    if (schema.maximum !== undefined && v > schema.maximum) out.push({ message: `${at} is ${v}; it must be at most ${schema.maximum}`, node, field });
    if (schema.exclusiveMinimum !== undefined && v <= schema.exclusiveMinimum)
      out.push({ message: `${at} is ${v}; it must be greater than ${schema.exclusiveMinimum}`, node, field });
  }
  if (node.type === 'string' && schema.minLength !== undefined && (node.value as string).length < schema.minLength) {
    out.push({ message: `${at} must not be empty`, node, field });
  }
  if (node.type === 'array') {
    const items = node.children ?? [];
    if (schema.minItems !== undefined && items.length < schema.minItems) out.push({ message: `${at} needs at least ${schema.minItems} entries`, node, field });
    if (schema.maxItems !== undefined && items.length > schema.maxItems)
      out.push({ message: `${at} may have at most ${schema.maxItems} entries`, node, field });
    if (schema.items) items.forEach((child, i) => validateNode(child, schema.items!, `${field}[${i}]`, out));
  }
  if (node.type === 'object') validateObject(node, schema, field, out);
}

function validateObject(node: Node, schema: JsonSchema, field: string, out: Problem[]): void {
  const props = schema.properties ?? {};
  const seen = new Set<string>();
  for (const pair of node.children ?? []) {
    const keyNode = pair.children?.[0];
    const valueNode = pair.children?.[1];
    if (!keyNode) continue;
    const key = keyNode.value as string;
    const sub = field ? `${field}.${key}` : key;
    if (seen.has(key)) out.push({ message: `${sub} is given twice`, node: keyNode, field: sub });
    seen.add(key);
    // Own properties only: "__proto__", "constructor" or "toString" must not find Object.prototype's.
    const propSchema = Object.hasOwn(props, key) ? props[key] : undefined;
    if (!propSchema) {
      if (schema.additionalProperties === false || PROTOTYPE_KEYS.has(key)) {
        const guess = didYouMean(key, Object.keys(props));
        const known = Object.keys(props).filter((k) => k !== '$schema');
        out.push({
          message: `unknown field ${JSON.stringify(key)} in ${field || 'the spec'}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : `; known fields: ${known.join(', ')}`}`,
          node: keyNode,
          field: sub,
        });
      }
      continue;
    }
    if (valueNode) validateNode(valueNode, propSchema, sub, out);
  }
  for (const req of requiredFields(schema, seen)) {
    if (!seen.has(req)) {
      const desc = props[req]?.description;
      out.push({
        message: `${field || 'the spec'} is missing the required field ${JSON.stringify(req)}${desc ? ` (${desc})` : ''}`,
        node,
        field: field ? `${field}.${req}` : req,
      });
    }
  }
}

/** `required`, or with `anyOf` the first variant whose fields are all there (else the first variant's, for its messages). */
function requiredFields(schema: JsonSchema, seen: Set<string>): readonly string[] {
  if (!schema.anyOf) return schema.required ?? [];
  const variants = schema.anyOf.map((v) => v.required ?? []);
  return variants.find((req) => req.every((r) => seen.has(r))) ?? variants[0] ?? [];
}

/** For `data`: pick the variant by its identifying required key, then validate against it. */
function validateOneOf(node: Node, schema: JsonSchema, field: string, out: Problem[]): void {
  if (node.type !== 'object') {
    out.push({ message: `${field} must be an object such as {"path": "data.csv"} or {"synthetic": "swiss_roll"}`, node, field });
    return;
  }
  const keys = new Set((node.children ?? []).map((p) => p.children?.[0]?.value as string));
  const variants = schema.oneOf!;
  const matching = variants.filter((v) => (v.required ?? []).every((r) => keys.has(r)));
  if (matching.length === 1) {
    validateNode(node, matching[0]!, field, out);
    return;
  }
  const ids = variants.map((v) => JSON.stringify(v.required?.[0]));
  if (matching.length === 0) {
    // "sythetic" or "pth": say which key was meant rather than only that none was given.
    const variantKeys = variants.map((v) => v.required?.[0] ?? '');
    const known = new Set(variants.flatMap((v) => Object.keys(v.properties ?? {})));
    const misspelt = (node.children ?? []).flatMap((pair) => {
      const keyNode = pair.children?.[0];
      const key = keyNode?.value as string | undefined;
      const guess = key === undefined || known.has(key) ? undefined : didYouMean(key, variantKeys);
      return keyNode && key !== undefined && guess ? [{ keyNode, key, guess }] : [];
    });
    for (const m of misspelt)
      out.push({
        message: `unknown field ${JSON.stringify(m.key)} in ${field} (did you mean ${JSON.stringify(m.guess)}?)`,
        node: m.keyNode,
        field: `${field}.${m.key}`,
      });
    if (misspelt.length > 0) return;
  }
  out.push({
    message: matching.length === 0 ? `${field} needs exactly one of ${ids.join(' or ')}` : `${field} has both ${ids.join(' and ')}; give only one`,
    node,
    field,
  });
}

/** Keys that reach or replace an object's prototype when assigned; never a field of a spec. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const article = (t: string) => (t === 'object' || t === 'array' || t === 'integer' ? `an ${t}` : `a ${t}`);
