import type { ValidateFunction } from 'ajv';

/** ajv's validator of SPEC_SCHEMA, compiled at build time (specValidatorCode.ts). */
export declare const validate: ValidateFunction;
