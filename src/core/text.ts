/** Text as other tools save it. Pure. */

/** The text without the byte-order mark some editors put first (JSON readers refuse it). */
export const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
