/**
 * The editor's view of a spec's layers (src/extension/specs/layerChecks.ts via specChecks): a shape
 * mismatch is an error on the layer that breaks it, with the data's shape read from the IDX
 * header of Debian's Fashion-MNIST; hovers give per-layer shapes and parameter counts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseSpec } from '../../src/core/spec';
import { layerHover, planSpec } from '../../src/extension/specs/layerChecks';
import { checkSpecText } from '../../src/extension/specs/specChecks';

const root = path.join(__dirname, '..', '..', '..');
const example = path.join(root, 'examples/conv-fashion-mnist/conv-fashion-mnist.vae.json');
const FMNIST = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
const opts = { trusted: true, workspaceRoots: [], allowOutsideWorkspace: true };

test(
  'the convolutional example has no problems, and its layers hover with shapes and parameters',
  { skip: !fs.existsSync(FMNIST) && 'no Fashion-MNIST' },
  () => {
    const text = fs.readFileSync(example, 'utf8');
    assert.deepEqual(
      checkSpecText(text, example, opts).filter((p) => p.severity === 'error'),
      [],
    );
    const planned = planSpec(parseSpec(text, example).spec, example, opts)!;
    assert.deepEqual(planned.dataShape, [28, 28, 1], 'read from the IDX header through gzip');
    const at = text.indexOf('"conv2dTranspose", "filters": 32');
    assert.equal(layerHover(text, at, planned), '**decoder.layers[2]**: `conv2dTranspose` 7×7×64 → **14×14×32**, 32,800 parameters');
    const last = text.indexOf('"conv2dTranspose", "filters": 1');
    assert.match(layerHover(text, last, planned)!, /\(the output layer\).*14×14×32 → \*\*28×28×1\*\*, 513 parameters/);
    const table = layerHover(text, text.indexOf('"decoder"') + 2, planned)!;
    assert.match(table, /\*\*Network\*\* on data 28×28×1: 258,025 weights/);
    assert.match(table, /encoder\.layers\[0\]  conv2d  28×28×1 → 14×14×32  544/);
  },
);

test("typing a layer that breaks the chain gives an error at that layer, in the issue's words", { skip: !fs.existsSync(FMNIST) && 'no Fashion-MNIST' }, () => {
  const good = fs.readFileSync(example, 'utf8');
  const text = good.replace(
    '{ "type": "conv2dTranspose", "filters": 1, "kernel": 4, "stride": 2 }',
    '{ "type": "conv2dTranspose", "filters": 1, "kernel": 4, "stride": 1 }',
  );
  assert.notEqual(text, good);
  const errors = checkSpecText(text, example, opts).filter((p) => p.severity === 'error');
  assert.equal(errors.length, 1);
  assert.equal(
    errors[0]!.message,
    'model.decoder.layers[3]: output 14×14×1, the data is 28×28×1 (the decoder: 20 → 3136 → 7×7×64 → 14×14×32 → 14×14×1); ' +
      'model.decoder.layers[3] (conv2dTranspose) gives 14×14 from 14×14; "stride": 2 would give 28×28',
  );
  const line = text.split('\n').findIndex((l) => l.includes('"filters": 1, "kernel": 4, "stride": 1'));
  assert.equal(errors[0]!.range.start.line, line, 'on the line of the offending layer');
});

test('CSV data with data.shape, and synthetic data, are checked too; an unknown shape is not guessed', () => {
  const withShape =
    '{ "data": { "path": "x.csv", "shape": [8, 8] }, "model": { "latentDim": 2, "encoder": { "layers": [ { "type": "dense", "units": 4 } ] } } }';
  const e1 = checkSpecText(withShape, '/nowhere/s.vae.json', opts).filter((p) => /dense needs a flat input/.test(p.message));
  assert.equal(e1.length, 1, 'dense on an 8×8×1 image');
  const synthetic =
    '{ "data": { "synthetic": "circle" }, "model": { "latentDim": 2, "encoder": { "layers": [ { "type": "conv2d", "filters": 4, "kernel": 3 } ] } } }';
  assert.match(
    checkSpecText(synthetic, 's.vae.json', opts)
      .map((p) => p.message)
      .join('\n'),
    /model\.encoder\.layers\[0\]: conv2d needs an image input .* its input is 2/,
  );
  const unknown = '{ "data": { "path": "x.csv" }, "model": { "latentDim": 2, "encoder": { "layers": [ { "type": "conv2d", "filters": 4, "kernel": 3 } ] } } }';
  assert.deepEqual(
    checkSpecText(unknown, '/nowhere/s.vae.json', opts).filter((p) => /layers/.test(p.message)),
    [],
  );
});

test('a reshape of the images to channels first, as a PyTorch user writes it, is a warning on that layer in the editor', () => {
  const spec = (shape: number[]) =>
    `{ "data": { "path": "x.csv", "shape": [20, 30, 3] }, "model": { "latentDim": 2,\n` +
    `  "encoder": { "layers": [\n    { "type": "reshape", "shape": ${JSON.stringify(shape)} },\n    { "type": "conv2d", "filters": 4, "kernel": 3 } ] },\n` +
    `  "decoder": { "layers": [ { "type": "dense", "units": 1800 }, { "type": "reshape", "shape": [20, 30, 3] } ] } } }`;
  const warnings = checkSpecText(spec([3, 20, 30]), '/nowhere/s.vae.json', opts).filter((p) => /reshape/.test(p.message));
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.severity, 'warning');
  assert.match(warnings[0]!.message, /^model\.encoder\.layers\[0\]: reshape to 3×20×30 does not put the channels of the 20×30×3 images first/);
  assert.equal(warnings[0]!.range.start.line, 2, 'on the line of the reshape');
  assert.deepEqual(
    checkSpecText(spec([20, 30, 3]), '/nowhere/s.vae.json', opts).filter((p) => /reshape/.test(p.message)),
    [],
  );
});
