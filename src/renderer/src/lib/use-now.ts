import { useEffect, useState } from 'react'

/**
 * The current time, re-rendering every `intervalMs` while `active`. It reads the clock on every
 * render, not only on ticks, so a render caused by something else (a status change) is never
 * up to one interval stale.
 */
export function useNow(active: boolean, intervalMs = 250): number {
  const [, setTick] = useState(0)
  useEffect(() => {
    if (!active) return
    const timer = setInterval(() => setTick((n) => n + 1), intervalMs)
    return () => clearInterval(timer)
  }, [active, intervalMs])
  return Date.now()
}
