/**
 * Work that must not make the page's frames long is done a slice per animation frame. A
 * hidden page gets no animation frames; the timer makes sure the work still goes on (cheaply,
 * since nothing renders), and outside a page (tests) a timer is all there is.
 */

/** Longest wait for a frame before the callback runs anyway. */
export const FRAME_FALLBACK_MS = 250

/** Run `callback` once, before the next paint (or after {@link FRAME_FALLBACK_MS}). */
export function nextFrame(callback: () => void): void {
  let done = false
  const run = (): void => {
    if (done) return
    done = true
    callback()
  }
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(run)
  setTimeout(run, typeof requestAnimationFrame === 'function' ? FRAME_FALLBACK_MS : 0)
}
