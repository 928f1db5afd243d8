/**
 * The spec's networks against its data, as the user types: shape problems located on the layer
 * that breaks the chain, and the per-layer shapes and parameter counts shown on hover. The
 * data's shape comes from `data.shape`, the header of an IDX or NPY file, or the dimension of a
 * synthetic set. Pure apart from reading a data file's first bytes; no vscode.
 */
import { findNodeAtOffset, getNodePath, parseTree } from 'jsonc-parser';
import { describePlan, formatShape, networkDataShape, networkParameters, planNetworks, type NetworkPlan, type PlannedLayer } from '../../core/layers';
import { MODEL_TYPE_INFO } from '../../core/modelTypes';
import type { VaeSpec } from '../../core/spec';
import { detectFormat, resolveDataPath } from '../../data/load';
import { channelsLast } from '../../core/imageLayout';
import { peekExampleShape } from '../../data/peekShape';
import { generateSynthetic } from '../../data/synthetic';

/** What the checks may read: a data file's first bytes, only where the workspace is trusted. */
export interface SpecCheckOptions {
  /** Restricted Mode: do not touch data files at all. */
  trusted: boolean;
  workspaceRoots: string[];
  allowOutsideWorkspace: boolean;
}

/** One example's shape, or undefined when it cannot be known without loading the data. */
export function specDataShape(spec: VaeSpec, specPath: string, opts: SpecCheckOptions): number[] | undefined {
  const d = spec.data;
  if (d.shape) return channelsLast(d.shape, d.layout);
  if (d.kind === 'synthetic') {
    try {
      return [generateSynthetic({ ...d, n: 2 }).dim];
    } catch {
      return undefined;
    }
  }
  if (!opts.trusted) return undefined;
  try {
    const file = resolveDataPath(d, specPath, {
      workspaceRoots: opts.workspaceRoots.length > 0 ? opts.workspaceRoots : undefined,
      allowOutsideWorkspace: opts.allowOutsideWorkspace,
    });
    return peekExampleShape(file, detectFormat(d, specPath), d.layout);
  } catch {
    return undefined;
  }
}

export interface SpecPlan {
  plan?: NetworkPlan;
  problems: { message: string; field: string }[];
  dataShape: number[];
}

/** The plan of the spec's networks on its data; undefined when the data's shape is unknown. */
export function planSpec(spec: VaeSpec, specPath: string, opts: SpecCheckOptions): SpecPlan | undefined {
  const shape = specDataShape(spec, specPath, opts);
  if (!shape) return undefined;
  const dim = shape.reduce((a, b) => a * b, 1);
  const dataShape = networkDataShape(dim, shape);
  const perPoint = MODEL_TYPE_INFO[spec.model.type].decoderVariance === 'per-point';
  return { ...planNetworks(spec.model, dataShape, perPoint), dataShape };
}

const layerLine = (l: PlannedLayer) =>
  `\`${l.layer.type}\` ${formatShape(l.input)} → **${formatShape(l.output)}**, ${l.params.toLocaleString('en-US')} parameters`;

/**
 * Markdown for a hover at `offset`: on a layer, its shapes and parameters; on `model`,
 * `encoder`, `decoder` or `layers`, the whole table and the total.
 */
export function layerHover(text: string, offset: number, planned: SpecPlan): string | undefined {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root) return undefined;
  const node = findNodeAtOffset(root, offset);
  const path = node ? getNodePath(node) : [];
  if (path[0] !== 'model') return undefined;
  const part = path[1];
  if (!planned.plan) {
    return planned.problems.length > 0 && (part === 'encoder' || part === 'decoder')
      ? `**Shapes**: ${planned.problems.map((p) => p.message).join('; ')}`
      : undefined;
  }
  const plan = planned.plan;
  if ((part === 'encoder' || part === 'decoder') && path[2] === 'layers' && typeof path[3] === 'number') {
    const l = plan[part].find((x) => x.field === `model.${part}.layers[${path[3]}]`);
    if (!l) return undefined;
    const role = part === 'decoder' && plan.decoder.indexOf(l) === plan.output ? ' (the output layer)' : '';
    return `**${part}.layers[${path[3]}]**${role}: ${layerLine(l)}`;
  }
  if (path.length <= 3 && (part === undefined || part === 'encoder' || part === 'decoder' || part === 'type' || part === 'latentDim')) {
    return [
      `**Network** on data ${formatShape(planned.dataShape)}: ${networkParameters(plan).toLocaleString('en-US')} weights`,
      '',
      '```',
      ...describePlan(plan),
      '```',
    ].join('\n');
  }
  return undefined;
}
