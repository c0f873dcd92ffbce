/**
 * Work that must not make the page's frames long is done a slice per animation frame. A
 * hidden page gets no animation frames; the timer makes sure the work still goes on (cheaply,
 * since nothing renders), and outside a page (tests) a timer is all there is.
 */

/** Longest wait for a frame before the callback runs anyway. */
export const FRAME_FALLBACK_MS = 250

/**
 * Run `callback` once, before the next paint (or after {@link FRAME_FALLBACK_MS}). Whichever
 * comes first cancels the other, so nothing keeps the callback (and what it holds, such as a
 * range just loaded from disk) alive after it ran.
 */
export function nextFrame(callback: () => void): void {
  if (typeof requestAnimationFrame !== 'function') {
    setTimeout(callback, 0)
    return
  }
  const frame = requestAnimationFrame(() => {
    clearTimeout(timer)
    callback()
  })
  const timer = setTimeout(() => {
    cancelAnimationFrame(frame)
    callback()
  }, FRAME_FALLBACK_MS)
}
