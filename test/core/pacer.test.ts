import { describe, expect, it } from 'vitest'
import { ReadBudget, TurnPacer } from '../../src/main/core/pacer'

describe('TurnPacer', () => {
  it('hands out one turn per event-loop iteration, in order, with other work in between', async () => {
    const pacer = new TurnPacer()
    const log: string[] = []
    // Other work that runs once per iteration, like output reads would.
    let steps = 0
    const other = (): void => {
      log.push('other')
      if (++steps < 8) setImmediate(other)
    }
    setImmediate(other)
    await Promise.all([0, 1, 2, 3].map((i) => pacer.turn().then(() => log.push(`turn ${i}`))))
    await new Promise((r) => setTimeout(r, 10))
    const turns = log.filter((e) => e.startsWith('turn'))
    expect(turns).toEqual(['turn 0', 'turn 1', 'turn 2', 'turn 3'])
    // No two turns in the same iteration: the other work always runs between them.
    for (let i = 1; i < log.length; i++) {
      if (log[i].startsWith('turn')) expect(log[i - 1]).toBe('other')
    }
  })
})

describe('ReadBudget', () => {
  it('lets readers go on within the budget of a turn, pauses the one over it, and resumes it next turn', async () => {
    const budget = new ReadBudget(100)
    const resumed: string[] = []
    expect(budget.spend(60, () => resumed.push('a'))).toBe(true)
    expect(budget.spend(40, () => resumed.push('b'))).toBe(true)
    expect(budget.spend(1, () => resumed.push('c'))).toBe(false)
    expect(budget.spend(50, () => resumed.push('d'))).toBe(false)
    expect(resumed).toEqual([])
    await new Promise((r) => setImmediate(r))
    // Next turn: the paused readers resume, in order, with a fresh budget.
    expect(resumed).toEqual(['c', 'd'])
    expect(budget.spend(100, () => resumed.push('e'))).toBe(true)
  })
})
