import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  childGroupNice,
  DEFAULT_CHILD_GROUP_NICE,
  niceAutogroup,
} from '../../src/main/core/child-weight'
import { groupNice } from '../helpers'

const hasAutogroup = (() => {
  try {
    readFileSync('/proc/self/autogroup')
    return true
  } catch {
    return false
  }
})()

afterEach(() => vi.restoreAllMocks())

describe("the CPU weight of Corral's children as a group", () => {
  it('is autogroup nice 5 unless CORRAL_CHILD_NICE says otherwise (0 to 19)', () => {
    expect(DEFAULT_CHILD_GROUP_NICE).toBe(5)
    expect(childGroupNice({})).toBe(5)
    expect(childGroupNice({ CORRAL_CHILD_NICE: ' ' })).toBe(5)
    expect(childGroupNice({ CORRAL_CHILD_NICE: '0' })).toBe(0)
    expect(childGroupNice({ CORRAL_CHILD_NICE: '19' })).toBe(19)
  })

  it('says what is wrong with a value it cannot use, and uses nice 5', () => {
    const said = vi.spyOn(console, 'error').mockImplementation(() => {})
    for (const bad of ['high', '-3', '20', '2.5']) {
      expect(childGroupNice({ CORRAL_CHILD_NICE: bad })).toBe(5)
      expect(said).toHaveBeenLastCalledWith(
        `corral: CORRAL_CHILD_NICE must be a whole number from 0 to 19, not "${bad}"; using 5`,
      )
    }
  })

  it.runIf(hasAutogroup)(
    "sets the nice of a session leader's autogroup, and quietly does nothing for one that has ended or for nice 0",
    async () => {
      const said = vi.spyOn(console, 'error')
      const leader = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' })
      const pid = leader.pid!
      try {
        expect(groupNice(pid)).toBe(0)
        expect(await niceAutogroup(pid, 7)).toBe(true)
        expect(groupNice(pid)).toBe(7)
        // Only lowering is asked for: 0 leaves the group as it is.
        expect(await niceAutogroup(pid, 0)).toBe(false)
        expect(groupNice(pid)).toBe(7)
      } finally {
        leader.kill('SIGKILL')
      }
      await new Promise((r) => leader.once('exit', r))
      expect(await niceAutogroup(pid, 7)).toBe(false)
      expect(said).not.toHaveBeenCalled()
    },
  )
})
