/**
 * Colours and fonts come from VS Code's CSS variables (through the --vl-* aliases in media/panel.css,
 * which also give fallbacks for the standalone report). The charts read them once per theme and are
 * rebuilt when VS Code switches the body's vscode-light / vscode-dark / vscode-high-contrast class.
 */

export interface Palette {
  kind: 'light' | 'dark' | 'high-contrast';
  foreground: string;
  muted: string;
  background: string;
  /** Background of a chart card (also painted under exported PNGs). */
  card: string;
  border: string;
  grid: string;
  blue: string;
  red: string;
  green: string;
  orange: string;
  purple: string;
  yellow: string;
  fontFamily: string;
  fontSize: number;
}

/** Used when a variable is missing entirely (should not happen with panel.css loaded). */
const LIGHT_DEFAULTS: Omit<Palette, 'kind' | 'fontFamily' | 'fontSize'> = {
  foreground: '#1f2328',
  muted: '#656d76',
  background: '#ffffff',
  card: '#f6f8fa',
  border: '#d0d7de',
  grid: 'rgba(31, 35, 40, 0.08)',
  blue: '#1a85ff',
  red: '#e51400',
  green: '#388a34',
  orange: '#d18616',
  purple: '#652d90',
  yellow: '#bf8803',
};

const VARIABLES: Record<Exclude<keyof typeof LIGHT_DEFAULTS, 'grid'>, string> = {
  foreground: '--vl-fg',
  muted: '--vl-muted',
  background: '--vl-bg',
  card: '--vl-card',
  border: '--vl-border',
  blue: '--vl-blue',
  red: '--vl-red',
  green: '--vl-green',
  orange: '--vl-orange',
  purple: '--vl-purple',
  yellow: '--vl-yellow',
};

export function themeKind(body: { classList: { contains(c: string): boolean } }): Palette['kind'] {
  if (body.classList.contains('vscode-high-contrast') || body.classList.contains('vscode-high-contrast-light')) return 'high-contrast';
  if (body.classList.contains('vscode-dark')) return 'dark';
  if (body.classList.contains('vscode-light')) return 'light';
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function readPalette(): Palette {
  const style = getComputedStyle(document.body);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const colours = { ...LIGHT_DEFAULTS };
  for (const key of Object.keys(VARIABLES) as (keyof typeof VARIABLES)[]) colours[key] = read(VARIABLES[key], LIGHT_DEFAULTS[key]);
  const fontSize = parseFloat(read('--vl-font-size', '13px'));
  const kind = themeKind(document.body);
  return {
    kind,
    ...colours,
    // Canvas colours must be plain: derive the grid from the foreground rather than a CSS color-mix().
    grid: withAlpha(colours.foreground, kind === 'light' ? 0.08 : 0.11),
    fontFamily: read('--vl-font', 'system-ui, sans-serif'),
    fontSize: Number.isFinite(fontSize) ? fontSize : 13,
  };
}

/** Call `onChange` (at most once per frame) when the editor's theme or the OS colour scheme changes. */
export function observeTheme(onChange: () => void): () => void {
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      onChange();
    });
  };
  const observer = new MutationObserver(schedule);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  // VS Code may also swap the variables on <html style="..."> without touching the body class.
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined;
  media?.addEventListener('change', schedule);
  return () => {
    observer.disconnect();
    media?.removeEventListener('change', schedule);
  };
}

/** `#rgb`, `#rrggbb`, `#rrggbbaa`, `rgb()` or `rgba()` with a new alpha; other forms are returned as they are. */
export function withAlpha(colour: string, alpha: number): string {
  const c = colour.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (hex) {
    let h = hex[1];
    if (h.length === 3 || h.length === 4) h = [...h.slice(0, 3)].map((d) => d + d).join('');
    if (h.length !== 6 && h.length !== 8) return c;
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(c);
  if (rgb) return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${alpha})`;
  return c;
}

/** WCAG relative luminance (0 black .. 1 white) of a colour withAlpha can read, else undefined. */
function luminance(colour: string): number | undefined {
  const m = /^rgba\(([\d.]+), ([\d.]+), ([\d.]+), /.exec(withAlpha(colour, 1));
  if (!m) return undefined;
  const [r, g, b] = m.slice(1, 4).map((v) => {
    const c = Math.min(255, Number(v)) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two colours (1..21), or undefined when either is a form withAlpha cannot read. */
export function contrastRatio(a: string, b: string): number | undefined {
  const la = luminance(a);
  const lb = luminance(b);
  if (la === undefined || lb === undefined) return undefined;
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** `#rrggbb` of a hue (degrees) at the given HSL saturation and lightness (0..1). */
function hslHex(hue: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/**
 * One colour per compared run, in order: the theme's chart colours first, then hues spread by the
 * golden angle from cyan (the hue farthest from the theme's six), readable on the chart card. Runs differ only by colour in compare
 * mode, so no two get the same one, however many are compared or however few colours the theme has.
 */
export function runColours(p: Palette, count: number): string[] {
  const key = (c: string) => withAlpha(c, 1).replace(/\s/g, '').toLowerCase();
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (c: string) => {
    if (out.length >= count || seen.has(key(c))) return;
    seen.add(key(c));
    out.push(c);
  };
  for (const c of [p.blue, p.orange, p.green, p.purple, p.red, p.yellow]) add(c);
  for (let i = 0; out.length < count; i++) add(readableHue((180 + i * 137.508) % 360, p));
  return out;
}

/**
 * A hue drawn on the chart card at 3:1 contrast (WCAG's minimum for graphics) where the card allows it:
 * dark on a light card, light on a dark one. Judged by the card itself, since the theme's kind does not
 * say which (high-contrast themes come in light and dark).
 */
function readableHue(hue: number, p: Palette): string {
  const cardLuminance = luminance(p.card);
  // 0.179 is the luminance with equal contrast against black and white.
  const darkCard = cardLuminance === undefined ? p.kind !== 'light' : cardLuminance < 0.179;
  const step = darkCard ? 0.04 : -0.04;
  let l = darkCard ? 0.68 : 0.4;
  let colour = hslHex(hue, 0.7, l);
  while ((contrastRatio(colour, p.card) ?? 3) < 3 && l + step > 0.1 && l + step < 0.9) {
    l += step;
    colour = hslHex(hue, 0.7, l);
  }
  return colour;
}
