import type { Clock, TimerHandle } from '../src/main/core/clock'

/** A clock that only moves when told to; timers fire in due order as it advances. */
export class FakeClock implements Clock {
  private time: number
  private timers: { id: number; due: number; fn: () => void }[] = []
  private nextId = 1

  constructor(start = 1_700_000_000_000) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++
    this.timers.push({ id, due: this.time + ms, fn })
    return id as unknown as TimerHandle
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== (handle as unknown as number))
  }

  /** Pending timers' delays from now, soonest first. */
  pending(): number[] {
    return this.timers.map((t) => t.due - this.time).sort((a, b) => a - b)
  }

  /** Move time forward, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.time + ms
    for (;;) {
      const next = this.timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due)[0]
      if (!next) break
      this.timers = this.timers.filter((t) => t !== next)
      this.time = next.due
      next.fn()
    }
    this.time = target
  }
}
