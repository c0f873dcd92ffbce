/**
 * The process form's values and their translation to and from a {@link ProcessSpec}. Pure, so
 * the New process form and the Edit panel share one set of rules and both can be unit-tested.
 */
import type { ProcessSpec, RestartPolicyName, StopSignal } from '../../../shared/contract'
import { formatEnvLines, parseEnvLines } from '../../../shared/env-lines'

/** What the form fields hold: text as typed, so a half-typed value is never lost. */
export interface SpecFormValues {
  command: string
  cwd: string
  env: string
  name: string
  shell: boolean
  /** Run in a pseudo-terminal (unticked when absent). */
  terminal?: boolean
  restart: RestartPolicyName
  /** Comma-separated exit codes; empty means the default (0). */
  successCodes: string
  stopSignal: StopSignal
  /** Seconds; empty means the host's default. */
  graceSeconds: string
  autostart: boolean
}

/** Which field an error belongs to, so it can be marked invalid and described. */
export type SpecFormField = 'env' | 'successCodes' | 'graceSeconds'

/** The result of {@link specFromForm}. */
export type SpecFormResult =
  { ok: true; spec: ProcessSpec } | { ok: false; field: SpecFormField; error: string }

/** Longest grace period the host accepts, in seconds (one day). */
export const MAX_GRACE_SECONDS = 24 * 60 * 60

/** The values of an empty form. */
export function emptyFormValues(): SpecFormValues {
  return {
    command: '',
    cwd: '',
    env: '',
    name: '',
    shell: false,
    terminal: false,
    restart: 'never',
    successCodes: '',
    stopSignal: 'SIGTERM',
    graceSeconds: '',
    autostart: false,
  }
}

/** The form pre-filled from a spec (Edit). */
export function formFromSpec(spec: ProcessSpec): SpecFormValues {
  return {
    command: spec.command,
    cwd: spec.cwd ?? '',
    env: formatEnvLines(spec.env),
    name: spec.name ?? '',
    shell: spec.shell ?? false,
    terminal: spec.terminal ?? false,
    restart: spec.restart ?? 'never',
    successCodes: spec.successCodes?.join(', ') ?? '',
    stopSignal: spec.stopSignal ?? 'SIGTERM',
    graceSeconds: spec.stopGraceMs === undefined ? '' : String(spec.stopGraceMs / 1000),
    autostart: spec.autostart ?? false,
  }
}

/**
 * Whether a change may fix an error in `field`: an edit of the field itself, or a policy
 * change (which can make the Success codes field irrelevant).
 */
export function touches(patch: Partial<SpecFormValues>, field: SpecFormField): boolean {
  return field in patch || (field === 'successCodes' && 'restart' in patch)
}

/** Parse the Success codes field: comma- or space-separated exit codes 0-255; empty is `[]`. */
export function parseSuccessCodes(
  text: string,
): { ok: true; codes: number[] } | { ok: false; error: string } {
  const parts = text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
  const codes: number[] = []
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) {
      return { ok: false, error: `Success codes: "${part}" is not an exit code (0–255).` }
    }
    const code = Number(part)
    if (!codes.includes(code)) codes.push(code)
  }
  return { ok: true, codes }
}

/** Parse the Grace period field (seconds, decimals allowed) into whole milliseconds. */
export function parseGraceSeconds(
  text: string,
): { ok: true; ms: number | undefined } | { ok: false; error: string } {
  const trimmed = text.trim()
  if (trimmed === '') return { ok: true, ms: undefined }
  const seconds = /^\d+(\.\d*)?$|^\.\d+$/.test(trimmed) ? Number(trimmed) : NaN
  if (!Number.isFinite(seconds) || seconds > MAX_GRACE_SECONDS) {
    return {
      ok: false,
      error: `Grace period: expected a number of seconds from 0 to ${MAX_GRACE_SECONDS}, got "${trimmed}".`,
    }
  }
  return { ok: true, ms: Math.round(seconds * 1000) }
}

/**
 * Build the spec the form describes. Fields left at their default are omitted, so a saved
 * definition keeps following the host's defaults. `base` carries settings the form does not
 * show (minimum uptime, retry limit) through an edit unchanged.
 */
export function specFromForm(values: SpecFormValues, base?: ProcessSpec): SpecFormResult {
  const env = parseEnvLines(values.env)
  if (!env.ok) return { ok: false, field: 'env', error: env.error }
  // Success codes mean something only to on-failure; a value left in the (then disabled)
  // field must not block saving under another policy.
  const usesCodes = values.restart === 'on-failure'
  const codes = usesCodes
    ? parseSuccessCodes(values.successCodes)
    : { ok: true as const, codes: [] }
  if (!codes.ok) return { ok: false, field: 'successCodes', error: codes.error }
  const grace = parseGraceSeconds(values.graceSeconds)
  if (!grace.ok) return { ok: false, field: 'graceSeconds', error: grace.error }

  const spec: ProcessSpec = { command: values.command }
  if (values.shell) spec.shell = true
  if (values.terminal) spec.terminal = true
  if (values.cwd.trim() !== '') spec.cwd = values.cwd.trim()
  if (Object.keys(env.env).length > 0) spec.env = env.env
  if (values.name.trim() !== '') spec.name = values.name.trim()
  if (values.restart !== 'never') spec.restart = values.restart
  if (codes.codes.length > 0 && !(codes.codes.length === 1 && codes.codes[0] === 0)) {
    spec.successCodes = codes.codes
  }
  if (values.stopSignal !== 'SIGTERM') spec.stopSignal = values.stopSignal
  if (grace.ms !== undefined) spec.stopGraceMs = grace.ms
  if (values.autostart) spec.autostart = true
  if (base?.minUptimeMs !== undefined) spec.minUptimeMs = base.minUptimeMs
  if (base?.maxRetries !== undefined) spec.maxRetries = base.maxRetries
  return { ok: true, spec }
}
