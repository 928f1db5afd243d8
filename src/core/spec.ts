/**
 * `*.vae.json` specs: parse (comments allowed), validate against SPEC_SCHEMA with
 * file/line/column/field for every problem, fill in defaults, and list the
 * warnings where the entropy theorem cannot hold.
 */
import * as path from 'node:path';
import { createScanner, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { didYouMean, lineStarts, positionIn, UserError, type SourceLocation } from './errors';
import { SPEC_SCHEMA, type JsonSchema, type ACTIVATIONS, type BACKENDS, type DATA_FORMATS, type SCALINGS, type SYNTHETIC_KINDS } from './specSchema';
import { DEFAULT_DIAGNOSTIC_SUBSET, SPEC_DEFAULTS } from './defaults';
import { layerFieldProblems, type LayerSpec } from './layers';
import { MODEL_TYPE_INFO, type ModelType } from './modelTypes';
import { scriptSpecProblems, scriptSpecWithDefaults, type ParsedScriptSpec, type RawScriptSpec } from './scriptSpec';

export type { ModelType };
export { DEFAULT_DIAGNOSTIC_SUBSET };

export type SyntheticKind = (typeof SYNTHETIC_KINDS)[number];
export type Activation = (typeof ACTIVATIONS)[number];
export type DataFormat = (typeof DATA_FORMATS)[number];
export type Scaling = (typeof SCALINGS)[number];
export type BackendChoice = (typeof BACKENDS)[number];

interface CommonData {
  scale?: Scaling;
  /** One example's image shape, stated in the spec (IDX and NPY know theirs). */
  shape?: number[];
  limit?: number;
  validation: number;
}
export interface FileDataSpec extends CommonData {
  kind: 'file';
  path: string;
  format?: DataFormat;
  header?: boolean;
}
export interface SyntheticDataSpec extends CommonData {
  kind: 'synthetic';
  synthetic: SyntheticKind;
  n: number;
  noise: number;
  seed: number;
  dim?: number;
  intrinsicDim?: number;
}
export type DataSpec = FileDataSpec | SyntheticDataSpec;

export interface NetworkSpec {
  hidden: number[];
  activation: Activation;
  /** Explicit layers, instead of `hidden` (core/layers.ts). */
  layers?: LayerSpec[];
}

export interface ModelSpec {
  type: ModelType;
  latentDim: number;
  encoder: NetworkSpec;
  decoder: NetworkSpec;
  decoderVariance: 'scalar' | 'per-dimension';
  varianceUpdate: 'gradient' | 'optimal';
  /** Undefined: chosen from the data (see initialDecoderVariance). */
  initialVariance?: number;
}

export interface TrainingSpec {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'adam';
  schedule: 'constant' | 'cosine';
  seed: number;
  checkpointEvery: number;
  backend: BackendChoice;
  /** Threads for the wasm engine's products and updates; undefined: the machine's cores (src/train/threads.ts). */
  threads?: number;
}

export interface DiagnosticsSpec {
  every: number;
  mcSamples: number;
  /** Undefined: all training points up to DEFAULT_DIAGNOSTIC_SUBSET. */
  subset?: number;
  tolerance: number;
  window: number;
}

/** A spec with every default filled in: the one config object the trainer reads. */
export interface VaeSpec {
  name: string;
  data: DataSpec;
  model: ModelSpec;
  training: TrainingSpec;
  diagnostics: DiagnosticsSpec;
  output: { runsDir?: string };
}

export interface SpecWarning {
  message: string;
  location: SourceLocation;
}

export interface ParsedSpec {
  spec: VaeSpec;
  warnings: SpecWarning[];
  /** The text as read, kept for the run folder's snapshot. */
  text: string;
}

interface Problem {
  message: string;
  node: Node | undefined;
  field: string;
}

/** A spec file: a model for VAE Lens's trainer, or a training script to run (core/scriptSpec.ts). */
export type SpecDocument = { kind: 'model'; parsed: ParsedSpec } | { kind: 'script'; parsed: ParsedScriptSpec };

/**
 * Parse and validate a model spec. Throws a UserError listing every problem found
 * (the first as the error itself, the rest in `more`), and for a script spec.
 */
export function parseSpec(original: string, file = 'spec.vae.json'): ParsedSpec {
  const doc = parseSpecDocument(original, file);
  if (doc.kind === 'script')
    throw new UserError(
      `${path.basename(file)} runs a training script (trainer.command): it defines no model for VAE Lens's own trainer`,
      doc.parsed.trainerLocation,
    );
  return doc.parsed;
}

/** Parse and validate either kind of spec; throws a UserError as parseSpec does. */
export function parseSpecDocument(original: string, file = 'spec.vae.json'): SpecDocument {
  // Editors that save a UTF-8 byte order mark hide it; locations are counted as they show the text.
  const text = original.charCodeAt(0) === 0xfeff ? original.slice(1) : original;
  const lineColumn = lineIndex(text);
  const locate = (node: Node | undefined, field: string, offset?: number, length?: number): SourceLocation => {
    const off = offset ?? node?.offset ?? 0;
    return { file, ...lineColumn(off), offset: off, length: length ?? node?.length ?? 1, field: field || undefined };
  };
  // jsonc-parser recurses once per level: thousands of "[" would overflow the stack.
  const tooDeep = offsetBeyondDepth(text, MAX_NESTING);
  if (tooDeep !== undefined)
    throw new UserError(`invalid spec: nested more than ${MAX_NESTING} levels deep; a spec needs at most 4`, locate(undefined, '', tooDeep, 1));
  const parseErrors: ParseError[] = [];
  const root = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
  if (parseErrors.length > 0 || !root) {
    const errs = parseErrors.map((e) => ({
      message: `invalid JSON: ${describeParseError(printParseErrorCode(e.error))}`,
      location: locate(undefined, '', e.offset, e.length),
    }));
    if (errs.length === 0) errs.push({ message: 'the file is empty; a spec is a JSON object', location: locate(undefined, '', 0, 0) });
    throw new UserError(errs[0]!.message, errs[0]!.location, errs.slice(1));
  }

  const problems: Problem[] = [];
  validateNode(root, SPEC_SCHEMA, '', problems);
  if (problems.length > 0) {
    const errs = problems.map((p) => ({ message: p.message, location: locate(p.node, p.field) }));
    throw new UserError(errs[0]!.message, errs[0]!.location, errs.slice(1));
  }

  const raw = nodeValue(root) as RawSpec;
  if ((raw as Partial<RawScriptSpec>).trainer !== undefined) {
    const rawScript = raw as unknown as RawScriptSpec & Record<string, unknown>;
    const bad = scriptSpecProblems(rawScript).map((p) => ({ message: p.message, location: locate(findNode(root, p.field), p.field) }));
    if (bad.length > 0) throw new UserError(bad[0]!.message, bad[0]!.location, bad.slice(1));
    const trainerLocation = locate(findNode(root, 'trainer'), 'trainer');
    return { kind: 'script', parsed: { spec: scriptSpecWithDefaults(rawScript, file), warnings: [], text: original, trainerLocation } };
  }
  const spec = withDefaults(raw, file);
  const semantic = semanticProblems(spec, raw);
  if (semantic.length > 0) {
    const errs = semantic.map((p) => ({ message: p.message, location: locate(findNode(root, p.field), p.field) }));
    throw new UserError(errs[0]!.message, errs[0]!.location, errs.slice(1));
  }
  const warnings = theoremWarnings(spec).map((w) => ({ message: w.message, location: locate(findNode(root, w.field), w.field) }));
  return { kind: 'model', parsed: { spec, warnings, text: original } };
}

/** 1-based line and column for many offsets in one text (a file with thousands of problems stays O(n log n)). */
function lineIndex(text: string): (offset: number) => { line: number; column: number } {
  const starts = lineStarts(text);
  return (offset) => {
    const p = positionIn(starts, text, offset);
    return { line: p.line + 1, column: p.character + 1 };
  };
}

const MAX_NESTING = 64;

/** Offset of the first "{" or "[" that opens level `max + 1`, found without recursion (strings and comments skipped). */
function offsetBeyondDepth(text: string, max: number): number | undefined {
  const OPEN_BRACE = 1;
  const CLOSE_BRACE = 2;
  const OPEN_BRACKET = 3;
  const CLOSE_BRACKET = 4;
  const EOF = 17;
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== EOF; token = scanner.scan()) {
    if (token === OPEN_BRACE || token === OPEN_BRACKET) {
      if (++depth > max) return scanner.getTokenOffset();
    } else if (token === CLOSE_BRACE || token === CLOSE_BRACKET) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

function describeParseError(code: string): string {
  const map: Record<string, string> = {
    InvalidSymbol: 'unexpected character',
    InvalidNumberFormat: 'malformed number',
    PropertyNameExpected: 'expected a property name in double quotes',
    ValueExpected: 'expected a value',
    ColonExpected: 'expected ":" after the property name',
    CommaExpected: 'expected "," between entries',
    CloseBraceExpected: 'expected "}"',
    CloseBracketExpected: 'expected "]"',
    EndOfFileExpected: 'unexpected text after the closing "}"',
    UnexpectedEndOfString: 'unterminated string',
    UnexpectedEndOfComment: 'unterminated comment',
    UnexpectedEndOfNumber: 'unterminated number',
  };
  return map[code] ?? code;
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

function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object': {
      // No prototype: a key such as "__proto__" is then a plain own entry, never the object's prototype.
      const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const pair of node.children ?? []) {
        const [k, v] = pair.children ?? [];
        if (k && v) o[k.value as string] = nodeValue(v);
      }
      return o;
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

function findNode(root: Node, field: string): Node | undefined {
  let node: Node | undefined = root;
  for (const part of field.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')) {
    if (!node) return undefined;
    if (node.type === 'array') node = node.children?.[Number(part)];
    else node = node.children?.find((p) => p.children?.[0]?.value === part)?.children?.[1];
  }
  return node;
}

/** Shapes as they come out of validation: the schema guarantees the types. */
interface RawSpec {
  name?: string;
  data: Record<string, unknown>;
  model: Partial<Omit<ModelSpec, 'encoder' | 'decoder'>> & { latentDim: number; encoder?: Partial<NetworkSpec>; decoder?: Partial<NetworkSpec> };
  training?: Partial<TrainingSpec>;
  diagnostics?: Partial<DiagnosticsSpec>;
  output?: { runsDir?: string };
}

function withDefaults(raw: RawSpec, file: string): VaeSpec {
  const d = raw.data;
  const common = {
    scale: d.scale as Scaling | undefined,
    limit: d.limit as number | undefined,
    ...(Array.isArray(d.shape) ? { shape: d.shape as number[] } : {}),
    validation: (d.validation as number | undefined) ?? SPEC_DEFAULTS.data.validation,
  };
  const data: DataSpec =
    typeof d.path === 'string'
      ? { kind: 'file', path: d.path, format: d.format as DataFormat | undefined, header: d.header as boolean | undefined, ...common }
      : {
          kind: 'synthetic',
          synthetic: d.synthetic as SyntheticKind,
          n: (d.n as number | undefined) ?? SPEC_DEFAULTS.data.n,
          noise: (d.noise as number | undefined) ?? SPEC_DEFAULTS.data.noise,
          seed: (d.seed as number | undefined) ?? SPEC_DEFAULTS.data.seed,
          dim: d.dim as number | undefined,
          intrinsicDim: d.intrinsicDim as number | undefined,
          ...common,
        };
  const net = (n: Partial<NetworkSpec> | undefined): NetworkSpec => ({
    hidden: n?.hidden ?? [...SPEC_DEFAULTS.model.hidden],
    activation: n?.activation ?? SPEC_DEFAULTS.model.activation,
    ...(n?.layers ? { layers: n.layers } : {}),
  });
  const m = raw.model;
  const t = raw.training ?? {};
  const g = raw.diagnostics ?? {};
  const type = m.type ?? SPEC_DEFAULTS.model.type;
  const TD = SPEC_DEFAULTS.training;
  const GD = SPEC_DEFAULTS.diagnostics;
  const baseName = file
    .replace(/\\/g, '/')
    .split('/')
    .pop()!
    .replace(/\.vae\.json$|\.json$/, '');
  return {
    name: raw.name ?? baseName,
    data,
    model: {
      type,
      latentDim: m.latentDim,
      encoder: net(m.encoder),
      decoder: net(m.decoder),
      decoderVariance: m.decoderVariance ?? SPEC_DEFAULTS.model.decoderVariance,
      varianceUpdate: m.varianceUpdate ?? SPEC_DEFAULTS.model.varianceUpdate,
      initialVariance: m.initialVariance ?? MODEL_TYPE_INFO[type].defaultInitialVariance,
    },
    training: {
      epochs: t.epochs ?? TD.epochs,
      batchSize: t.batchSize ?? TD.batchSize,
      learningRate: t.learningRate ?? TD.learningRate,
      optimizer: TD.optimizer,
      schedule: t.schedule ?? TD.schedule,
      seed: t.seed ?? TD.seed,
      checkpointEvery: t.checkpointEvery ?? TD.checkpointEvery,
      backend: t.backend ?? TD.backend,
      threads: t.threads,
    },
    diagnostics: {
      every: g.every ?? GD.every,
      mcSamples: g.mcSamples ?? GD.mcSamples,
      subset: g.subset,
      tolerance: g.tolerance ?? GD.tolerance,
      window: g.window ?? GD.window,
    },
    output: { runsDir: raw.output?.runsDir },
  };
}

/** Problems the schema alone cannot express. */
function semanticProblems(spec: VaeSpec, raw: RawSpec): { message: string; field: string }[] {
  const out: { message: string; field: string }[] = [];
  const d = spec.data;
  if (d.kind === 'synthetic') {
    if ((d.synthetic === 'manifold' || d.synthetic === 'ppca' || d.synthetic === 'ring') && d.dim === undefined)
      out.push({ message: `data.dim is required for the "${d.synthetic}" set (the observed dimension D)`, field: 'data.synthetic' });
    if (d.synthetic === 'manifold' && d.intrinsicDim !== undefined && d.dim !== undefined && d.intrinsicDim >= d.dim)
      out.push({ message: `data.intrinsicDim (${d.intrinsicDim}) must be smaller than data.dim (${d.dim})`, field: 'data.intrinsicDim' });
  }
  for (const part of ['encoder', 'decoder'] as const) {
    const net = spec.model[part];
    if (net.layers && raw.model[part]?.hidden !== undefined)
      out.push({ message: `model.${part}: give either "hidden" or "layers", not both`, field: `model.${part}.hidden` });
    if (net.layers) out.push(...layerFieldProblems(net.layers, `model.${part}.layers`));
  }
  if (MODEL_TYPE_INFO[spec.model.type].decoderVariance === 'per-point' && spec.model.varianceUpdate === 'optimal')
    out.push({
      message: `model.varianceUpdate "optimal" has no closed form for ${spec.model.type} (the variance depends on z); use "gradient"`,
      field: 'model.varianceUpdate',
    });
  return out;
}

/** Where the entropy result will not hold, or the diagnostics will mislead. */
export function theoremWarnings(spec: VaeSpec): { message: string; field: string }[] {
  const out: { message: string; field: string }[] = [];
  const m = spec.model;
  const info = MODEL_TYPE_INFO[m.type];
  if (info.theoremNote) out.push({ message: info.theoremNote, field: 'model.type' });
  if (info.decoderVariance === 'fixed' && m.varianceUpdate === 'optimal')
    out.push({ message: `varianceUpdate has no effect for ${m.type} (its variance is fixed)`, field: 'model.varianceUpdate' });
  if (!m.decoder.layers && m.decoder.hidden.length > 0 && m.decoder.activation === 'linear')
    out.push({
      message: 'linear activations make the hidden layers collapse to one linear map; use "hidden": [] for a linear decoder',
      field: 'model.decoder.activation',
    });
  if (spec.diagnostics.mcSamples === 1)
    out.push({ message: 'with one Monte-Carlo sample the ELBO standard error cannot be estimated; use 2 or more', field: 'diagnostics.mcSamples' });
  return out;
}

/**
 * Where a field of a spec is in its text (line, column, offset), for problems found after
 * parsing (a layer that does not fit the data): the location as given when it is not there.
 */
export function locateInSpec(text: string, location: SourceLocation): SourceLocation {
  if (location.field === undefined || location.line !== undefined) return location;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const root = parseTree(body, [], { allowTrailingComma: true, disallowComments: false });
  const node = root && findNode(root, location.field);
  if (!node) return location;
  return { ...location, ...lineIndex(body)(node.offset), offset: node.offset, length: node.length };
}

/** The starting decoder variance: the spec's, else 5% of the data's mean per-dimension variance. */
export function initialDecoderVariance(model: ModelSpec, meanDataVariance: number): number {
  if (model.initialVariance !== undefined) return model.initialVariance;
  return meanDataVariance > 0 && Number.isFinite(meanDataVariance) ? 0.05 * meanDataVariance : 1;
}

/** Resolve the runs folder for a spec file (a model spec or a script spec). */
export function runsDirFor(spec: Pick<VaeSpec, 'output'>, specPath: string): string {
  const base = path.dirname(specPath);
  const r = spec.output.runsDir;
  if (!r) return path.join(base, '.vae-lens', 'runs');
  return path.isAbsolute(r) ? r : path.join(base, r);
}
