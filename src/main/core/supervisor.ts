import { randomBytes } from 'node:crypto'
import path from 'node:path'
import {
  CorralError,
  type CorralEvents,
  type EventName,
  type OrphanGroup,
  type OutputSnapshot,
  type ProcessId,
  type ProcessInfo,
  type ProcessSpec,
  type RunInfo,
  type RunOutput,
  type RunOutputRange,
  type UserSignal,
  type WriteOptions,
} from '../../shared/contract'
import { systemClock, type Clock } from './clock'
import { DefinitionStore } from './definitions-store'
import { DiskRoom } from './disk-room'
import { GroupRegistry } from './group-registry'
import { checkCommandLine } from './launch'
import { ManagedProcess, STOP_GRACE_MS } from './managed-process'
import { OUTPUT_RETAIN_TOTAL_BYTES } from './output-buffer'
import { RetentionBudget } from './shared-ring'
import { groupAlive } from './process-group'
import { RunStore } from './run-store'
import { WatchdogClient } from './watchdog-client'
import { ForkerClient } from './forker'
import { SpawnerClient } from './spawner-client'
import { OutputWorkerClient } from './output-worker-client'

/** Options of a {@link Supervisor}. */
export interface SupervisorOptions {
  /**
   * Where definitions, run logs and the record of live process groups are kept. Without it
   * nothing is written to disk (definitions live only in memory).
   */
  dataDir?: string
  /** The watchdog program to start (see `main/watchdog.ts`); none when omitted. */
  watchdogScript?: string
  /**
   * The spawner program that starts children (see `main/spawner.ts`), so spawning never
   * blocks this event loop; without it (or where it cannot run) children start here.
   */
  spawnerScript?: string
  /**
   * The output worker (see `main/output-worker.ts`): with a spawner, pipe-mode runs start and
   * are read on this worker thread. Off when omitted.
   */
  outputWorkerScript?: string
  /** Default grace period between the stop signal and SIGKILL. */
  stopGraceMs?: number
  /** Bound on retained output per process, in characters. */
  bufferChars?: number
  /** Bound on retained output over all processes, in bytes. */
  retainTotalBytes?: number
  /**
   * Free bytes the data directory's disk must have for a run's output to be spooled (default
   * SPOOL_MIN_FREE_BYTES, see disk-room.ts).
   */
  spoolMinFreeBytes?: number
  /** Clock and timers, injectable for tests. */
  clock?: Clock
}

/** How long {@link Supervisor.warmUp}'s `echo` may take before it is killed. */
export const WARM_UP_TIMEOUT_MS = 5000

/** A listener of every supervisor event. */
export type SupervisorListener = <E extends EventName>(event: E, payload: CorralEvents[E]) => void

/**
 * Milliseconds each part of {@link Supervisor.shutdown} took: stopping the processes, saving
 * the registry of their groups, writing what was left of their run logs, and saving the
 * definitions. A host that is slow to stop can say where the time went.
 */
export interface ShutdownTimes {
  processes: number
  groups: number
  logs: number
  definitions: number
}

/**
 * The registry of managed processes. Commands from any transport land here; every change is
 * published as a contract event to whoever subscribed.
 */
export class Supervisor {
  private readonly processes = new Map<ProcessId, ManagedProcess>()
  /** The processes each viewer shows (see {@link viewing}). */
  private readonly viewed = new Map<object, ReadonlySet<ProcessId>>()
  private readonly listeners = new Set<SupervisorListener>()
  private readonly definitions: DefinitionStore | null
  private readonly runStore: RunStore | null
  private readonly diskRoom: DiskRoom | null
  private readonly groups: GroupRegistry
  private readonly retention: RetentionBudget
  private orphanGroups: OrphanGroup[] = []
  private closing = false
  /** The run of {@link warmUp}, while it lasts. */
  private warming: ManagedProcess | null = null
  private readonly launcher: ForkerClient | null
  private readonly outputWorker: OutputWorkerClient | null
  /** Problems found at startup, for the UI. */
  readonly warnings: string[] = []

  constructor(private readonly options: SupervisorOptions = {}) {
    this.retention = new RetentionBudget(options.retainTotalBytes ?? OUTPUT_RETAIN_TOTAL_BYTES)
    const dataDir = options.dataDir
    this.definitions = dataDir ? new DefinitionStore(path.join(dataDir, 'definitions.json')) : null
    this.runStore = null
    if (dataDir) {
      try {
        this.runStore = new RunStore({ root: path.join(dataDir, 'runs') })
      } catch (err) {
        this.warnings.push(
          `Run logs are off: cannot use ${path.join(dataDir, 'runs')}: ${(err as Error).message}`,
        )
      }
    }
    this.diskRoom =
      this.runStore && dataDir ? new DiskRoom(dataDir, options.spoolMinFreeBytes) : null
    const groupsFile = dataDir ? path.join(dataDir, 'process-groups.json') : null
    const registry = new GroupRegistry(groupsFile, null)
    // Read what an earlier life left before this life records anything over it.
    this.orphanGroups = registry.previousLife()
    const watchdog = options.watchdogScript ? WatchdogClient.start(options.watchdogScript) : null
    this.groups = new GroupRegistry(groupsFile, watchdog)
    // Spooled runs start through the forker where it can run, the rest through the spawner.
    this.launcher = options.spawnerScript
      ? new ForkerClient(new SpawnerClient(options.spawnerScript))
      : null
    this.outputWorker =
      options.spawnerScript && options.outputWorkerScript
        ? new OutputWorkerClient(options.outputWorkerScript, options.spawnerScript, this.retention)
        : null
    // The worker has a spawner of its own; this one is then for when the worker is gone.
    if (!this.outputWorker?.active) this.launcher?.warmUp()
    if (this.definitions) {
      const loaded = this.definitions.load()
      this.warnings.push(...loaded.warnings)
      for (const def of loaded.definitions) this.add(def.id, def.spec, true)
      this.runStore?.deleteLeftovers(new Set(loaded.definitions.map((d) => d.id)))
    }
  }

  /** Default grace period between the stop signal and SIGKILL. */
  get stopGraceMs(): number {
    return this.options.stopGraceMs ?? STOP_GRACE_MS
  }

  /** Where data is kept, or null. */
  get dataDir(): string | null {
    return this.options.dataDir ?? null
  }

  /** Start every saved definition marked autostart. */
  async autostart(): Promise<void> {
    const due = [...this.processes.values()].filter((p) => p.saved && p.spec.autostart && !p.alive)
    await Promise.all(due.map((p) => p.start('autostart')))
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

  /** Create and start an ad-hoc process. Throws only for a spec that can never run. */
  async start(spec: ProcessSpec): Promise<ProcessInfo> {
    this.assertOpen()
    checkCommandLine(spec)
    const proc = this.add(newId('p'), spec, false)
    await proc.start('user')
    return proc.info()
  }

  /** Save a new definition; it starts now only if it autostarts. */
  async define(spec: ProcessSpec): Promise<ProcessInfo> {
    this.assertOpen()
    checkCommandLine(spec)
    const proc = this.add(newId('d'), spec, true)
    await this.persistOrForget(proc)
    if (spec.autostart) await proc.start('user')
    return proc.info()
  }

  /** Save a process with a new spec (an ad-hoc one becomes saved); applies from its next run. */
  async update(id: ProcessId, spec: ProcessSpec): Promise<ProcessInfo> {
    checkCommandLine(spec)
    const proc = this.get(id)
    const before = { saved: proc.saved, spec: proc.spec }
    proc.saved = true
    proc.setSpec(spec)
    try {
      await this.persist()
    } catch (err) {
      // Not saved, so not changed: the next run uses the spec on disk, as after a restart.
      proc.saved = before.saved
      proc.setSpec(before.spec)
      throw err
    }
    if (!before.saved) this.runStore?.setAdHoc(id, false)
    return proc.info()
  }

  /** Save a copy of a process's definition. */
  async duplicate(id: ProcessId): Promise<ProcessInfo> {
    const source = this.get(id)
    const names = new Set([...this.processes.values()].map((p) => p.name))
    let name = `${source.name} copy`
    for (let n = 2; names.has(name); n++) name = `${source.name} copy ${n}`
    const proc = this.add(newId('d'), { ...source.spec, name }, true)
    await this.persistOrForget(proc)
    return proc.info()
  }

  /** Run a process again, stopping its current run first if it is alive. */
  async restart(id: ProcessId): Promise<ProcessInfo> {
    this.assertOpen()
    const proc = this.get(id)
    await proc.stop()
    await proc.start('user')
    return proc.info()
  }

  /** In backoff: start now. */
  async retryNow(id: ProcessId): Promise<ProcessInfo> {
    const proc = this.get(id)
    await proc.retryNow()
    return proc.info()
  }

  /** Write to a process's stdin. */
  write(id: ProcessId, data: string, options?: WriteOptions): Promise<void> {
    return this.get(id).write(data, options?.echo ?? true)
  }

  /** Set the size of a process's terminal. */
  resize(id: ProcessId, cols: number, rows: number): void {
    this.get(id).resize(cols, rows)
  }

  /**
   * A viewer shows only these processes now; null: the viewer is gone. The output of a
   * process some viewer shows is read at its own rate, not the one shared by all those no one
   * looks at (see ManagedProcess.setShown).
   */
  viewing(viewer: object, ids: readonly ProcessId[] | null): void {
    if (ids) this.viewed.set(viewer, new Set(ids))
    else this.viewed.delete(viewer)
    for (const p of this.processes.values()) p.setShown(this.isViewed(p.id))
  }

  private isViewed(id: ProcessId): boolean {
    for (const ids of this.viewed.values()) if (ids.has(id)) return true
    return false
  }

  /** A viewer parsed more of a terminal's output (flow control). */
  ack(id: ProcessId, bytes: number): void {
    this.get(id).ack(bytes)
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

  /**
   * Forget a process that is not running, and delete its run logs (and a saved one's
   * definition). Resolves once the definitions on disk no longer hold it.
   */
  async remove(id: ProcessId): Promise<void> {
    const proc = this.get(id)
    if (proc.alive) {
      throw new CorralError('STILL_RUNNING', `"${proc.name}" is still running; stop it first.`)
    }
    void proc.stop() // cancels a pending restart in backoff
    // A saved one leaves the definitions on disk first: if they cannot be written it stays,
    // with its run logs, rather than coming back without them at the next start of Corral.
    if (proc.saved) {
      await this.persist(id)
      // Removed meanwhile by another call, which did the rest.
      if (this.processes.get(id) !== proc) return
      if (proc.alive) {
        // Started while the definitions were written: it stays, and so does its definition.
        await this.persist()
        throw new CorralError('STILL_RUNNING', `"${proc.name}" is still running; stop it first.`)
      }
    }
    this.processes.delete(id)
    proc.dispose()
    this.runStore?.deleteProcess(id)
    this.emit('removed', { id })
  }

  /** Retained output of a process. */
  output(id: ProcessId, afterSeq?: number, maxBytes?: number): OutputSnapshot {
    return this.get(id).output(afterSeq, maxBytes)
  }

  /** Runs of a process, newest first. */
  runs(id: ProcessId): RunInfo[] {
    this.get(id)
    return this.runStore?.list(id) ?? []
  }

  /** A run's output read back from disk. */
  async runOutput(id: ProcessId, runId: string, range?: RunOutputRange): Promise<RunOutput> {
    this.get(id)
    if (!this.runStore) {
      throw new CorralError('NO_SUCH_RUN', 'Run logs are not kept (no data directory).')
    }
    return this.runStore.read(id, runId, range)
  }

  /** Resolves once every run log holds all output appended to it so far. */
  async logsWritten(): Promise<void> {
    await this.runStore?.settled()
  }

  /** Groups from an earlier life of Corral that are still alive. */
  orphans(): OrphanGroup[] {
    this.orphanGroups = GroupRegistry.stillAlive(this.orphanGroups)
    return this.orphanGroups
  }

  /** End the orphaned groups: SIGTERM, SIGKILL after the grace period. */
  async endOrphans(): Promise<OrphanGroup[]> {
    const targets = this.orphans()
    GroupRegistry.signalAll(targets, 'SIGTERM')
    const deadline = Date.now() + this.stopGraceMs
    while (Date.now() < deadline && targets.some((o) => groupAlive(o.pgid))) {
      await new Promise((r) => setTimeout(r, 50))
    }
    GroupRegistry.signalAll(GroupRegistry.stillAlive(targets), 'SIGKILL')
    await new Promise((r) => setTimeout(r, 50))
    const left = this.orphans()
    this.emit('orphans', left)
    return left
  }

  /**
   * Run one short process (`echo`) the way a person's runs go: its command line checked, the
   * program launched, its output spooled, logged and batched. Then forget it: it is never
   * listed nor announced, and its run log is deleted. Called once when Corral starts, so that
   * the first process a person starts does not also pay for the host's first use of all that
   * code (lazy compiling, the first parse of a spec, the first run log and spool): see
   * docs/benchmarks.md for what that saves the first run of a flood followed in a new page.
   * Never fails; a run that has not ended after {@link WARM_UP_TIMEOUT_MS} is killed.
   */
  async warmUp(): Promise<void> {
    if (this.closing || this.warming) return
    const id = newId('w')
    // A program, as most runs start one (Windows has `echo` only in its shell).
    const spec: ProcessSpec = {
      command: 'echo warm-up',
      shell: process.platform === 'win32',
      name: 'warm-up',
    }
    const proc = this.create(id, spec, false, false)
    this.warming = proc
    try {
      this.runStore?.created(id)
      this.runStore?.setAdHoc(id, true)
      checkCommandLine(spec)
      await proc.start('user')
      const clock = this.options.clock ?? systemClock
      const timer = clock.setTimeout(() => void proc.kill(), WARM_UP_TIMEOUT_MS)
      await proc.waitEnded()
      clock.clearTimeout(timer)
    } catch {
      // Nothing a person asked for depends on it.
    } finally {
      this.warming = null
      proc.dispose()
      try {
        this.runStore?.deleteProcess(id)
      } catch {
        // As above; an ad-hoc process's logs also go when the next Corral starts.
      }
    }
  }

  /**
   * Stop every process (stop signal to each group, SIGKILL after the grace period), then
   * SIGKILL whatever outlived its group leader. Resolves when all have ended.
   */
  async shutdown(): Promise<ShutdownTimes> {
    this.closing = true
    let at = performance.now()
    const lap = (): number => {
      const now = performance.now()
      const ms = Math.round(now - at)
      at = now
      return ms
    }
    if (this.warming?.alive) await this.warming.kill()
    const all = [...this.processes.values()]
    await Promise.all(all.map((p) => p.stop('host-exit')))
    for (const p of all) p.reapGroup()
    const processes = lap()
    await this.groups.flush()
    this.launcher?.close()
    this.outputWorker?.close()
    const groups = lap()
    // Every byte shown is on disk before Corral goes, and every definition saved.
    await this.logsWritten()
    const logs = lap()
    await this.definitions?.settled()
    return { processes, groups, logs, definitions: lap() }
  }

  private add(id: ProcessId, spec: ProcessSpec, saved: boolean): ManagedProcess {
    const proc = this.create(id, spec, saved, true)
    // A saved process's runs carry on numbering across restarts of Corral.
    if (saved) proc.continueNumbering(this.runStore?.list(id)[0]?.number ?? 0)
    else {
      // An ad-hoc process is always new.
      this.runStore?.created(id)
      this.runStore?.setAdHoc(id, true)
    }
    this.processes.set(id, proc)
    proc.setShown(this.isViewed(id))
    return proc
  }

  /** A process with this supervisor's launcher, stores and budget; `announced`: events go out. */
  private create(
    id: ProcessId,
    spec: ProcessSpec,
    saved: boolean,
    announced: boolean,
  ): ManagedProcess {
    return new ManagedProcess({
      id,
      spec,
      saved,
      stopGraceMs: this.options.stopGraceMs,
      bufferChars: this.options.bufferChars,
      retention: this.retention,
      clock: this.options.clock,
      runStore: this.runStore,
      diskRoom: this.diskRoom,
      launcher: this.launcher ?? undefined,
      outputWorker: this.outputWorker,
      groups: {
        started: (pgid, p) =>
          this.groups.add({ pgid, name: p.name, command: p.spec.command, startedAt: Date.now() }),
        ended: (pgid) => this.groups.remove(pgid),
      },
      onStatus: (info) => announced && this.emit('status', info),
      onOutput: (chunks) => announced && this.emit('output', { id, chunks }),
      onRuns: () => announced && this.emit('runs', { id }),
    })
  }

  /**
   * Save the definitions (off the event loop: see DefinitionStore.save), leaving out
   * `without` (a process being removed).
   */
  private async persist(without?: ProcessId): Promise<void> {
    if (!this.definitions) return
    const defs = [...this.processes.values()]
      .filter((p) => p.saved && p.id !== without)
      .map((p) => ({ id: p.id, spec: p.spec }))
    try {
      await this.definitions.save(defs)
    } catch (err) {
      throw new CorralError(
        'STORAGE',
        `Could not save to ${this.definitions.file}: ${(err as Error).message}`,
      )
    }
  }

  /** Save a process just added, or forget it again if the definitions cannot be written. */
  private async persistOrForget(proc: ManagedProcess): Promise<void> {
    try {
      await this.persist()
    } catch (err) {
      this.processes.delete(proc.id)
      proc.dispose()
      this.emit('removed', { id: proc.id })
      throw err
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new CorralError('FORBIDDEN', 'Corral is shutting down.')
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

function newId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`
}
