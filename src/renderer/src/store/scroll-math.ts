/**
 * Scroll geometry of the virtualised output. A browser caps an element's height (about 33.5
 * million px in Chromium, less elsewhere), so ten million 18-px rows cannot be laid out as
 * one tall spacer. Positions are therefore kept in rows, not pixels: `p` = index of the row at
 * the top of the viewport plus the fraction of it scrolled past, from 0 to `maxP` (the last
 * row's bottom at the viewport's bottom). The spacer is at most {@link MAX_SPACER_PX} tall and
 * its scroll range maps proportionally onto `[0, maxP]`; below the cap the mapping is exactly
 * `scrollTop = p * rowPx`, so ordinary logs scroll natively pixel for pixel.
 */

/** Tallest spacer used; safely below every engine's element-height cap. */
export const MAX_SPACER_PX = 8_000_000

/** Height of the spacer for `rows` rows of (nominally) `rowPx` each. */
export function spacerHeight(rows: number, rowPx: number): number {
  return Math.min(rows * rowPx, MAX_SPACER_PX)
}

/**
 * Rows up to which a wrapped view's spacer is the sum of its rows' heights. Beyond it the
 * fixed-height spacer is far taller than any viewport, so the rows on screen always lie
 * inside it.
 */
export const MEASURED_SPACER_ROWS = 1024

/**
 * Spacer height for wrapped rows (measured, or estimated at `rowPx` until measured). The rows
 * are drawn inside the spacer, which clips them: a fixed-height spacer for a few rows, one of
 * them wrapped onto many, was shorter than the rows themselves and hid the rows below the
 * wrapped one. Few rows are summed (work proportional to them, no more than a screen's worth
 * of measuring); many get the fixed height.
 */
export function wrappedSpacerHeight(
  rows: number,
  rowPx: number,
  height: (row: number) => number,
): number {
  if (rows > MEASURED_SPACER_ROWS) return spacerHeight(rows, rowPx)
  let total = 0
  for (let row = 0; row < rows; row++) total += height(row)
  return Math.min(Math.max(total, rows * rowPx), MAX_SPACER_PX)
}

/** Whether the spacer is scaled (each scrolled pixel stands for more than one). */
export function isScaled(rows: number, rowPx: number): boolean {
  return rows * rowPx > MAX_SPACER_PX
}

/** The largest position for fixed-height rows: the last row's bottom at the viewport bottom. */
export function maxPositionFixed(rows: number, rowPx: number, viewPx: number): number {
  return Math.max(0, rows - viewPx / rowPx)
}

/** `scrollTop` that shows position `p`. */
export function scrollTopFor(p: number, maxP: number, spacerPx: number, viewPx: number): number {
  const range = Math.max(0, spacerPx - viewPx)
  if (maxP <= 0 || range <= 0) return 0
  return (Math.min(Math.max(p, 0), maxP) / maxP) * range
}

/** Position shown at `scrollTop` (the inverse of {@link scrollTopFor}). */
export function positionFor(
  scrollTop: number,
  maxP: number,
  spacerPx: number,
  viewPx: number,
): number {
  const range = Math.max(0, spacerPx - viewPx)
  if (maxP <= 0 || range <= 0) return 0
  return Math.min(maxP, Math.max(0, (scrollTop / range) * maxP))
}

/**
 * Move position `p` by `dy` pixels through rows of the given heights (fixed rows, or wrapped
 * rows with measured or estimated heights). Work is proportional to the rows crossed.
 */
export function movePosition(
  p: number,
  dy: number,
  rows: number,
  maxP: number,
  height: (row: number) => number,
): number {
  if (rows === 0) return 0
  let row = Math.min(Math.floor(p), rows - 1)
  let off = (p - row) * height(row) + dy
  while (off < 0 && row > 0) {
    row--
    off += height(row)
  }
  if (off < 0) off = 0
  while (row < rows - 1 && off >= height(row)) {
    off -= height(row)
    row++
  }
  const h = height(row)
  return Math.min(maxP, Math.max(0, row + Math.min(off, h) / h))
}

/**
 * The largest position when rows have different heights: walk up from the last row until the
 * viewport is full. Work is proportional to the rows on screen.
 */
export function maxPositionMeasured(
  rows: number,
  viewPx: number,
  height: (row: number) => number,
): number {
  let acc = 0
  for (let row = rows - 1; row >= 0; row--) {
    const h = height(row)
    acc += h
    if (acc >= viewPx) return row + (acc - viewPx) / h
  }
  return 0
}
