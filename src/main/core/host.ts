import os from 'node:os'
import {
  CorralError,
  type CallResult,
  type CorralApi,
  type HostInfo,
  type OutputSnapshot,
  type ProcessId,
} from '../../shared/contract'
import { COLOR_CHILD_ENV, DEFAULT_CHILD_ENV, userShell } from './launch'
import { ptyAvailability } from './pty'
import { argSchemas, isApiMethod } from './schemas'
import type { Supervisor, SupervisorListener } from './supervisor'

/**
 * The transport-neutral dispatcher. Electron IPC and the headless WebSocket both hand every
 * command to {@link Host.call} and forward {@link Host.subscribe} events; neither knows the
 * supervisor. Every payload is validated here, once, for both.
 */
export class Host {
  private readonly api: CorralApi

  constructor(private readonly supervisor: Supervisor) {
    const s = supervisor
    this.api = {
      hostInfo: async () => this.hostInfo(),
      list: async () => s.list(),
      start: (spec) => s.start(spec),
      restart: (id) => s.restart(id),
      write: (id, data, options) => s.write(id, data, options),
      closeStdin: async (id) => s.closeStdin(id),
      signal: async (id, sig) => s.signal(id, sig),
      stop: (id) => s.stop(id),
      kill: (id) => s.kill(id),
      remove: async (id) => s.remove(id),
      output: async (id, afterSeq, maxBytes) => s.output(id, afterSeq, maxBytes),
      define: (spec) => s.define(spec),
      update: async (id, spec) => s.update(id, spec),
      duplicate: async (id) => s.duplicate(id),
      retryNow: (id) => s.retryNow(id),
      runs: async (id) => s.runs(id),
      runOutput: async (id, runId, range) => s.runOutput(id, runId, range),
      orphans: async () => s.orphans(),
      endOrphans: () => s.endOrphans(),
      resize: async (id, cols, rows) => s.resize(id, cols, rows),
      ack: async (id, bytes) => s.ack(id, bytes),
    }
  }

  /**
   * Run one command. Never throws: unknown methods, invalid payloads and failures all come
   * back as `{ ok: false, error: { code, message } }`.
   */
  async call(method: unknown, args: unknown): Promise<CallResult> {
    try {
      return await this.dispatch(method, args)
    } catch (err) {
      // Anything unforeseen (a payload nested deep enough to exhaust the stack) is still an
      // error reply, never a crash.
      return fail(err)
    }
  }

  private async dispatch(method: unknown, args: unknown): Promise<CallResult> {
    if (!isApiMethod(method)) {
      // Describe, never stringify: a hostile value can make String() throw.
      const name =
        typeof method === 'string' ? JSON.stringify(method.slice(0, 64)) : `a ${typeof method}`
      return fail(new CorralError('UNKNOWN_METHOD', `Unknown method: ${name}`))
    }
    const poison = findPoisonKey(args)
    if (poison) {
      return fail(
        new CorralError(
          'INVALID_PAYLOAD',
          `Invalid arguments for ${method}: key "${poison}" is not allowed`,
        ),
      )
    }
    const parsed = argSchemas[method].safeParse(args)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue?.path.length ? ` at ${issue.path.map(String).join('.')}` : ''
      return fail(
        new CorralError(
          'INVALID_PAYLOAD',
          `Invalid arguments for ${method}${where}: ${issue?.message}`,
        ),
      )
    }
    const fn = this.api[method] as (...a: unknown[]) => Promise<unknown>
    const value = await fn(...(parsed.data as unknown[]))
    return { ok: true, value: value ?? null }
  }

  /**
   * Retained output of a process after `afterSeq` (only the newest that fits in about
   * `maxBytes`), synchronously, for transports that catch a slow client up; null if the
   * process is gone.
   */
  outputSince(id: ProcessId, afterSeq: number, maxBytes?: number): OutputSnapshot | null {
    try {
      return this.supervisor.output(id, afterSeq, maxBytes)
    } catch {
      // Removed meanwhile: nothing to catch up on.
      return null
    }
  }

  /** A transport's viewer shows only these processes now; null: it is gone. */
  viewing(viewer: object, ids: readonly ProcessId[] | null): void {
    this.supervisor.viewing(viewer, ids)
  }

  /** Subscribe to every contract event. */
  subscribe(listener: SupervisorListener): () => void {
    return this.supervisor.subscribe(listener)
  }

  private hostInfo(): HostInfo {
    return {
      platform: process.platform,
      shell: userShell(),
      homeDir: os.homedir(),
      stopGraceMs: this.supervisor.stopGraceMs,
      defaultEnv: { ...DEFAULT_CHILD_ENV, ...COLOR_CHILD_ENV },
      dataDir: this.supervisor.dataDir,
      warnings: [...this.supervisor.warnings],
      terminal: ptyAvailability(),
    }
  }
}

const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * The first own key anywhere in `value` that could reach a prototype if some code ever used
 * it as a property name. Such payloads are refused outright rather than silently cleaned.
 */
export function findPoisonKey(value: unknown, seen = new Set<object>()): string | null {
  if (typeof value !== 'object' || value === null || seen.has(value)) return null
  seen.add(value)
  for (const key of Object.keys(value)) {
    if (POISON_KEYS.has(key)) return key
    const found = findPoisonKey((value as Record<string, unknown>)[key], seen)
    if (found) return found
  }
  return null
}

function fail(err: unknown): CallResult {
  if (err instanceof CorralError) return { ok: false, error: err.toData() }
  // An unexpected failure is reported, not rethrown: one bad call must not take down the host.
  const message = err instanceof Error ? err.message : String(err)
  return { ok: false, error: { code: 'INTERNAL', message } }
}
