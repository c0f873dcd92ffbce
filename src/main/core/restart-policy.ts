import type { ExitInfo, RestartPolicyName } from '../../shared/contract'

/** A start counts as successful once the run has been up this long. */
export const MIN_UPTIME_MS = 1000
/** First restart delay; doubles on each consecutive restart. */
export const BACKOFF_INITIAL_MS = 1000
/** Longest restart delay. */
export const BACKOFF_MAX_MS = 30_000
/** A run up at least this long resets the backoff to its initial delay. */
export const BACKOFF_RESET_MS = 30_000
/** Failed starts in a row allowed before the process goes to `fatal` (retries after the first). */
export const MAX_RETRIES = 5

/** The restart policy of one process, with every default filled in. */
export interface RestartPolicy {
  policy: RestartPolicyName
  successCodes: readonly number[]
  minUptimeMs: number
  maxRetries: number
  backoffInitialMs: number
  backoffMaxMs: number
  backoffResetMs: number
}

/** Counters the policy keeps across runs of one process. */
export interface RestartCounters {
  /** Consecutive runs that ended before the minimum uptime. */
  failedStarts: number
  /** Consecutive automatic restarts since the last run that was up long enough to reset. */
  restarts: number
}

/** How one run ended, as the policy sees it. */
export interface RunOutcome {
  exit: ExitInfo
  uptimeMs: number
  /** The user asked for this run to end (Stop, Kill, or a signal from the UI). */
  userStopped: boolean
}

/** What to do after a run ended. */
export type RestartDecision =
  | { action: 'exit'; counters: RestartCounters }
  | { action: 'backoff'; delayMs: number; counters: RestartCounters }
  | { action: 'fatal'; counters: RestartCounters }

/** Fill in defaults for a spec's policy fields. */
export function resolvePolicy(spec: {
  restart?: RestartPolicyName
  successCodes?: number[]
  minUptimeMs?: number
  maxRetries?: number
}): RestartPolicy {
  return {
    policy: spec.restart ?? 'never',
    successCodes: spec.successCodes?.length ? spec.successCodes : [0],
    minUptimeMs: spec.minUptimeMs ?? MIN_UPTIME_MS,
    maxRetries: spec.maxRetries ?? MAX_RETRIES,
    backoffInitialMs: BACKOFF_INITIAL_MS,
    backoffMaxMs: BACKOFF_MAX_MS,
    backoffResetMs: BACKOFF_RESET_MS,
  }
}

/** Whether a run ended in a way the `on-failure` policy restarts. */
export function isFailure(policy: RestartPolicy, outcome: RunOutcome): boolean {
  const { exit } = outcome
  if (exit.kind === 'code') return !policy.successCodes.includes(exit.code)
  if (exit.kind === 'signal') return !outcome.userStopped
  return true
}

/**
 * The restart decision, supervisord-style. A run shorter than the minimum uptime is a failed
 * start; more than `maxRetries` of them in a row is fatal. Otherwise the next start waits
 * `initial * 2^restarts`, capped, where `restarts` resets after a run that stayed up
 * `backoffResetMs`. A run the user stopped is never restarted.
 */
export function decideAfterRun(
  policy: RestartPolicy,
  counters: RestartCounters,
  outcome: RunOutcome,
): RestartDecision {
  const startFailed = outcome.exit.kind === 'failed' || outcome.uptimeMs < policy.minUptimeMs
  const next: RestartCounters = {
    failedStarts: startFailed ? counters.failedStarts + 1 : 0,
    restarts: outcome.uptimeMs >= policy.backoffResetMs ? 0 : counters.restarts,
  }
  if (outcome.userStopped) return { action: 'exit', counters: { failedStarts: 0, restarts: 0 } }
  const wantsRestart =
    policy.policy === 'always' || (policy.policy === 'on-failure' && isFailure(policy, outcome))
  if (!wantsRestart) return { action: 'exit', counters: next }
  if (next.failedStarts > policy.maxRetries) return { action: 'fatal', counters: next }
  const delayMs = Math.min(policy.backoffInitialMs * 2 ** next.restarts, policy.backoffMaxMs)
  return { action: 'backoff', delayMs, counters: { ...next, restarts: next.restarts + 1 } }
}
