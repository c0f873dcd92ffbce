/**
 * Time, injectable. Everything time-dependent in the core (restart backoff, minimum uptime,
 * stop escalation) reads the clock and sets timers through it, so tests drive the whole
 * state machine with a fake clock in milliseconds.
 */

/** An opaque timer handle. */
export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout

/** The clock and timer source used by the core. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number
  /** Run `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle
  /** Cancel a timer; cancelling a fired or cancelled timer is a no-op. */
  clearTimeout(handle: TimerHandle): void
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}
