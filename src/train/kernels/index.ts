// Entry point of the kernel module (AssemblyScript): see gemm.ts, adam.ts, im2col.ts, conv.ts, gaussian.ts and dense.ts.
export { sgemm, sgemmStrided, sgemmInto, sgemmScratchBytes, packedBBytes, packBWhole } from './gemm';
export { adamUpdate, adamUpdateTable } from './adam';
export { addInto, copyRows } from './im2col';
export { conv } from './conv';
export { weightedSquaredErrorRows, weightedSquaredErrorGradColumns, sampleSquaredErrorRows } from './gaussian';
export { biasActivation, activationGradColumns } from './dense';
