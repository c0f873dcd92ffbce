import type { ExitInfo, ProcessInfo } from './contract'

/** Human-readable duration: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)} s`
  const totalS = Math.floor(s)
  const min = Math.floor(totalS / 60)
  if (min < 60) return `${min} min ${String(totalS % 60).padStart(2, '0')} s`
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`
}

/** Byte counts for people: `0 B`, `812 B`, `4.2 KB`, `12.5 MB`, `1.1 GB` (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

/**
 * A command for places one line long (the "started" line, the list, the header): a pasted
 * script's first line and how many lines follow it. A one-line command is returned as it is.
 */
export function oneLineCommand(command: string): string {
  if (!command.includes('\n')) return command
  const lines = command.split(/\r?\n/).filter((line) => line.trim() !== '')
  if (lines.length <= 1) return (lines[0] ?? '').trim()
  const more = lines.length - 1
  return `${lines[0].trim()} … (+${more} ${more === 1 ? 'line' : 'lines'})`
}

/** How a run ended, as shown to the user: `exited with code 0`, `killed by SIGTERM`, `failed: …`. */
export function describeExit(exit: ExitInfo): string {
  switch (exit.kind) {
    case 'code':
      return `exited with code ${exit.code}`
    case 'signal':
      return exit.afterGrace
        ? `killed by ${exit.signal} (did not stop within the grace period)`
        : `killed by ${exit.signal}`
    case 'failed':
      return `failed: ${exit.reason}`
  }
}

/** One-line status of a process for lists and headers, with the run's duration once it ended. */
export function describeStatus(info: ProcessInfo): string {
  if (info.exit && info.endedAt !== null) {
    const text = describeExit(info.exit)
    if (info.exit.kind === 'failed' || info.startedAt === null) return text
    return `${text} after ${formatDuration(info.endedAt - info.startedAt)}`
  }
  return info.state
}
