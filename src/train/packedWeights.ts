/**
 * Layer weights packed once for the GEMM and reused by every product of a scope
 * (WasmKernels.withPackedWeights). The GEMM packs its right operand into column panels on every
 * call; in training the weights change every step, so that is unavoidable, but the diagnostics
 * pass multiplies the same weights by dozens of blocks of rows, and packed them again for each.
 * A packed copy holds the same floats in the same order, so a product reads the same numbers and
 * sums them in the same order: the same bits as packing them afresh.
 *
 * Only the tensors a scope names are packed, and they must not change while it lasts (nothing
 * writes into a tensor in place but the trainer's Adam, which a pass does not run).
 */
import type { GemmBlock } from './threadPool';
import type { KernelExports, WasmBackendInternals } from './wasmTypes';

/** A packed copy: the address malloc gave (to free) and the 16-byte aligned one the panels start at. */
interface Copy {
  raw: number;
  address: number;
}

export class PackedWeights {
  /** Per tensor (its data id), a packed copy per block of its columns. */
  private readonly packed = new Map<object, Map<string, Copy>>();

  constructor(
    private readonly k: KernelExports,
    private readonly backend: WasmBackendInternals,
    weights: readonly object[],
    /** The scope this one is inside: its weights stay packed too. */
    readonly outer?: PackedWeights,
  ) {
    for (const id of weights) this.packed.set(id, new Map());
  }

  /** Whether B's data (`dataId`) is one of the scope's weights, here or in an outer scope. */
  holds(dataId: object): boolean {
    return this.packed.has(dataId) || (this.outer?.holds(dataId) ?? false);
  }

  /**
   * The address of op(B) for this block packed whole (kernels/gemm.ts packBWhole), packed on first
   * use; 0 where it is not kept: a block too wide to pack whole, or no memory to spare.
   */
  of(dataId: object, block: GemmBlock): number {
    const copies = this.packed.get(dataId);
    if (!copies) return this.outer?.of(dataId, block) ?? 0;
    const key = `${block.b}:${block.n}:${block.k}:${block.ldb}:${block.transB}`;
    const known = copies.get(key);
    if (known) return known.address;
    const bytes = this.k.packedBBytes(block.n, block.k);
    // 16 bytes over for alignment: the panels are read as whole vectors.
    const raw = bytes > 0 ? this.backend.wasm._malloc(bytes + 16) : 0;
    const copy = { raw, address: raw && Math.ceil(raw / 16) * 16 };
    copies.set(key, copy);
    if (copy.address) this.k.packBWhole(block.n, block.k, block.b, block.ldb, block.transB, copy.address);
    return copy.address;
  }

  /** Free this scope's packed copies (an outer scope keeps its own). */
  dispose(): void {
    for (const copies of this.packed.values()) for (const { raw } of copies.values()) if (raw) this.backend.wasm._free(raw);
    this.packed.clear();
  }
}
