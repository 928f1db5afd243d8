// Entry point of the kernel module (AssemblyScript): see gemm.ts and adam.ts.
export { sgemm, sgemmStrided, sgemmScratchBytes } from './gemm';
export { adamUpdate } from './adam';
export { im2col, col2im, addInto } from './im2col';
