/**
 * Shape inference for layer lists (src/core/layers.ts): every layer type's output shape and
 * parameter count against values worked out by hand, and each way a chain can break reported
 * on the layer that breaks it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
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
  assert.deepEqual(problems, [
    {
      message:
        'model.decoder.layers[2]: output 14×14×32, the data is 28×28×1 (the decoder: 20 → 3136 → 7×7×64 → 14×14×32); ' +
        'model.decoder.layers[2] (conv2dTranspose) gives 14×14 from 7×7; "stride": 4 would give 28×28',
      field: 'model.decoder.layers[2]',
    },
  ]);
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
      {
        message: `model.decoder.layers[1]: ${message}, the data is 28×28×1 (the decoder: 2 → 784 → ${message.slice('output '.length)})`,
        field: 'model.decoder.layers[1]',
      },
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

/** A decoder's last layers as a PyTorch user might write them on data of `data` (height×width×channels). */
const imageDecoder = fc.record({
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  c: fc.constantFrom(1, 2, 3),
  layers: fc.array(
    fc.oneof(
      fc.record({
        type: fc.constantFrom('conv2d' as const, 'conv2dTranspose' as const),
        filters: fc.integer({ min: 1, max: 4 }),
        kernel: fc.integer({ min: 1, max: 6 }),
        stride: fc.integer({ min: 1, max: 4 }),
        padding: fc.constantFrom('same' as const, 'valid' as const),
      }),
      fc.record({ type: fc.constant('upsample2d' as const), size: fc.integer({ min: 1, max: 3 }) }),
    ),
    { minLength: 1, maxLength: 3 },
  ),
  data: fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(1, 2, 3)),
});

test("a decoder that misses the data's image shape says what each layer gives and what would fit, and what it says is so", () => {
  const off = [
    { type: 'dense', units: 5 * 8 * 8 },
    { type: 'reshape', shape: [5, 8, 8] },
    { type: 'conv2dTranspose', filters: 8, kernel: 4, stride: 2 },
    { type: 'conv2dTranspose', filters: 3, kernel: 4, stride: 2 },
  ] as LayerSpec[];
  const { problems } = planNetworks({ latentDim: 4, encoder: net(ENCODER), decoder: net(off) }, [20, 30, 3], false);
  assert.equal(
    problems[0]!.message,
    'model.decoder.layers[3]: output 20×32×3, the data is 20×30×3 (the decoder: 4 → 320 → 5×8×8 → 10×16×8 → 20×32×3); ' +
      'model.decoder.layers[3] (conv2dTranspose) gives 20×32 from 10×16; 20×30 needs an input of 10×15',
  );
  const ending = (last: LayerSpec, data: number[]) =>
    planNetworks(
      { latentDim: 4, encoder: net(ENCODER), decoder: net([{ type: 'dense', units: 9 * 15 * 2 }, { type: 'reshape', shape: [9, 15, 2] }, last]) },
      data,
      false,
    ).problems[0]!.message;
  assert.match(
    ending({ type: 'conv2dTranspose', filters: 3, kernel: 3, stride: 2 }, [19, 31, 3]),
    /model\.decoder\.layers\[2\] \(conv2dTranspose\) gives 18×30 from 9×15; "padding": "valid" would give 19×31$/,
  );
  assert.match(
    ending({ type: 'conv2dTranspose', filters: 1, kernel: 3, stride: 2 }, [18, 30, 3]),
    /; model\.decoder\.layers\[2\] would give 3 channels with "filters": 3$/,
  );
  assert.match(
    ending({ type: 'conv2dTranspose', filters: 3, kernel: 3, stride: 2 }, [18, 30, 1]),
    /; model\.decoder\.layers\[2\] would give 1 channel with "filters": 1$/,
  );
  fc.assert(
    fc.property(imageDecoder, ({ h, w, c, layers, data }) => {
      const decoder: LayerSpec[] = [{ type: 'dense', units: h * w * c }, { type: 'reshape', shape: [h, w, c] }, ...layers];
      const { plan, problems } = planNetworks({ latentDim: 2, encoder: net([{ type: 'flatten' }]), decoder: net(decoder) }, data, false);
      if (plan || problems.length !== 1) return;
      const message = problems[0]!.message;
      if (!message.includes(', the data is ')) return;
      assert.match(message, /\(the decoder: 2 → \d+ → /, message);
      const said = /model\.decoder\.layers\[(\d+)\] \(\w+\) gives (\d+)×(\d+) from (\d+)×(\d+)/.exec(message);
      if (!said) return;
      const index = Number(said[1]);
      const input = [Number(said[4]), Number(said[5])];
      const spec = decoder[index]!;
      const outputOf = (l: LayerSpec, [rows, cols]: number[]) => {
        const resolved = (l.type === 'upsample2d' ? { type: l.type, size: l.size ?? 2 } : { activation: 'linear', stride: 1, padding: 'same', ...l }) as Layer;
        const r = layerOutput(resolved, [rows!, cols!, 1]);
        return 'problem' in r ? undefined : r.output.slice(0, 2);
      };
      assert.deepEqual(outputOf(spec, input), [Number(said[2]), Number(said[3])], message);
      const [dh, dw] = data;
      const needs = /needs an input of (\d+)×(\d+)$/.exec(message);
      if (needs) assert.deepEqual(outputOf(spec, [Number(needs[1]), Number(needs[2])]), [dh, dw], message);
      const range = /needs an input (\d+)(?: to (\d+))? high and (\d+)(?: to (\d+))? wide$/.exec(message);
      if (range)
        for (const rows of [Number(range[1]), Number(range[2] ?? range[1])])
          for (const cols of [Number(range[3]), Number(range[4] ?? range[3])]) assert.deepEqual(outputOf(spec, [rows, cols]), [dh, dw], message);
      const padding = /"padding": "(\w+)" would give/.exec(message);
      if (padding) assert.deepEqual(outputOf({ ...spec, padding: padding[1] as 'same' | 'valid' }, input), [dh, dw], message);
      const stride = /"stride": (\d+) would give/.exec(message);
      if (stride) assert.deepEqual(outputOf({ ...spec, stride: Number(stride[1]) }, input), [dh, dw], message);
      const size = /"size": (\d+) would give/.exec(message);
      if (size) assert.deepEqual(outputOf({ ...spec, size: Number(size[1]) }, input), [dh, dw], message);
      const kernel = /"kernel": (\d+) would give/.exec(message);
      if (kernel) assert.deepEqual(outputOf({ ...spec, kernel: Number(kernel[1]) }, input), [dh, dw], message);
      const none = /no input gives/.test(message);
      if (none)
        for (let rows = 1; rows <= 80; rows++)
          for (let cols = 1; cols <= 80; cols++) assert.notDeepEqual(outputOf(spec, [rows, cols]), [dh, dw], `${message}: ${rows}×${cols} does`);
    }),
    { numRuns: 300, seed: 5 },
  );
});

test('a reshape of images to channels×height×width is warned of wherever it is; one that keeps them, or a grey one, is not', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), (h, w, c, inDecoder) => {
      const toFirst: LayerSpec = { type: 'reshape', shape: [c, h, w] };
      const layers = (reshape: LayerSpec): { encoder: LayerSpec[]; decoder: LayerSpec[] } => {
        const back: LayerSpec = { type: 'conv2d', filters: c, kernel: 1 };
        return inDecoder
          ? {
              encoder: [{ type: 'flatten' }],
              decoder: [{ type: 'dense', units: h * w * c }, { type: 'reshape', shape: [h, w, c] }, reshape, { type: 'reshape', shape: [h, w, c] }, back],
            }
          : { encoder: [reshape, { type: 'flatten' }], decoder: [{ type: 'dense', units: h * w * c }, { type: 'reshape', shape: [h, w, c] }, back] };
      };
      const plan = (reshape: LayerSpec) => {
        const { encoder, decoder } = layers(reshape);
        return planNetworks({ latentDim: 2, encoder: net(encoder), decoder: net(decoder) }, [h, w, c], false).plan!;
      };
      const moved = c > 1 && (c !== h || h !== w);
      const warned = plan(toFirst).warnings;
      assert.equal(warned.length, moved ? 1 : 0, JSON.stringify({ h, w, c, inDecoder }));
      if (moved) assert.equal(warned[0]!.field, inDecoder ? 'model.decoder.layers[2]' : 'model.encoder.layers[0]');
      assert.deepEqual(plan({ type: 'reshape', shape: [h, w, c] }).warnings, []);
    }),
    { numRuns: 200, seed: 11 },
  );
});
