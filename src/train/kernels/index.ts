// Entry point of the kernel module (AssemblyScript): see gemm.ts, adam.ts, im2col.ts, gaussian.ts and dense.ts.
export { sgemm, sgemmStrided, sgemmScratchBytes } from './gemm';
export { adamUpdate, adamUpdateTable } from './adam';
export { im2col, col2im, addInto } from './im2col';
export { weightedSquaredErrorRows, weightedSquaredErrorGradColumns } from './gaussian';
export { biasActivation, activationGradColumns } from './dense';
