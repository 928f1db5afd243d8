/**
 * The panel for people who do not see it as its author did: light and high-contrast themes, screen
 * readers, reduced motion. Checks the webview's pure parts and its stylesheet.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { contrastRatio, runColours, type Palette } from '../../src/webview/theme';
import { PALETTE } from './webview-testkit';

const hex = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map((c) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`);

test('generated themes: the run colours made beyond the theme six stand out from the chart card (3:1), high-contrast light included', () => {
  const kinds: Palette['kind'][] = ['light', 'dark', 'high-contrast'];
  fc.assert(
    fc.property(hex, fc.constantFrom(...kinds), fc.integer({ min: 7, max: 24 }), (card, kind, n) => {
      const palette: Palette = { ...PALETTE, kind, card, background: card };
      const made = runColours(palette, n).slice(6);
      for (const c of made) {
        const ratio = contrastRatio(c, card)!;
        // Mid greys cannot reach 3:1 with every hue; those still get the better of dark and light.
        const best = Math.max(contrastRatio('#000000', card)!, contrastRatio('#ffffff', card)!);
        assert.ok(ratio >= Math.min(3, best / 2), `${kind} theme, card ${card}: run colour ${c} has contrast ${ratio.toFixed(2)}`);
      }
    }),
    { seed: 20261202, numRuns: 300 },
  );
  // The case a user sees: high-contrast light (white card, kind high-contrast) used to get light pastels.
  const hcLight: Palette = { ...PALETTE, kind: 'high-contrast', card: '#ffffff', background: '#ffffff' };
  for (const c of runColours(hcLight, 12).slice(6)) assert.ok(contrastRatio(c, '#ffffff')! >= 3, c);
});

test('contrastRatio: WCAG relative luminance, order-free, undefined for what it cannot read', () => {
  assert.equal(contrastRatio('#000000', '#ffffff')!.toFixed(2), '21.00');
  assert.equal(contrastRatio('#fff', '#000')!.toFixed(2), '21.00');
  assert.equal(contrastRatio('rgb(255, 255, 255)', '#ffffff'), 1);
  assert.equal(contrastRatio('red', '#ffffff'), undefined);
});
