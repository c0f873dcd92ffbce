import { describe, expect, it } from 'vitest'
import type { ProcessInfo } from '../../../shared/contract'
import { attemptText, canStop, needsClock, policyGaveUp, retryCountdown } from './process-helpers'

function info(overrides: Partial<ProcessInfo>): ProcessInfo {
  return {
    id: 'p',
    name: 'p',
    spec: { command: 'false', restart: 'on-failure' },
    state: 'backoff',
    pid: null,
    runCount: 2,
    startedAt: 0,
    endedAt: 10,
    exit: { kind: 'code', code: 1 },
    stdinOpen: false,
    killDeadline: null,
    saved: false,
    nextRetryAt: 2010,
    failedStarts: 2,
    maxRetries: 5,
    runId: 'r',
    ...overrides,
  }
}

describe('backoff helpers', () => {
  it('counts down whole seconds to the next retry, only in backoff', () => {
    expect(retryCountdown(info({}), 10)).toBe(2)
    expect(retryCountdown(info({}), 1011)).toBe(1)
    expect(retryCountdown(info({}), 5000)).toBe(0)
    expect(retryCountdown(info({ state: 'fatal', nextRetryAt: null }), 10)).toBeNull()
  })

  it('words the attempt count', () => {
    expect(attemptText(info({}))).toBe('failed starts: 2 of 5')
  })

  it('lets Stop cancel a pending restart, and keeps the clock ticking for it', () => {
    expect(canStop(info({}))).toBe(true)
    expect(needsClock(info({}))).toBe(true)
    expect(canStop(info({ state: 'fatal' }))).toBe(false)
    expect(needsClock(info({ state: 'exited' }))).toBe(false)
  })

  it('tells a policy that gave up from a program that could not start', () => {
    expect(policyGaveUp(info({ state: 'fatal' }))).toBe(true)
    expect(policyGaveUp(info({ state: 'fatal', spec: { command: 'nope' } }))).toBe(false)
  })
})
