/**
 * React keys for the output view's rows that recycle DOM elements. Keyed by line, a flood
 * that replaces the whole screen between two redraws removes every row element and creates
 * as many new ones, each with its own style and layout work and its own garbage for the
 * page's collector. Keyed by slot, a line that stays keeps its slot (so its element, and a
 * selection in it, stay put), and a line that comes in takes the slot of one that left: the
 * element is reused with new text. A whole-screen change then updates text in place, in
 * order, and moves no element.
 */
export class RowSlots {
  /** Line key -> slot, in the order of the last call. */
  private slotOf = new Map<number, number>()
  private nextSlot = 0

  /**
   * Slots for `keys` (line keys in screen order, no repeats). The same keys twice in a row get
   * the same slots (a render that React repeats is harmless).
   */
  assign(keys: readonly number[]): number[] {
    const kept = new Set<number>()
    for (const key of keys) {
      const slot = this.slotOf.get(key)
      if (slot !== undefined) kept.add(slot)
    }
    // Slots of lines that left, in their old screen order, for the lines that came in.
    const free = [...this.slotOf.values()].filter((slot) => !kept.has(slot))
    let f = 0
    const next = new Map<number, number>()
    const slots = keys.map((key) => {
      const slot = this.slotOf.get(key) ?? (f < free.length ? free[f++] : this.nextSlot++)
      next.set(key, slot)
      return slot
    })
    this.slotOf = next
    return slots
  }
}
