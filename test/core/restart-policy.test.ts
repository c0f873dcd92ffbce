import { describe, expect, it } from 'vitest'
import {
  decideAfterRun,
  resolvePolicy,
  type RestartCounters,
  type RunOutcome,
} from '../../src/main/core/restart-policy'

const crash: RunOutcome = { exit: { kind: 'code', code: 1 }, uptimeMs: 10, userStopped: false }
const zero = { failedStarts: 0, restarts: 0 }

/** Feed the same outcome repeatedly; collect each decision's action and delay. */
function loop(policy: ReturnType<typeof resolvePolicy>, outcome: RunOutcome, n: number) {
  let counters: RestartCounters = zero
  const out: (number | string)[] = []
  for (let i = 0; i < n; i++) {
    const d = decideAfterRun(policy, counters, outcome)
    counters = d.counters
    out.push(d.action === 'backoff' ? d.delayMs : d.action)
    if (d.action !== 'backoff') break
  }
  return out
}

describe('restart policy', () => {
  it('defaults: never restart, success code 0, 1 s min uptime, 5 retries', () => {
    expect(resolvePolicy({})).toMatchObject({
      policy: 'never',
      successCodes: [0],
      minUptimeMs: 1000,
      maxRetries: 5,
      backoffInitialMs: 1000,
      backoffMaxMs: 30_000,
      backoffResetMs: 30_000,
    })
    expect(decideAfterRun(resolvePolicy({}), zero, crash).action).toBe('exit')
  })

  it('a crash loop backs off 1, 2, 4, 8, 16 s, then goes fatal', () => {
    expect(loop(resolvePolicy({ restart: 'on-failure' }), crash, 10)).toEqual([
      1000,
      2000,
      4000,
      8000,
      16_000,
      'fatal',
    ])
  })

  it('caps the delay at 30 s for processes that start fine but keep dying', () => {
    const dies = { ...crash, uptimeMs: 5000 }
    expect(loop(resolvePolicy({ restart: 'always' }), dies, 8)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ])
  })

  it('resets the backoff after a run that stayed up 30 s', () => {
    const policy = resolvePolicy({ restart: 'always' })
    let counters: RestartCounters = { failedStarts: 3, restarts: 4 }
    const d = decideAfterRun(policy, counters, { ...crash, uptimeMs: 30_000 })
    expect(d).toEqual({
      action: 'backoff',
      delayMs: 1000,
      counters: { failedStarts: 0, restarts: 1 },
    })
    counters = d.counters
    expect(decideAfterRun(policy, counters, crash)).toMatchObject({ delayMs: 2000 })
  })

  it('a successful start (min uptime reached) clears the failed-start count', () => {
    const policy = resolvePolicy({ restart: 'always' })
    const d = decideAfterRun(policy, { failedStarts: 4, restarts: 4 }, { ...crash, uptimeMs: 1500 })
    expect(d.counters.failedStarts).toBe(0)
    expect(d.action).toBe('backoff')
  })

  it('on-failure honours success codes and user-sent signals', () => {
    const policy = resolvePolicy({ restart: 'on-failure', successCodes: [0, 3] })
    const exit3: RunOutcome = {
      exit: { kind: 'code', code: 3 },
      uptimeMs: 5000,
      userStopped: false,
    }
    expect(decideAfterRun(policy, zero, exit3).action).toBe('exit')
    expect(decideAfterRun(policy, zero, { ...exit3, exit: { kind: 'code', code: 4 } }).action).toBe(
      'backoff',
    )
    const sig: RunOutcome = {
      exit: { kind: 'signal', signal: 'SIGSEGV', afterGrace: false },
      uptimeMs: 5000,
      userStopped: false,
    }
    expect(decideAfterRun(policy, zero, sig).action).toBe('backoff')
    expect(decideAfterRun(policy, zero, { ...sig, userStopped: true }).action).toBe('exit')
  })

  it('always restarts even a clean exit, but never a user stop', () => {
    const policy = resolvePolicy({ restart: 'always' })
    const clean: RunOutcome = {
      exit: { kind: 'code', code: 0 },
      uptimeMs: 5000,
      userStopped: false,
    }
    expect(decideAfterRun(policy, zero, clean).action).toBe('backoff')
    expect(decideAfterRun(policy, zero, { ...clean, userStopped: true }).action).toBe('exit')
  })

  it('a program that cannot start counts as a failed start', () => {
    const policy = resolvePolicy({ restart: 'always', maxRetries: 1 })
    const failed: RunOutcome = {
      exit: { kind: 'failed', code: 'ENOENT', reason: 'x' },
      uptimeMs: 5000,
      userStopped: false,
    }
    expect(loop(policy, failed, 5)).toEqual([1000, 'fatal'])
  })
})
