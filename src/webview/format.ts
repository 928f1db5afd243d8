/** Number and time formatting for the panel: compact, aligned, and honest about missing values. */
import { formatDuration } from '../core/wording';

export const MISSING = '—';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * A value in nats: enough digits to see a gap of 1e-3 on values around 100, and on the large values
 * of image models (1e5..1e7 nats) the gap between an ELBO and its entropy sum, so never 3 digits.
 */
export function fmtNats(v: number | null | undefined): string {
  if (!isNum(v)) return MISSING;
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < 1e-3) return v.toExponential(2);
  if (a >= 1e9) return v.toExponential(6);
  if (a >= 1e5) return v.toFixed(1);
  if (a >= 100) return v.toFixed(2);
  if (a >= 1) return v.toFixed(3);
  return v.toFixed(4);
}

/** Three significant digits, exponent for very small or large values (variances, rates). */
export function fmtSig(v: number | null | undefined, digits = 3): string {
  if (!isNum(v)) return MISSING;
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

export function fmtPercent(fraction: number | null | undefined): string {
  if (!isNum(fraction)) return MISSING;
  const p = fraction * 100;
  const a = Math.abs(p);
  const text = a === 0 ? '0' : a < 0.001 ? p.toExponential(1) : a < 1 ? p.toPrecision(2) : p.toFixed(2);
  return `${text} %`;
}

/** 12345 -> "12.3k" */
export function fmtRate(v: number | null | undefined): string {
  if (!isNum(v)) return MISSING;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(2)}k`;
  return v.toFixed(v >= 100 ? 0 : 1);
}

/** 3725 -> "1h 02m", 95 -> "1m 35s", 7 -> "7s" (core/wording.ts), a dash when unknown. */
export const fmtDuration = (seconds: number | null | undefined): string => formatDuration(seconds, MISSING);

/** Epochs may be fractional when diagnostics run mid-epoch. */
export function fmtEpoch(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}
