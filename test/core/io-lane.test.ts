import { describe, expect, it } from 'vitest'
import { IoLane } from '../../src/main/core/io-lane'

/** A job that finishes when told to, recording when it began. */
function gated(log: string[], name: string) {
  let open!: () => void
  let fail!: (err: Error) => void
  const gate = new Promise<string>((resolve, reject) => {
    open = () => resolve(name)
    fail = reject
  })
  return {
    job: () => {
      log.push(name)
      return gate
    },
    open,
    fail,
  }
}

describe('IoLane', () => {
  it('runs at most its limit of jobs at once, in the order they came', async () => {
    const lane = new IoLane(2)
    const began: string[] = []
    const jobs = ['a', 'b', 'c', 'd'].map((n) => gated(began, n))
    const done = jobs.map((j) => lane.run(j.job))
    await Promise.resolve()
    expect(began).toEqual(['a', 'b'])
    expect(lane.size).toBe(4)
    jobs[1].open()
    await done[1]
    await Promise.resolve()
    expect(began).toEqual(['a', 'b', 'c'])
    jobs[0].open()
    jobs[2].open()
    jobs[3].open()
    expect(await Promise.all(done)).toEqual(['a', 'b', 'c', 'd'])
    expect(lane.size).toBe(0)
  })

  it('passes a failed job its error and goes on with the next', async () => {
    const lane = new IoLane(1)
    const began: string[] = []
    const first = gated(began, 'first')
    const second = gated(began, 'second')
    const a = lane.run(first.job)
    const b = lane.run(second.job)
    first.fail(new Error('disk full'))
    await expect(a).rejects.toThrow('disk full')
    await Promise.resolve()
    expect(began).toEqual(['first', 'second'])
    second.open()
    expect(await b).toBe('second')
    expect(lane.size).toBe(0)
  })
})
