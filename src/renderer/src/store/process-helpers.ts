/** Pure facts about a process that several components show or act on. */
import type { ProcessInfo, ProcessState } from '../../../shared/contract'

/** States with a live process group that can receive signals. */
const SIGNALLABLE: readonly ProcessState[] = ['starting', 'running', 'stopping']
/** States the host refuses to remove (a process still alive or about to be restarted). */
const BUSY: readonly ProcessState[] = ['starting', 'running', 'stopping', 'backoff']

/** Whether Interrupt, Stop and Kill apply. */
export function canSignal(info: ProcessInfo): boolean {
  return SIGNALLABLE.includes(info.state)
}

/** Whether Stop applies: a live run, or a pending restart (Stop cancels it). */
export function canStop(info: ProcessInfo): boolean {
  return canSignal(info) || info.state === 'backoff'
}

/** Whether the process may be removed from the list. */
export function canRemove(info: ProcessInfo): boolean {
  return !BUSY.includes(info.state)
}

/** Whether typing into the process's stdin can work. */
export function canWrite(info: ProcessInfo): boolean {
  return info.state === 'running' && info.stdinOpen
}

/** Whether the run's clock is still going. */
export function isTicking(info: ProcessInfo): boolean {
  return SIGNALLABLE.includes(info.state) && info.startedAt !== null
}

/** Colour family of the state dot and badge. */
export type StateTone = 'live' | 'pending' | 'ok' | 'neutral' | 'error'

export function stateTone(info: ProcessInfo): StateTone {
  switch (info.state) {
    case 'running':
      return 'live'
    case 'starting':
    case 'stopping':
    case 'backoff':
      return 'pending'
    case 'fatal':
      return 'error'
    case 'stopped':
      return 'neutral'
    case 'exited':
      if (info.exit?.kind === 'code' && info.exit.code === 0) return 'ok'
      return 'error'
  }
}

/** Milliseconds the current or last run has lasted, or null before the first run. */
export function runDuration(info: ProcessInfo, now: number): number | null {
  if (info.startedAt === null) return null
  return Math.max(0, (info.endedAt ?? now) - info.startedAt)
}

/** Whole seconds left before the host escalates a stop to SIGKILL, or null if not stopping. */
export function killCountdown(info: ProcessInfo, now: number): number | null {
  if (info.state !== 'stopping' || info.killDeadline === null) return null
  return Math.max(0, Math.ceil((info.killDeadline - now) / 1000))
}

/** Whole seconds until the next automatic restart, or null if none is pending. */
export function retryCountdown(info: ProcessInfo, now: number): number | null {
  if (info.state !== 'backoff' || info.nextRetryAt === null) return null
  return Math.max(0, Math.ceil((info.nextRetryAt - now) / 1000))
}

/** The restart policy's attempt count: `failed starts: 2 of 5`. */
export function attemptText(info: ProcessInfo): string {
  return `failed starts: ${info.failedStarts} of ${info.maxRetries}`
}

/** Whether the restart policy gave up on this process (rather than it failing with no policy). */
export function policyGaveUp(info: ProcessInfo): boolean {
  return info.state === 'fatal' && (info.spec.restart ?? 'never') !== 'never'
}

/** Whether the clock of the header or list must tick (run time, kill or retry countdown). */
export function needsClock(info: ProcessInfo): boolean {
  return isTicking(info) || info.state === 'backoff'
}
