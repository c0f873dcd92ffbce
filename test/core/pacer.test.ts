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
  /** A reader that records when it is told to stop and go on. */
  const reader = (name: string, log: string[]) => ({
    hold: (on: boolean) => log.push(`${name} ${on ? 'paused' : 'resumed'}`),
  })
  const nextTurn = () => new Promise((r) => setImmediate(r))

  it('pauses everyone reading once a turn has read more than the budget, and resumes them next turn', async () => {
    const budget = new ReadBudget(100)
    const log: string[] = []
    const [a, b, c, quiet] = ['a', 'b', 'c', 'quiet'].map((n) => reader(n, log))
    // A turn in which a, b and c read.
    for (const r of [a, b, c]) budget.spend(10, r)
    await nextTurn()
    // This turn a and b read up to the budget; the next read goes over it.
    budget.spend(60, a)
    budget.spend(40, b)
    expect(log).toEqual([])
    budget.spend(1, a)
    // Not only the reader that went over: c, which read last turn and may have data waiting,
    // pauses before it is read in this turn. A process that read nothing lately is left alone.
    expect(log.sort()).toEqual(['a paused', 'b paused', 'c paused'])
    // Reads already under way this turn pause no one twice; a reader waking up now pauses.
    budget.spend(50, b)
    budget.spend(5, quiet)
    expect(log.slice(3)).toEqual(['quiet paused'])
    await nextTurn()
    expect(log.slice(4).sort()).toEqual(['a resumed', 'b resumed', 'c resumed', 'quiet resumed'])
    // A fresh budget next turn.
    budget.spend(100, a)
    expect(log).toHaveLength(8)
  })
})
