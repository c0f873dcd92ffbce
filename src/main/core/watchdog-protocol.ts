/** How long the watchdog waits after SIGTERM before SIGKILL when Corral died. */
export const CRASH_GRACE_MS = 1000

/** A message from Corral to its watchdog. */
export type WatchdogMessage = { op: 'add'; pgid: number } | { op: 'remove'; pgid: number }

/** Encode a message as one line. */
export function formatWatchdogLine(msg: WatchdogMessage): string {
  return `${msg.op === 'add' ? '+' : '-'}${msg.pgid}\n`
}

/** Decode one line; null for anything malformed. */
export function parseWatchdogLine(line: string): WatchdogMessage | null {
  const m = /^([+-])(\d{1,10})$/.exec(line.trim())
  if (!m) return null
  const pgid = Number(m[2])
  if (pgid <= 1) return null
  return { op: m[1] === '+' ? 'add' : 'remove', pgid }
}
