import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import {
  describeProcesses,
  findMarked,
  RUN_MARK_VAR,
  runMark,
  signalEach,
} from '../../src/main/core/run-mark'
import { alive, sleep } from '../helpers'

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
})

/** `sleep` with exactly `env` as its environment, in a group of its own when `detached`. */
function sleeper(env: Record<string, string>, detached = false): ChildProcess {
  const child = spawn('/bin/sleep', ['30'], { env, detached, stdio: 'ignore' })
  children.push(child)
  return child
}

describe.runIf(process.platform === 'linux')('run marks (/proc)', () => {
  it('finds the processes of a mark wherever it stands in their environment, and no others', async () => {
    const mark = runMark('p-test', 7)
    const first = sleeper({ [RUN_MARK_VAR]: mark, A: '1' })
    const middle = sleeper({ A: '1', [RUN_MARK_VAR]: mark, B: '2' }, true)
    // Another run's mark, one that only starts like it, and the name inside another value.
    sleeper({ [RUN_MARK_VAR]: runMark('p-test', 8) })
    sleeper({ [RUN_MARK_VAR]: `${mark}0` })
    sleeper({ X: `${RUN_MARK_VAR}=${mark}` })
    await sleep(100)
    const found = await findMarked(mark, 0)
    expect(found.map((p) => p.pid)).toEqual([first.pid!, middle.pid!].sort((a, b) => a - b))
    expect(found.every((p) => p.command === '/bin/sleep 30')).toBe(true)
    // The one in a group of its own is left out when that group is excepted.
    expect((await findMarked(mark, 0, middle.pid)).map((p) => p.pid)).toEqual([first.pid])
    signalEach(found, 'SIGKILL')
    await expect.poll(() => [first.pid!, middle.pid!].filter(alive)).toEqual([])
  })

  it('describes a few processes by pid and command, and counts the rest', () => {
    const procs = [1, 2, 3, 4, 5].map((pid) => ({ pid, command: `sleep ${pid}` }))
    expect(describeProcesses(procs.slice(0, 1))).toBe('pid 1 (sleep 1)')
    expect(describeProcesses(procs)).toBe(
      'pid 1 (sleep 1), pid 2 (sleep 2), pid 3 (sleep 3) and 2 more',
    )
    expect(describeProcesses([{ pid: 9, command: '' }])).toBe('pid 9')
  })
})
