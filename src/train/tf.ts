/** The tfjs API the trainer programs against, whichever engine provides it (backend.ts picks one). */
export type Tf = typeof import('@tensorflow/tfjs-core');
