import { describe, expect, it } from 'vitest'
import {
  isScaled,
  MAX_SPACER_PX,
  maxPositionFixed,
  maxPositionMeasured,
  movePosition,
  positionFor,
  scrollTopFor,
  MEASURED_SPACER_ROWS,
  spacerHeight,
  wrappedSpacerHeight,
} from './scroll-math'

const ROW = 18
const VIEW = 540 // 30 rows

describe('scroll mapping', () => {
  it('is exactly pixel for pixel below the element-height cap', () => {
    const rows = 1000
    const spacer = spacerHeight(rows, ROW)
    const maxP = maxPositionFixed(rows, ROW, VIEW)
    expect(isScaled(rows, ROW)).toBe(false)
    expect(spacer).toBe(18_000)
    expect(maxP).toBe(970)
    for (const p of [0, 1, 12.5, 500, 970])
      expect(scrollTopFor(p, maxP, spacer, VIEW)).toBeCloseTo(p * ROW, 9)
    expect(positionFor(12.5 * ROW, maxP, spacer, VIEW)).toBeCloseTo(12.5, 9)
  })

  it('scales ten million rows into the cap and maps both ends exactly', () => {
    const rows = 10_000_000
    const spacer = spacerHeight(rows, ROW)
    const maxP = maxPositionFixed(rows, ROW, VIEW)
    expect(isScaled(rows, ROW)).toBe(true)
    expect(spacer).toBe(MAX_SPACER_PX)
    expect(scrollTopFor(0, maxP, spacer, VIEW)).toBe(0)
    expect(scrollTopFor(maxP, maxP, spacer, VIEW)).toBeCloseTo(spacer - VIEW, 6)
    // The last row sits exactly at the bottom: rows maxP .. maxP + 30 fill the view.
    expect(maxP + VIEW / ROW).toBe(rows)
    expect(positionFor(spacer - VIEW, maxP, spacer, VIEW)).toBeCloseTo(maxP, 6)
    // Round trip in the middle, and a scrolled pixel is worth about rows/spacer rows.
    const mid = positionFor((spacer - VIEW) / 2, maxP, spacer, VIEW)
    expect(mid).toBeCloseTo(maxP / 2, 3)
    expect(positionFor(1, maxP, spacer, VIEW)).toBeCloseTo(maxP / (spacer - VIEW), 6)
    expect(scrollTopFor(mid, maxP, spacer, VIEW)).toBeCloseTo((spacer - VIEW) / 2, 6)
  })

  it('moves by exact pixels through rows, clamped to the ends', () => {
    const rows = 10_000_000
    const maxP = maxPositionFixed(rows, ROW, VIEW)
    const h = (): number => ROW
    expect(movePosition(100, 18, rows, maxP, h)).toBeCloseTo(101, 9)
    expect(movePosition(100, 9, rows, maxP, h)).toBeCloseTo(100.5, 9)
    expect(movePosition(100.5, -27, rows, maxP, h)).toBeCloseTo(99, 9)
    expect(movePosition(0.2, -100, rows, maxP, h)).toBe(0)
    expect(movePosition(maxP - 1, 1000, rows, maxP, h)).toBe(maxP)
  })

  it('handles rows of different heights (wrapped lines)', () => {
    const heights = [18, 54, 18, 36, 18]
    const h = (row: number): number => heights[row]
    // Rows 2-4 (18 + 36 + 18) fill 72 px exactly.
    expect(maxPositionMeasured(5, 72, h)).toBeCloseTo(2, 9)
    expect(maxPositionMeasured(5, 80, h)).toBeCloseTo(1 + 46 / 54, 9)
    expect(maxPositionMeasured(5, 1000, h)).toBe(0)
    expect(movePosition(0, 18 + 27, 5, 3, h)).toBeCloseTo(1.5, 9)
    expect(movePosition(1.5, -36, 5, 3, h)).toBeCloseTo(0.5, 9)
  })

  it('sizes a wrapped view of few rows to their heights, so no row is clipped', () => {
    // One 4,000-character line wrapped onto 23 rows between two short lines: 3 rows at the
    // fixed height (54 px) would clip all but the first 54 px of them.
    const heights = [18, 414, 18]
    const h = (row: number): number => heights[row]
    expect(wrappedSpacerHeight(3, ROW, h)).toBe(450)
    // Rows not measured yet count at the fixed height, never less.
    expect(wrappedSpacerHeight(3, ROW, () => 0)).toBe(54)
    // Many rows: the fixed height, without visiting each row.
    let visited = 0
    const counting = (): number => (visited++, 90)
    expect(wrappedSpacerHeight(MEASURED_SPACER_ROWS + 1, ROW, counting)).toBe(
      (MEASURED_SPACER_ROWS + 1) * ROW,
    )
    expect(visited).toBe(0)
  })
})
