/**
 * Which of a chart's resume marks to draw: a run resumed hundreds of times put a dashed line every
 * pixel or two and wrote its labels over each other, greying the whole plot. Pure, for the marks plugin.
 */

/** Lines closer than this (pixels) to the last one drawn are left out; labels never overlap. */
export const MIN_MARK_GAP_PX = 8;

export interface MarkPlacement {
  /** The mark's index in the list given. */
  index: number;
  labelled: boolean;
}

/**
 * The marks to draw, from their x pixels (in any order) and each label's width: a line where it
 * stands clear of the previous line drawn, its label where it clears the previous label.
 */
export function placeMarks(pixels: readonly number[], labelWidths: readonly number[]): MarkPlacement[] {
  const order = pixels.map((_, i) => i).sort((a, b) => pixels[a]! - pixels[b]!);
  const placed: MarkPlacement[] = [];
  let lastLine = -Infinity;
  let labelEnd = -Infinity;
  for (const i of order) {
    const px = pixels[i]!;
    if (!Number.isFinite(px) || px - lastLine < MIN_MARK_GAP_PX) continue;
    lastLine = px;
    const labelled = px >= labelEnd;
    if (labelled) labelEnd = px + 3 + labelWidths[i]! + MIN_MARK_GAP_PX;
    placed.push({ index: i, labelled });
  }
  return placed;
}
