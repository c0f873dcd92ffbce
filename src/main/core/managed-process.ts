import { spawn, type ChildProcess } from 'node:child_process'
import {
  CorralError,
  type ExitInfo,
  type OutputChunk,
  type OutputSnapshot,
  type ProcessId,
  type ProcessInfo,
  type ProcessSpec,
  type ProcessState,
  type UserSignal,
} from '../../shared/contract'
import { describeExit, formatDuration } from '../../shared/describe'
import { planLaunch, spawnFailure } from './launch'
import { OutputBatcher, OutputBuffer } from './output-buffer'
import { signalGroup, groupAlive } from './process-group'

/** Grace period between the stop signal and SIGKILL. */
export const STOP_GRACE_MS = 5000

/** Construction options of a {@link ManagedProcess}. */
export interface ManagedProcessOptions {
  id: ProcessId
  spec: ProcessSpec
  name: string
  /** Grace period between SIGTERM and SIGKILL on stop. */
  stopGraceMs?: number
  /** Bound on retained output, in characters. */
  bufferChars?: number
  /** Called after every state change with a fresh snapshot. */
  onStatus: (info: ProcessInfo) => void
  /** Called with each batch of new output. */
  onOutput: (chunks: OutputChunk[]) => void
  /** Clock, injectable for tests. */
  now?: () => number
}

/**
 * One supervised child. Owns its spawn, its state machine, its stdin and its stop
 * escalation. The child runs in its own process group (POSIX `detached`), and every signal
 * goes to the whole group so shells, `npm run` and worker pools are reached too.
 */
export class ManagedProcess {
  readonly id: ProcessId
  readonly spec: ProcessSpec
  readonly name: string
  private readonly stopGraceMs: number
  private readonly now: () => number
  private readonly buffer: OutputBuffer
  private readonly batcher: OutputBatcher

  private state: ProcessState = 'stopped'
  private child: ChildProcess | null = null
  private pid: number | null = null
  private runCount = 0
  private startedAt: number | null = null
  private endedAt: number | null = null
  private exit: ExitInfo | null = null
  private stdinOpen = false
  private killDeadline: number | null = null
  /** Set when the user asked this run to end; a stopped run ends as `stopped`, not `exited`. */
  private stopRequested = false
  /** Set when the grace period ran out and SIGKILL was sent. */
  private escalated = false
  private endWaiters: (() => void)[] = []
  /** Process group of the latest run, kept after it ended to reach stragglers. */
  private lastPgid: number | null = null

  constructor(private readonly options: ManagedProcessOptions) {
    this.id = options.id
    this.spec = options.spec
    this.name = options.name
    this.stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS
    this.now = options.now ?? Date.now
    this.buffer = new OutputBuffer(options.id, options.bufferChars)
    this.batcher = new OutputBatcher(this.buffer, options.onOutput, this.now)
  }

  /** Whether a run is in progress (its process, or its output pipes, are still alive). */
  get alive(): boolean {
    return this.state === 'starting' || this.state === 'running' || this.state === 'stopping'
  }

  /** A snapshot for the UI. */
  info(): ProcessInfo {
    return {
      id: this.id,
      name: this.name,
      spec: this.spec,
      state: this.state,
      pid: this.pid,
      runCount: this.runCount,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      exit: this.exit,
      stdinOpen: this.stdinOpen,
      killDeadline: this.killDeadline,
    }
  }

  /** Retained output after `afterSeq`. */
  output(afterSeq?: number): OutputSnapshot {
    return this.buffer.snapshot(afterSeq)
  }

  /**
   * Begin a new run. Resolves once the child has spawned or failed to; a failure to start is
   * recorded as the run's exit, not thrown.
   */
  async start(): Promise<void> {
    if (this.alive) throw new CorralError('STILL_RUNNING', `"${this.name}" is already running.`)
    this.runCount++
    this.state = 'starting'
    this.startedAt = this.now()
    this.endedAt = null
    this.exit = null
    this.stopRequested = false
    this.escalated = false
    this.emitStatus()

    const plan = await planLaunch(this.spec)
    if ('kind' in plan) {
      this.finish(plan)
      return
    }
    if (this.stopRequested) {
      this.finish({ kind: 'signal', signal: 'SIGTERM', afterGrace: false })
      return
    }

    let child: ChildProcess
    try {
      child = spawn(plan.file, plan.args, {
        cwd: plan.cwd,
        env: plan.env,
        stdio: 'pipe',
        // Own process group (and session) on POSIX, so signals reach the whole tree.
        detached: process.platform !== 'win32',
        windowsHide: true,
      })
    } catch (err) {
      // spawn throws synchronously only for invalid arguments (e.g. a NUL byte in argv).
      this.finish(spawnFailure(err as NodeJS.ErrnoException, plan))
      return
    }
    this.child = child

    await new Promise<void>((resolve) => {
      child.once('spawn', () => {
        this.pid = child.pid ?? null
        this.lastPgid = this.pid
        this.stdinOpen = true
        this.state = this.stopRequested ? 'stopping' : 'running'
        this.batcher.add('system', `▶ started ${this.spec.command} (pid ${this.pid})\n`)
        this.emitStatus()
        if (this.stopRequested) this.sendStop()
        resolve()
      })
      child.once('error', (err: NodeJS.ErrnoException) => {
        // Before 'spawn' an error means the program could not be started (ENOENT arrives
        // asynchronously); after it, errors come from kill() on a dead child and are moot.
        if (this.pid === null) {
          this.child = null
          this.finish(spawnFailure(err, plan))
          resolve()
        }
      })
    })
    if (this.child !== child) return

    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      // setEncoding uses a StringDecoder: a character split across reads arrives intact and
      // invalid bytes become U+FFFD.
      stream?.setEncoding('utf8')
      stream?.on('data', (text: string) => this.batcher.add(name, text))
    }
    child.stdin?.on('error', () => {
      // EPIPE/ECONNRESET when the child closed its input: the write that caused it reports
      // the failure to its caller; here it only must not crash the host.
      this.setStdinOpen(false)
    })
    child.stdin?.on('close', () => this.setStdinOpen(false))
    // 'close', not 'exit': output can still arrive after the process exited.
    child.once('close', (code, signal) => {
      if (signal) {
        this.finish({ kind: 'signal', signal, afterGrace: this.escalated && signal === 'SIGKILL' })
      } else {
        this.finish({ kind: 'code', code: code ?? 0 })
      }
    })
  }

  /** Write to stdin; resolves once the data is handed to the OS. */
  async write(data: string): Promise<void> {
    const stdin = this.child?.stdin
    if (!this.alive || !stdin) {
      throw new CorralError('NOT_RUNNING', `Cannot write to "${this.name}": ${this.notRunningReason()}.`)
    }
    if (!this.stdinOpen || stdin.destroyed || stdin.writableEnded) {
      throw new CorralError('STDIN_CLOSED', `Cannot write to "${this.name}": its standard input is closed.`)
    }
    await new Promise<void>((resolve, reject) => {
      stdin.write(data, (err) => {
        if (err) {
          reject(
            new CorralError('STDIN_CLOSED', `Cannot write to "${this.name}": it closed its standard input.`),
          )
        } else resolve()
      })
    })
  }

  /** Close stdin (end of file). */
  closeStdin(): void {
    const stdin = this.child?.stdin
    if (!this.alive || !stdin) {
      throw new CorralError('NOT_RUNNING', `Cannot close input of "${this.name}": ${this.notRunningReason()}.`)
    }
    if (!this.stdinOpen) return
    stdin.end()
    this.setStdinOpen(false)
  }

  /** Send a signal to the process group. */
  signal(sig: UserSignal): void {
    if (!this.alive || this.pid === null) {
      throw new CorralError('NOT_RUNNING', `Cannot signal "${this.name}": ${this.notRunningReason()}.`)
    }
    if (sig === 'SIGKILL' || sig === 'SIGTERM') this.stopRequested = true
    signalGroup(this.pid, sig)
  }

  /**
   * Graceful stop: SIGTERM to the group, SIGKILL to whatever is left after the grace period.
   * Resolves when the run has ended.
   */
  async stop(): Promise<void> {
    if (!this.alive) return
    if (!this.stopRequested || this.state !== 'stopping') {
      this.stopRequested = true
      this.state = 'stopping'
      if (this.pid !== null) this.sendStop()
      else this.emitStatus()
    }
    await this.waitEnded()
  }

  /** SIGKILL to the group now. Resolves when the run has ended. */
  async kill(): Promise<void> {
    if (!this.alive) return
    this.stopRequested = true
    if (this.state !== 'stopping') {
      this.state = 'stopping'
      this.emitStatus()
    }
    if (this.pid !== null) signalGroup(this.pid, 'SIGKILL')
    await this.waitEnded()
  }

  /**
   * SIGKILL whatever is left in the latest run's process group (members that outlived the
   * leader). Used when the host shuts down, so nothing it started survives it.
   */
  reapGroup(): void {
    if (this.lastPgid !== null && !this.alive && groupAlive(this.lastPgid)) {
      signalGroup(this.lastPgid, 'SIGKILL')
    }
  }

  /** Resolves when the current run (if any) has ended. */
  waitEnded(): Promise<void> {
    if (!this.alive) return Promise.resolve()
    return new Promise((resolve) => this.endWaiters.push(resolve))
  }

  private sendStop(): void {
    if (this.pid === null) return
    const pgid = this.pid
    const run = this.runCount
    signalGroup(pgid, 'SIGTERM')
    this.killDeadline = this.now() + this.stopGraceMs
    this.emitStatus()
    setTimeout(() => {
      // The group can outlive its leader (a grandchild that ignores SIGTERM and does not hold
      // the output pipes), so this runs even after the run has ended.
      if (!groupAlive(pgid)) return
      signalGroup(pgid, 'SIGKILL')
      if (run === this.runCount && this.alive) {
        this.escalated = true
        this.killDeadline = null
      } else {
        this.batcher.add('system', `■ sent SIGKILL to processes left in group ${pgid}\n`)
      }
    }, this.stopGraceMs)
  }

  private finish(exit: ExitInfo): void {
    const ended = this.now()
    this.exit = exit
    this.endedAt = ended
    this.child = null
    this.pid = null
    this.stdinOpen = false
    this.killDeadline = null
    this.state = exit.kind === 'failed' ? 'fatal' : this.stopRequested ? 'stopped' : 'exited'
    const took =
      exit.kind !== 'failed' && this.startedAt !== null
        ? ` after ${formatDuration(ended - this.startedAt)}`
        : ''
    this.batcher.add('system', `■ ${describeExit(exit)}${took}\n`)
    // Output first, then the status: the exit is reported only after all output.
    this.batcher.flush()
    this.emitStatus()
    for (const resolve of this.endWaiters.splice(0)) resolve()
  }

  private notRunningReason(): string {
    if (this.exit) return `it has ended (${describeExit(this.exit)})`
    return 'it is not running'
  }

  private setStdinOpen(open: boolean): void {
    if (this.stdinOpen === open) return
    this.stdinOpen = open
    if (this.alive) this.emitStatus()
  }

  private emitStatus(): void {
    this.options.onStatus(this.info())
  }
}
