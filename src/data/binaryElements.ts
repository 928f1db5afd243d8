/**
 * Numbers stored as fixed-size binary elements (NPY, IDX) into float32.
 */
import type { Dataset } from './dataset';

export interface ElementType {
  /** 'bool' is NumPy's: one byte, nonzero is true (read as 1). */
  kind: 'float' | 'int' | 'uint' | 'bool';
  /** Bytes per element: 1, 2, 4 or 8 (floats 2, 4 or 8). */
  bytes: 1 | 2 | 4 | 8;
  littleEndian: boolean;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function sourceTypeOf(t: ElementType): Dataset['sourceType'] {
  // float16 is read as float32 would be; bool is 0 and 1, which no default scaling should divide by 255.
  if (t.kind === 'float') return t.bytes === 8 ? 'float64' : 'float32';
  return t.kind === 'uint' && t.bytes === 1 ? 'uint8' : 'int';
}

export function describeElementType(t: ElementType): string {
  if (t.kind === 'float') return `float${t.bytes * 8}`;
  if (t.kind === 'bool') return 'bool';
  return `${t.kind}${t.bytes * 8}`;
}

/**
 * Convert `count` elements starting at byte `start` of `src`. When `share` is set and
 * the bytes are already aligned host-order float32, the result is a view of `src`
 * (no copy: the caller must own `src` and not change it afterwards).
 */
export function decodeElements(src: Uint8Array, start: number, count: number, t: ElementType, share = false): Float32Array {
  const at = src.byteOffset + start;
  if (share && isHostFloat32(t) && at % 4 === 0) return new Float32Array(src.buffer, at, count);
  const out = new Float32Array(count);
  decodeInto(out, 0, src, start, count, t);
  return out;
}

/** Whether the stored bytes are already this machine's float32 (then a byte copy is the conversion). */
export function isHostFloat32(t: ElementType): boolean {
  return t.kind === 'float' && t.bytes === 4 && t.littleEndian === HOST_LITTLE_ENDIAN;
}

/** Convert `count` elements at byte `start` of `src` into out[outOffset...]. */
export function decodeInto(out: Float32Array, outOffset: number, src: Uint8Array, start: number, count: number, t: ElementType): void {
  const at = src.byteOffset + start;
  if (isHostFloat32(t)) {
    new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, count * 4).set(src.subarray(start, start + count * 4));
    return;
  }
  const target = out.subarray(outOffset, outOffset + count);
  if (t.kind === 'bool') {
    for (let i = 0; i < count; i++) target[i] = src[start + i] === 0 ? 0 : 1;
    return;
  }
  if (t.bytes === 1) {
    // TypedArray.set converts element types natively.
    target.set(t.kind === 'int' ? new Int8Array(src.buffer, at, count) : src.subarray(start, start + count));
    return;
  }
  const view = new DataView(src.buffer, at, count * t.bytes);
  const le = t.littleEndian;
  const read = elementReader(view, t);
  for (let i = 0; i < count; i++) target[i] = read(i * t.bytes, le);
}

function elementReader(view: DataView, t: ElementType): (offset: number, le: boolean) => number {
  if (t.kind === 'float') {
    if (t.bytes === 8) return (o, le) => view.getFloat64(o, le);
    if (t.bytes === 4) return (o, le) => view.getFloat32(o, le);
    return (o, le) => halfToNumber(view.getUint16(o, le));
  }
  switch (t.bytes) {
    case 2:
      return t.kind === 'int' ? (o, le) => view.getInt16(o, le) : (o, le) => view.getUint16(o, le);
    case 4:
      return t.kind === 'int' ? (o, le) => view.getInt32(o, le) : (o, le) => view.getUint32(o, le);
    default:
      // 64-bit integers: two 32-bit halves (exact up to 2^53, rounded to float32 anyway).
      return (o, le) => {
        const lo = view.getUint32(le ? o : o + 4, le);
        const hi = t.kind === 'int' ? view.getInt32(le ? o + 4 : o, le) : view.getUint32(le ? o + 4 : o, le);
        return hi * 4294967296 + lo;
      };
  }
}

/** An IEEE half-precision float (NumPy's float16) from its 16 bits; every one is exact in float32. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * (0x400 + fraction) * 2 ** (exponent - 25);
}
