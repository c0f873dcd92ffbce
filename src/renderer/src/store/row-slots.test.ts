import { describe, expect, it } from 'vitest'
import { RowSlots } from './row-slots'

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i)

describe('RowSlots', () => {
  it('gives the first lines slots in screen order', () => {
    expect(new RowSlots().assign([10, 11, 12])).toEqual([0, 1, 2])
  })

  it('keeps the slot of a line that stays, and gives a line that comes in a slot that left', () => {
    const slots = new RowSlots()
    slots.assign([10, 11, 12])
    // One line scrolled off the top, one came in at the bottom: only the slot that left moves.
    expect(slots.assign([11, 12, 13])).toEqual([1, 2, 0])
    expect(slots.assign([12, 13, 14])).toEqual([2, 0, 1])
  })

  it('reuses every slot in the same order when the whole screen changes (a flood)', () => {
    const slots = new RowSlots()
    const before = slots.assign(range(0, 50))
    expect(slots.assign(range(5000, 5050))).toEqual(before)
    expect(slots.assign(range(9000, 9050))).toEqual(before)
  })

  it('reuses slots in their old screen order after scrolling up', () => {
    const slots = new RowSlots()
    slots.assign([20, 21, 22, 23])
    // Two lines came in at the top, taking the slots of the two that left the bottom.
    expect(slots.assign([18, 19, 20, 21])).toEqual([2, 3, 0, 1])
    // A flood then replaces all of them, in the order they were on screen.
    expect(slots.assign([100, 101, 102, 103])).toEqual([2, 3, 0, 1])
  })

  it('gives the same slots to the same lines twice in a row', () => {
    const slots = new RowSlots()
    slots.assign([1, 2, 3])
    const once = slots.assign([2, 3, 4, 5])
    expect(slots.assign([2, 3, 4, 5])).toEqual(once)
  })

  it('adds slots when more rows show, and never gives two lines one slot', () => {
    const slots = new RowSlots()
    slots.assign([1, 2])
    const more = slots.assign([2, 3, 4, 5, 6])
    expect(new Set(more).size).toBe(5)
    expect(more[0]).toBe(1)
    const fewer = slots.assign([6, 7])
    expect(fewer[0]).toBe(more[4])
    expect(new Set(fewer).size).toBe(2)
  })
})
