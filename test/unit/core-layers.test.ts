/**
 * Shape inference for layer lists (src/core/layers.ts): every layer type's output shape and
 * parameter count against values worked out by hand, and each way a chain can break reported
 * on the layer that breaks it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describePlan, layerOutput, networkDataShape, networkParameters, planNetworks, type Layer, type LayerSpec } from '../../src/core/layers';
import { parseSpec } from '../../src/core/spec';
import { isUserError } from '../../src/core/errors';

const CASES: { layer: Layer; input: number[]; output: number[]; params: number; why: string }[] = [
  { layer: { type: 'dense', units: 512, activation: 'relu' }, input: [784], output: [512], params: 401920, why: '(784 + 1) · 512' },
  {
    layer: { type: 'conv2d', filters: 32, kernel: 4, stride: 2, padding: 'same', activation: 'relu' },
    input: [28, 28, 1],
    output: [14, 14, 32],
    params: 544,
    why: '4·4·1·32 + 32; ⌈28/2⌉',
  },
  {
    layer: { type: 'conv2d', filters: 64, kernel: 4, stride: 2, padding: 'same', activation: 'relu' },
    input: [14, 14, 32],
    output: [7, 7, 64],
    params: 32832,
    why: '4·4·32·64 + 64',
  },
  {
    layer: { type: 'conv2d', filters: 8, kernel: 3, stride: 2, padding: 'same', activation: 'relu' },
    input: [7, 7, 4],
    output: [4, 4, 8],
    params: 296,
    why: '⌈7/2⌉ = 4; 3·3·4·8 + 8',
  },
  {
    layer: { type: 'conv2d', filters: 7, kernel: 5, stride: 1, padding: 'valid', activation: 'relu' },
    input: [9, 11, 3],
    output: [5, 7, 7],
    params: 532,
    why: '9 − 5 + 1, 11 − 5 + 1; 5·5·3·7 + 7',
  },
  {
    layer: { type: 'conv2d', filters: 2, kernel: 3, stride: 2, padding: 'valid', activation: 'relu' },
    input: [10, 10, 1],
    output: [4, 4, 2],
    params: 20,
    why: '⌊(10 − 3)/2⌋ + 1 = 4; 3·3·1·2 + 2',
  },
  {
    layer: { type: 'conv2dTranspose', filters: 32, kernel: 4, stride: 2, padding: 'same', activation: 'relu' },
    input: [7, 7, 64],
    output: [14, 14, 32],
    params: 32800,
    why: '7·2; 4·4·64·32 + 32',
  },
  {
    layer: { type: 'conv2dTranspose', filters: 1, kernel: 4, stride: 2, padding: 'same', activation: 'linear' },
    input: [14, 14, 32],
    output: [28, 28, 1],
    params: 513,
    why: '4·4·32·1 + 1',
  },
  {
    layer: { type: 'conv2dTranspose', filters: 5, kernel: 3, stride: 2, padding: 'valid', activation: 'relu' },
    input: [4, 5, 3],
    output: [9, 11, 5],
    params: 140,
    why: '(4 − 1)·2 + 3, (5 − 1)·2 + 3; 3·3·3·5 + 5',
  },
  { layer: { type: 'upsample2d', size: 2 }, input: [7, 7, 64], output: [14, 14, 64], params: 0, why: 'nearest neighbour, no weights' },
  { layer: { type: 'upsample2d', size: 3 }, input: [2, 5, 1], output: [6, 15, 1], params: 0, why: '' },
  { layer: { type: 'flatten' }, input: [7, 7, 64], output: [3136], params: 0, why: '7·7·64' },
  { layer: { type: 'reshape', shape: [7, 7, 64] }, input: [3136], output: [7, 7, 64], params: 0, why: '' },
];

for (const c of CASES) {
  test(`${c.layer.type} ${c.input.join('×')} → ${c.output.join('×')}, ${c.params} parameters ${c.why}`, () => {
    assert.deepEqual(layerOutput(c.layer, c.input), { output: c.output, params: c.params });
  });
}

const BROKEN: { layer: Layer; input: number[]; problem: RegExp }[] = [
  {
    layer: { type: 'dense', units: 4, activation: 'relu' },
    input: [7, 7, 64],
    problem: /dense needs a flat input, and its input is 7×7×64; put \{"type": "flatten"\} before it/,
  },
  {
    layer: { type: 'conv2d', filters: 4, kernel: 3, stride: 1, padding: 'same', activation: 'relu' },
    input: [784],
    problem: /conv2d needs an image input .* its input is 784/,
  },
  {
    layer: { type: 'conv2d', filters: 4, kernel: 5, stride: 1, padding: 'valid', activation: 'relu' },
    input: [3, 3, 1],
    problem: /the 5×5 kernel does not fit the 3×3 input with padding "valid"/,
  },
  { layer: { type: 'reshape', shape: [7, 7, 32] }, input: [3136], problem: /cannot reshape 3136 \(3136 values\) to 7×7×32 \(1568 values\)/ },
  { layer: { type: 'upsample2d', size: 2 }, input: [20], problem: /upsample2d needs an image input/ },
];

for (const b of BROKEN) {
  test(`${b.layer.type} on ${b.input.join('×')} is refused with a reason`, () => {
    const r = layerOutput(b.layer, b.input);
    assert.ok('problem' in r, 'accepted');
    assert.match(r.problem, b.problem);
  });
}

const net = (layers: LayerSpec[] | undefined, hidden: number[] = [64]) => ({ hidden, activation: 'relu' as const, layers });
const ENCODER: LayerSpec[] = [
  { type: 'conv2d', filters: 32, kernel: 4, stride: 2 },
  { type: 'conv2d', filters: 64, kernel: 4, stride: 2 },
];
const DECODER: LayerSpec[] = [
  { type: 'dense', units: 3136 },
  { type: 'reshape', shape: [7, 7, 64] },
  { type: 'conv2dTranspose', filters: 32, kernel: 4, stride: 2 },
  { type: 'conv2dTranspose', filters: 1, kernel: 4, stride: 2 },
];

test('the convolutional example: every layer planned, the output layer linear, parameters summed', () => {
  const { plan, problems } = planNetworks({ latentDim: 20, encoder: net(ENCODER), decoder: net(DECODER) }, networkDataShape(784, [28, 28]), false);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    plan!.encoder.map((l) => l.output),
    [
      [14, 14, 32],
      [7, 7, 64],
    ],
  );
  assert.deepEqual(plan!.heads, { input: 3136, latentDim: 20, params: 2 * 3137 * 20 });
  assert.deepEqual(
    plan!.decoder.map((l) => l.output),
    [[3136], [7, 7, 64], [14, 14, 32], [28, 28, 1]],
  );
  assert.equal(plan!.output, 3);
  const out = plan!.decoder[3]!.layer;
  assert.ok(out.type === 'conv2dTranspose' && out.activation === 'linear', 'the output layer is linear');
  const hidden = plan!.decoder[2]!.layer;
  assert.ok(hidden.type === 'conv2dTranspose' && hidden.activation === 'relu', 'other layers take the network activation');
  // 544 + 32832 + heads 125480 + dense (20+1)·3136 = 65856 + 32800 + 513
  assert.equal(networkParameters(plan!), 544 + 32832 + 125480 + 65856 + 32800 + 513);
  assert.match(describePlan(plan!).join('\n'), /decoder\.layers\[2\]  conv2dTranspose  7×7×64 → 14×14×32  32,800/);
});

test('VAE-3 adds a twin of the output layer; its parameters are counted', () => {
  const plain = planNetworks({ latentDim: 20, encoder: net(ENCODER), decoder: net(DECODER) }, [28, 28, 1], false).plan!;
  const twin = planNetworks({ latentDim: 20, encoder: net(ENCODER), decoder: net(DECODER) }, [28, 28, 1], true).plan!;
  assert.equal(networkParameters(twin) - networkParameters(plain), 513);
});

test("a decoder that does not end in the data's shape is reported on its last layer, in the issue's words", () => {
  const short = DECODER.slice(0, 3);
  const { plan, problems } = planNetworks({ latentDim: 20, encoder: net(ENCODER), decoder: net(short) }, [28, 28, 1], false);
  assert.equal(plan, undefined);
  assert.deepEqual(problems, [{ message: 'model.decoder.layers[2]: output 14×14×32, the data is 28×28×1', field: 'model.decoder.layers[2]' }]);
});

test('a grey image may end in height×width, as data.shape [h, w] says it; another arrangement of its values may not', () => {
  const ending = (shape: number[]): LayerSpec[] => [
    { type: 'dense', units: 784 },
    { type: 'reshape', shape },
  ];
  const plan = (shape: number[], data: number[]) => planNetworks({ latentDim: 2, encoder: net(ENCODER), decoder: net(ending(shape)) }, data, false);
  for (const [shape, data] of [
    [
      [28, 28],
      [28, 28, 1],
    ],
    [
      [28, 28, 1],
      [28, 28, 1],
    ],
    [[784], [28, 28, 1]],
  ] as const)
    assert.deepEqual(plan([...shape], [...data]).problems, [], `${shape.join('x')} on ${data.join('x')}`);
  for (const [shape, message] of [
    [[28, 28, 1, 1], 'output 28×28×1×1'],
    [[14, 56], 'output 14×56'],
    [[1, 28, 28], 'output 1×28×28'],
  ] as const)
    assert.deepEqual(plan([...shape], [28, 28, 1]).problems, [
      { message: `model.decoder.layers[1]: ${message}, the data is 28×28×1`, field: 'model.decoder.layers[1]' },
    ]);
  // Colour images keep their channels.
  assert.equal(plan([28, 28], [28, 14, 2]).problems.length, 1);
});

test('a break in the middle of a chain is reported on that layer, not at the end', () => {
  const bad: LayerSpec[] = [DECODER[0]!, { type: 'reshape', shape: [7, 7, 32] }, ...DECODER.slice(2)];
  const { problems } = planNetworks({ latentDim: 20, encoder: net(ENCODER), decoder: net(bad) }, [28, 28, 1], false);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.field, 'model.decoder.layers[1]');
});

test('the hidden shorthand is the MLP it always was: flat input, dense output layer named dec_mean', () => {
  const { plan } = planNetworks({ latentDim: 2, encoder: net(undefined, [512]), decoder: net(undefined, [512]) }, networkDataShape(784, [28, 28]), false);
  assert.deepEqual(plan!.encoder[0]!.input, [784]);
  assert.deepEqual(
    plan!.decoder.map((l) => [l.name, l.params]),
    [
      ['dec0', 3 * 512],
      ['dec_mean', 513 * 784],
    ],
  );
});

test('a decoder without a layer with weights is refused', () => {
  const { problems } = planNetworks({ latentDim: 4, encoder: net([]), decoder: net([{ type: 'flatten' }]) }, [4], false);
  assert.match(problems.map((p) => p.message).join('\n'), /the decoder needs a dense, conv2d or conv2dTranspose layer/);
});

function specError(text: string): { message: string; fields: string[] } {
  try {
    parseSpec(text, 'c.vae.json');
  } catch (e) {
    assert.ok(isUserError(e));
    return { message: e.message, fields: [e.location.field ?? '', ...e.more.map((m) => m.location.field ?? '')] };
  }
  assert.fail('accepted');
}

test('a field the layer type does not take, and a missing one, are located errors of the spec', () => {
  const e = specError(
    '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2, "encoder": { "layers": [ { "type": "conv2d", "filters": 4, "units": 3 } ] } } }',
  );
  assert.match(e.message, /model\.encoder\.layers\[0\]: "units" does not apply to a conv2d layer/);
  assert.deepEqual(e.fields, ['model.encoder.layers[0].units', 'model.encoder.layers[0]']);
  const both = specError(
    '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2, "decoder": { "hidden": [4], "layers": [ { "type": "dense", "units": 2 } ] } } }',
  );
  assert.match(both.message, /model\.decoder: give either "hidden" or "layers", not both/);
});

test('layer types and activations are checked by the schema with suggestions', () => {
  const e = specError(
    '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2, "encoder": { "layers": [ { "type": "conv2D", "filters": 4, "kernel": 3 } ] } } }',
  );
  assert.match(e.message, /did you mean "conv2d"/);
  const a = specError(
    '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2, "encoder": { "layers": [ { "type": "dense", "units": 4, "activation": "Gelu" } ] } } }',
  );
  assert.match(a.message, /did you mean "gelu"/);
});
