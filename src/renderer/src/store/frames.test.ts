import { afterEach, describe, expect, it, vi } from 'vitest'
import { FRAME_FALLBACK_MS, nextFrame } from './frames'

describe('nextFrame', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.useRealTimers()
  })

  /** A page's animation frames, run when the test says so. */
  function stubFrames(): { run: () => void; pending: () => number } {
    const frames = new Map<number, FrameRequestCallback>()
    let next = 1
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => {
      frames.set(next, cb)
      return next++
    })
    vi.stubGlobal('cancelAnimationFrame', (id: number) => frames.delete(id))
    return {
      run: () => {
        const due = [...frames.values()]
        frames.clear()
        for (const cb of due) cb(0)
      },
      pending: () => frames.size,
    }
  }

  it('runs the callback once, in the frame, and drops the fallback timer', () => {
    vi.useFakeTimers()
    const frames = stubFrames()
    const callback = vi.fn()
    nextFrame(callback)
    expect(vi.getTimerCount()).toBe(1)
    frames.run()
    expect(callback).toHaveBeenCalledTimes(1)
    // Nothing still holds the callback: no timer left to fire.
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(FRAME_FALLBACK_MS * 2)
    expect(callback).toHaveBeenCalledTimes(1)
  })

  it('runs the callback after the fallback when no frame comes (hidden page), and drops the frame', () => {
    vi.useFakeTimers()
    const frames = stubFrames()
    const callback = vi.fn()
    nextFrame(callback)
    vi.advanceTimersByTime(FRAME_FALLBACK_MS - 1)
    expect(callback).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(callback).toHaveBeenCalledTimes(1)
    expect(frames.pending()).toBe(0)
    frames.run()
    expect(callback).toHaveBeenCalledTimes(1)
  })

  it('uses a timer alone outside a page', () => {
    vi.useFakeTimers()
    vi.stubGlobal('requestAnimationFrame', undefined)
    const callback = vi.fn()
    nextFrame(callback)
    vi.advanceTimersByTime(0)
    expect(callback).toHaveBeenCalledTimes(1)
  })
})
