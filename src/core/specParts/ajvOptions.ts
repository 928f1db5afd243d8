import type { Options } from 'ajv';

/** One set of options for the validator compiled at build time and the ones compiled on demand. */
export const AJV_OPTIONS: Options = {
  allErrors: true,
  strictTypes: false,
  keywords: ['markdownDescription', 'allowComments', 'allowTrailingCommas'],
};
