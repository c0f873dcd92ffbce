import { describe, expect, it } from 'vitest'
import { TurnPacer } from '../../src/main/core/pacer'

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
