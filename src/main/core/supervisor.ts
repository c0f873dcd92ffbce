import {
  CorralError,
  type CorralEvents,
  type EventName,
  type OutputSnapshot,
  type ProcessId,
  type ProcessInfo,
  type ProcessSpec,
  type UserSignal,
} from '../../shared/contract'
import { checkCommandLine, programName } from './launch'
import { ManagedProcess, STOP_GRACE_MS } from './managed-process'

/** Options of a {@link Supervisor}. */
export interface SupervisorOptions {
  /** Grace period between SIGTERM and SIGKILL on stop. */
  stopGraceMs?: number
  /** Bound on retained output per process, in characters. */
  bufferChars?: number
  /** Clock, injectable for tests. */
  now?: () => number
}

/** A listener of every supervisor event. */
export type SupervisorListener = <E extends EventName>(event: E, payload: CorralEvents[E]) => void

/**
 * The registry of managed processes. Commands from any transport land here; every change is
 * published as a contract event to whoever subscribed.
 */
export class Supervisor {
  private readonly processes = new Map<ProcessId, ManagedProcess>()
  private readonly listeners = new Set<SupervisorListener>()
  private nextId = 1
  private closing = false

  constructor(private readonly options: SupervisorOptions = {}) {}

  /** Grace period between SIGTERM and SIGKILL. */
  get stopGraceMs(): number {
    return this.options.stopGraceMs ?? STOP_GRACE_MS
  }

  /** Subscribe to every event; returns the unsubscribe function. */
  subscribe(listener: SupervisorListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Every process, oldest first. */
  list(): ProcessInfo[] {
    return [...this.processes.values()].map((p) => p.info())
  }

  /** Create and start a process. Throws only for a spec that can never run (empty command). */
  async start(spec: ProcessSpec): Promise<ProcessInfo> {
    if (this.closing) throw new CorralError('FORBIDDEN', 'Corral is shutting down.')
    checkCommandLine(spec)
    const id = `p${this.nextId++}`
    const name = spec.name?.trim() || programName(spec)
    const proc = new ManagedProcess({
      id,
      spec,
      name,
      stopGraceMs: this.options.stopGraceMs,
      bufferChars: this.options.bufferChars,
      now: this.options.now,
      onStatus: (info) => this.emit('status', info),
      onOutput: (chunks) => this.emit('output', { id, chunks }),
    })
    this.processes.set(id, proc)
    await proc.start()
    return proc.info()
  }

  /** Run a process again, stopping its current run first if it is alive. */
  async restart(id: ProcessId): Promise<ProcessInfo> {
    if (this.closing) throw new CorralError('FORBIDDEN', 'Corral is shutting down.')
    const proc = this.get(id)
    await proc.stop()
    await proc.start()
    return proc.info()
  }

  /** Write to a process's stdin. */
  write(id: ProcessId, data: string): Promise<void> {
    return this.get(id).write(data)
  }

  /** Close a process's stdin. */
  closeStdin(id: ProcessId): void {
    this.get(id).closeStdin()
  }

  /** Signal a process's group. */
  signal(id: ProcessId, sig: UserSignal): void {
    this.get(id).signal(sig)
  }

  /** Stop gracefully; resolves once it ended. */
  async stop(id: ProcessId): Promise<ProcessInfo> {
    const proc = this.get(id)
    await proc.stop()
    return proc.info()
  }

  /** Kill at once; resolves once it ended. */
  async kill(id: ProcessId): Promise<ProcessInfo> {
    const proc = this.get(id)
    await proc.kill()
    return proc.info()
  }

  /** Forget a process that is not running. */
  remove(id: ProcessId): void {
    const proc = this.get(id)
    if (proc.alive) {
      throw new CorralError('STILL_RUNNING', `"${proc.name}" is still running; stop it first.`)
    }
    this.processes.delete(id)
    this.emit('removed', { id })
  }

  /** Retained output of a process. */
  output(id: ProcessId, afterSeq?: number): OutputSnapshot {
    return this.get(id).output(afterSeq)
  }

  /**
   * Stop every process (SIGTERM to each group, SIGKILL after the grace period), then SIGKILL
   * whatever outlived its group leader. Resolves when all have ended.
   */
  async shutdown(): Promise<void> {
    this.closing = true
    const all = [...this.processes.values()]
    await Promise.all(all.map((p) => p.stop()))
    for (const p of all) p.reapGroup()
  }

  private get(id: ProcessId): ManagedProcess {
    const proc = this.processes.get(id)
    if (!proc) throw new CorralError('NO_SUCH_PROCESS', `No process with id "${id}".`)
    return proc
  }

  private emit<E extends EventName>(event: E, payload: CorralEvents[E]): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload)
      } catch (err) {
        // One broken transport connection must not stop events reaching the others.
        console.error('corral: event listener failed', err)
      }
    }
  }
}
