import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PanelRun } from '../../src/core/panelProtocol';
import { imageGeometry } from '../../src/core/imageGeometry';
import { toRgba } from '../../src/webview/images';
import { DEFAULT_TOLERANCE, normalizeRun, withDistinctNames } from '../../src/webview/runs';
import { runColours, withAlpha, type Palette } from '../../src/webview/theme';
import { PALETTE, panelRun, record } from './webview-testkit';

test('images: grey and RGB values in [0,1] become opaque RGBA bytes; out-of-range clamps, NaN is black', () => {
  assert.deepEqual([...toRgba([0, 0.5, 2, NaN], imageGeometry([2, 2]).geometry!)], [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 0, 0, 0, 255]);
  assert.deepEqual([...toRgba([1, 0, 0.2], imageGeometry([1, 1, 3]).geometry!)], [255, 0, 51, 255]);
  assert.deepEqual([...toRgba([1, 0, 0.2, NaN], imageGeometry([1, 1, 4]).geometry!)], [255, 0, 51, 0], 'a NaN alpha is transparent');
  assert.deepEqual(imageGeometry([28, 28]).geometry, { width: 28, height: 28, channels: 1, layout: 'hwc', values: 784 });
  assert.deepEqual(imageGeometry([8, 6, 3]).geometry, { width: 6, height: 8, channels: 3, layout: 'hwc', values: 144 });
  assert.equal(imageGeometry([28]).geometry, undefined);
  assert.equal(imageGeometry([5, 5, 2]).geometry, undefined);
});

test('normalizeRun fills what a run lacks and drops records that break the contract', () => {
  const raw = { runDir: '/w/runs/swiss-roll-3', records: [record(1), { epoch: 2 }, record(3)], tolerance: -1 } as unknown as PanelRun;
  const { run, dropped } = normalizeRun(raw);
  assert.equal(dropped, 1);
  assert.deepEqual(
    run.records.map((r) => r.epoch),
    [1, 3],
  );
  assert.equal(run.name, 'swiss-roll-3');
  assert.equal(run.tolerance, DEFAULT_TOLERANCE);
  assert.equal(run.images, undefined);
  const withImages = normalizeRun({ ...raw, images: { shape: [2, 2], originals: [[0, 1, 0, 1]], reconstructions: [], samples: 'x' } } as unknown as PanelRun);
  assert.equal(withImages.run.images, undefined, 'malformed images are ignored');
});

test('withAlpha understands the colour forms VS Code themes use', () => {
  assert.equal(withAlpha('#3794ff', 0.2), 'rgba(55, 148, 255, 0.2)');
  assert.equal(withAlpha('#fff', 0.5), 'rgba(255, 255, 255, 0.5)');
  assert.equal(withAlpha('#3794ffcc', 0.1), 'rgba(55, 148, 255, 0.1)');
  assert.equal(withAlpha('rgb(1, 2, 3)', 0.3), 'rgba(1, 2, 3, 0.3)');
  assert.equal(withAlpha('rgba(1,2,3,0.9)', 0.3), 'rgba(1, 2, 3, 0.3)');
  assert.equal(withAlpha('red', 0.3), 'red');
});

/** A colour as comparable RGB, or undefined for a form the bands cannot make translucent. */
const rgbOf = (c: string) => /^rgba\((\d+), (\d+), (\d+), /.exec(withAlpha(c, 0.5))?.slice(1, 4).join(',');

test('generated comparisons: every compared run gets its own colour, one a band can make translucent, the theme colours first', () => {
  const light: Palette = {
    ...PALETTE,
    kind: 'light',
    blue: '#1a85ff',
    red: '#e51400',
    green: '#388a34',
    orange: '#d18616',
    purple: '#652d90',
    yellow: '#bf8803',
  };
  // A theme may give two chart colours one value (high-contrast themes often do).
  const sameColours: Palette = {
    ...PALETTE,
    kind: 'high-contrast',
    blue: '#ffffff',
    red: '#ffffff',
    green: '#ffffff',
    orange: '#f38518',
    purple: '#f38518',
    yellow: '#ffffff',
  };
  for (const palette of [PALETTE, light, sameColours])
    for (let n = 1; n <= 30; n++) {
      const colours = runColours(palette, n);
      assert.equal(colours.length, n);
      const rgb = colours.map(rgbOf);
      assert.ok(
        rgb.every((c) => c !== undefined),
        `${palette.kind}, ${n} runs: ${colours.join(' ')}`,
      );
      assert.equal(new Set(rgb).size, n, `${palette.kind}, ${n} runs: two runs share a colour: ${colours.join(' ')}`);
    }
  assert.deepEqual(runColours(PALETTE, 6), [PALETTE.blue, PALETTE.orange, PALETTE.green, PALETTE.purple, PALETTE.red, PALETTE.yellow]);
});

test('compared runs are told apart by name: runs of one spec by their folders, folders of the same name by a number', () => {
  let seed = 7;
  const rand = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % k) >>> 0;
  for (let trial = 0; trial < 300; trial++) {
    const runs = Array.from({ length: 1 + rand(6) }, (_, i) =>
      panelRun(['swiss-roll', 'ring', 'swiss-roll-20261202-1137'][rand(3)]!, [], {
        runDir: `/w${rand(2)}/runs/${['swiss-roll-20261202-1137', 'ring-1', `r${i}`][rand(3)]}`,
      }),
    );
    const named = withDistinctNames(runs);
    const at = JSON.stringify(runs.map((r) => [r.name, r.runDir]));
    assert.equal(new Set(named.map((r) => r.name)).size, runs.length, at);
    named.forEach((r, i) => {
      assert.equal(r.runDir, runs[i]!.runDir, at);
      const shared = runs.filter((o) => o.name === runs[i]!.name).length > 1;
      if (!shared) assert.equal(r.name, runs[i]!.name, `${at}: a name no other run has is kept`);
      else assert.ok(r.name.startsWith(runs[i]!.runDir.split('/').pop()!), `${at}: ${r.name} is named by its folder`);
    });
  }
  // Two runs of one spec, the usual comparison: each by its folder, which tells when it started.
  const pair = withDistinctNames([
    panelRun('swiss-roll', [], { runDir: '/w/runs/swiss-roll-20261202-113749' }),
    panelRun('swiss-roll', [], { runDir: '/w/runs/swiss-roll-20261202-124431' }),
  ]);
  assert.deepEqual(
    pair.map((r) => r.name),
    ['swiss-roll-20261202-113749', 'swiss-roll-20261202-124431'],
  );
});
