import {
  CorralError,
  type EndReason,
  type ExitInfo,
  type OutputChunk,
  type OutputSnapshot,
  type OwnStream,
  type ProcessId,
  type ProcessInfo,
  type ProcessSpec,
  type ProcessState,
  type StartReason,
  type TerminalSize,
  type UserSignal,
} from '../../shared/contract'
import { describeExit, formatBytes, formatDuration, oneLineCommand } from '../../shared/describe'
import type { Writable } from 'node:stream'
import { systemClock, type Clock, type TimerHandle } from './clock'
import { checkOnPath, planLaunch, programName, spawnFailure, type LaunchPlan } from './launch'
import { localLauncher, type LaunchedChild, type Launcher, type OutputSource } from './launcher'
import type { DiskRoom, RoomReading } from './disk-room'
import { openSpool, spoolAvailable, SpoolTail, type Spool } from './spool'
import { OUTPUT_BUFFER_CHARS, OutputBatcher, OutputBuffer } from './output-buffer'
import type { TapChunk } from './output-worker-protocol'
import type { OutputWorkerClient, TappedChild } from './output-worker-client'
import type { RetentionBudget, SharedRingReader } from './shared-ring'
import { readBudget, spawnPacer, type TurnReader } from './pacer'
import { groupAlive, processExists, signalGroup } from './process-group'
import {
  DEFAULT_TERMINAL_SIZE,
  drainAtEnd,
  FlowControl,
  foregroundGroup,
  loadPty,
  ptyAvailability,
  signalName,
  TERMINAL_NAME,
  type Pty,
} from './pty'
import {
  decideAfterRun,
  resolvePolicy,
  type RestartCounters,
  type RestartPolicy,
} from './restart-policy'
import { readStaging } from './staging'
import { describeProcesses, findMarked, RUN_MARK_VAR, runMark, signalEach } from './run-mark'
import { logFailedLine, type RunLog, type RunStore } from './run-store'
import { Utf8Splitter } from './utf8'

/** Grace period between the stop signal and SIGKILL. */
export const STOP_GRACE_MS = 5000

/**
 * While a terminal's reading is paused for flow control, how often to check whether its
 * program has ended: node-pty gives a paused terminal only a moment to drain after the exit
 * before it discards what is left, so reading resumes as soon as the program is gone.
 */
const PAUSED_EXIT_POLL_MS = 50
/**
 * How long after a run's process exited its output may stay open before the run says who
 * holds it: output still arriving after the exit takes milliseconds, a process it started in
 * the background (`sleep 100 &`, a daemon) holds it for as long as it runs.
 */
export const OUTPUT_LINGER_MS = 1000

/** Hooks through which a process reports the groups it starts and ends. */
export interface GroupHooks {
  started(pgid: number, proc: ManagedProcess): void
  ended(pgid: number): void
}

/** Construction options of a {@link ManagedProcess}. */
export interface ManagedProcessOptions {
  id: ProcessId
  spec: ProcessSpec
  /** Whether this is a saved definition. */
  saved: boolean
  /** Default grace period between the stop signal and SIGKILL (the spec may override it). */
  stopGraceMs?: number
  /** Bound on retained output, in characters. */
  bufferChars?: number
  /** Memory for retained output shared with other processes. */
  retention?: RetentionBudget
  /** Called after every state change with a fresh snapshot. */
  onStatus: (info: ProcessInfo) => void
  /** Called with each batch of new output. */
  onOutput: (chunks: OutputChunk[]) => void
  /** Called when the list of runs changed. */
  onRuns?: () => void
  /** Run logs on disk; none when null. */
  runStore?: RunStore | null
  groups?: GroupHooks
  /** Clock and timers, injectable for tests. */
  clock?: Clock
  /** How children are started (default: here, with `child_process.spawn`). */
  launcher?: Launcher
  /**
   * The output worker: pipe-mode runs start through it, and it reads their output, so this
   * thread does no work per byte that no viewer is shown (see `docs/output-worker.md`).
   */
  outputWorker?: OutputWorkerClient | null
  /**
   * The free space of the disk that run logs are on: a run's output is spooled only while it
   * has room (see disk-room.ts).
   */
  diskRoom?: DiskRoom | null
}

/**
 * One supervised child. Owns its spawn, its state machine (supervisord's: stopped ->
 * starting -> running -> exited | backoff -> starting | fatal; running -> stopping ->
 * stopped), its stdin, its stop escalation and its restart policy. The child runs in its own
 * process group (see spawner.ts) and every signal goes to the whole group, so shells,
 * `npm run` and worker pools are reached too.
 */
export class ManagedProcess {
  readonly id: ProcessId
  private specValue: ProcessSpec
  private policy: RestartPolicy
  saved: boolean
  private readonly clock: Clock
  private readonly buffer: OutputBuffer
  private readonly batcher: OutputBatcher

  private state: ProcessState = 'stopped'
  /** The current run's child: its stdin, and its output streams when they are read here. */
  private child: { stdin: Writable; stdout?: OutputSource; stderr?: OutputSource } | null = null
  /** A viewer shows this process (see {@link setShown}). */
  private shown = false
  /** Stops hearing of the room on the disk of the run's spool files (see {@link watchRoom}). */
  private unwatchRoom: (() => void) | null = null
  /** The current run, when the output worker reads its output. */
  private tapped: TappedChild | null = null
  private pid: number | null = null
  private runCount = 0
  private startedAt: number | null = null
  private endedAt: number | null = null
  private exit: ExitInfo | null = null
  private stdinOpen = false
  private killDeadline: number | null = null
  /** Set when the user asked this run to end: it ends as `stopped` and is not restarted. */
  private stopRequested = false
  /** Set when the grace period ran out and SIGKILL was sent. */
  private escalated = false
  /** Set when the stop comes from Corral shutting down rather than from the user. */
  private hostExiting = false
  private endWaiters: (() => void)[] = []
  private counters: RestartCounters = { failedStarts: 0, restarts: 0 }
  private retryTimer: TimerHandle | null = null
  private nextRetryAt: number | null = null
  private runLog: RunLog | null = null
  /** Process group of the latest run, kept after it ended to reach stragglers. */
  private lastPgid: number | null = null
  /** The mark in the latest run's environment (see run-mark.ts), and when its process began. */
  private mark = ''
  private markedSince = 0
  /** Until the run says who holds its output after its process exited (see sayWhoHolds). */
  private lingerTimer: TimerHandle | null = null
  /** The pseudo-terminal of the current run, in terminal mode. */
  private pty: Pty | null = null
  /** Flow control of the current terminal run. */
  private flow: FlowControl | null = null
  /** Why reading the current run's output is paused; see {@link hold}. */
  private holds = new Set<'viewer' | 'log' | 'turn'>()
  /** How the shared read budget pauses this process's pipes (see ReadBudget). */
  private readonly turnReader: TurnReader = { hold: (on) => this.hold('turn', on) }
  /** Whether the latest run was in a terminal; null before the first run. */
  private runInTerminal: boolean | null = null
  /** Size of the terminal, kept across runs so the next one starts at the viewer's size. */
  private terminalSize: TerminalSize = { ...DEFAULT_TERMINAL_SIZE }

  constructor(private readonly options: ManagedProcessOptions) {
    this.id = options.id
    this.specValue = options.spec
    this.policy = resolvePolicy(options.spec)
    this.saved = options.saved
    this.clock = options.clock ?? systemClock
    this.buffer = new OutputBuffer(options.id, options.bufferChars, options.retention ?? null)
    this.batcher = new OutputBatcher(
      this.buffer,
      options.onOutput,
      () => this.clock.now(),
      (chunk, raw, length) => {
        const log = this.runLog
        if (!log) return
        // A disk slower than the child: stop reading until the log catches up.
        const room = log.append(chunk.stream, chunk.seq, chunk.time, raw, length)
        if (!room && !this.holds.has('log')) {
          this.hold('log', true)
          log.whenWritable(() => this.hold('log', false))
        }
      },
      readStaging,
    )
  }

  /**
   * Pause reading the current run's output while any reason holds it (a viewer behind on a
   * terminal, a run log behind on disk, this turn's read budget spent); resume when none is
   * left.
   */
  private hold(reason: 'viewer' | 'log' | 'turn', on: boolean): void {
    const before = this.holds.size > 0
    if (on) this.holds.add(reason)
    else this.holds.delete(reason)
    const after = this.holds.size > 0
    if (before === after) return
    for (const stream of [this.child?.stdout, this.child?.stderr]) {
      if (after) stream?.pause()
      else stream?.resume()
    }
    if (after) this.pty?.pause()
    else this.pty?.resume()
  }

  /** Release what the process holds for others (it was removed). */
  dispose(): void {
    this.buffer.dispose()
    this.options.outputWorker?.dispose(this.id)
  }

  /** The spec the next run uses. */
  get spec(): ProcessSpec {
    return this.specValue
  }

  /** Display name. */
  get name(): string {
    return this.specValue.name?.trim() || programName(this.specValue)
  }

  /** Continue run numbering from an earlier life of Corral (the newest run on disk). */
  continueNumbering(lastRunNumber: number): void {
    if (this.runCount === 0) this.runCount = lastRunNumber
  }

  /** Replace the spec; applies from the next run. */
  setSpec(spec: ProcessSpec): void {
    this.specValue = spec
    this.policy = resolvePolicy(spec)
    this.emitStatus()
  }

  /**
   * Whether a viewer shows this process's output now: its spool files are then read at their
   * own rate, not the one all the processes no one looks at share (see spool.ts).
   */
  setShown(shown: boolean): void {
    this.shown = shown
    this.applyShown()
  }

  private applyShown(): void {
    for (const stream of [this.child?.stdout, this.child?.stderr]) {
      if (stream instanceof SpoolTail) stream.shown = this.shown
    }
  }

  /** Whether a run is in progress (its process, or its output pipes, are still alive). */
  get alive(): boolean {
    return this.state === 'starting' || this.state === 'running' || this.state === 'stopping'
  }

  /** Current state. */
  get currentState(): ProcessState {
    return this.state
  }

  private get stopGraceMs(): number {
    return this.specValue.stopGraceMs ?? this.options.stopGraceMs ?? STOP_GRACE_MS
  }

  /** A snapshot for the UI. */
  info(): ProcessInfo {
    return {
      id: this.id,
      name: this.name,
      spec: this.specValue,
      state: this.state,
      pid: this.pid,
      runCount: this.runCount,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      exit: this.exit,
      stdinOpen: this.stdinOpen,
      killDeadline: this.killDeadline,
      saved: this.saved,
      nextRetryAt: this.nextRetryAt,
      failedStarts: this.counters.failedStarts,
      maxRetries: this.policy.maxRetries,
      runId: this.runLog?.info.runId ?? null,
      ...(this.inTerminal ? { terminal: { ...this.terminalSize } } : {}),
    }
  }

  /** Whether the current or latest run is in a terminal (before the first run: the spec's wish). */
  private get inTerminal(): boolean {
    return this.runInTerminal ?? this.specValue.terminal === true
  }

  /** Retained output after `afterSeq`, at most about `maxBytes` of the newest. */
  output(afterSeq?: number, maxBytes?: number): OutputSnapshot {
    return this.buffer.snapshot(afterSeq, maxBytes)
  }

  /**
   * Begin a new run. Resolves once the child has spawned or failed to; a failure to start is
   * recorded as the run's exit, not thrown. A start by the user resets the restart counters.
   */
  async start(reason: StartReason = 'user'): Promise<void> {
    if (this.alive) throw new CorralError('STILL_RUNNING', `"${this.name}" is already running.`)
    this.cancelRetry()
    if (reason !== 'restart') this.counters = { failedStarts: 0, restarts: 0 }
    this.runCount++
    this.holds = new Set()
    this.state = 'starting'
    this.startedAt = this.clock.now()
    this.endedAt = null
    this.exit = null
    this.stopRequested = false
    this.escalated = false
    this.mark = runMark(this.id, this.runCount)
    this.runInTerminal = this.specValue.terminal === true
    this.openRunLog(reason)
    this.emitStatus()

    const spec = this.specValue
    const worker = this.options.outputWorker
    // The spool files are made while the launch is planned (both wait on the thread pool,
    // which 200 starts at once keep busy).
    const launcher = this.options.launcher ?? localLauncher
    const spooling =
      spec.terminal || worker?.active || !launcher.relaysSpool ? null : this.openSpool()
    let plan: LaunchPlan | ExitInfo
    try {
      plan = await planLaunch(spec)
    } catch (err) {
      discard(await spooling)
      throw err
    }
    if ('kind' in plan) {
      discard(await spooling)
      this.finish(plan)
      return
    }
    plan.env[RUN_MARK_VAR] = this.mark
    // Spawning here blocks the event loop: then one start per turn of it (see TurnPacer).
    if (launcher.blocksLoop || spec.terminal) await spawnPacer.turn()
    if (spec.terminal) {
      await this.startInTerminal(plan, spec)
      return
    }
    const spool = await spooling
    if (this.stopRequested) {
      discard(spool)
      this.finish({ kind: 'signal', signal: spec.stopSignal ?? 'SIGTERM', afterGrace: false })
      return
    }
    if (worker?.active) {
      await this.startTapped(worker, plan, spec)
      return
    }

    let child: LaunchedChild
    try {
      child = await launcher.launch(plan, spool)
    } catch (err) {
      discard(spool)
      this.finish(spawnFailure(err as NodeJS.ErrnoException, plan))
      return
    }
    this.child = child
    this.applyShown()
    this.began(child.pid, startedLine(spec, child.pid))
    if (spool) this.watchRoom()

    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      // Bytes are cut at character boundaries (a character split across reads arrives
      // intact) and decoded once per chunk; invalid bytes become U+FFFD, the log keeps them raw.
      const splitter = new Utf8Splitter()
      // A hold taken while the child was starting applies from the first read.
      if (this.holds.size > 0) stream.pause()
      stream.on('data', (buf: Buffer) => {
        const bytes = splitter.push(buf)
        // Handed on as read, the batch gives the read back to staging (see Staging); joined
        // with a character split across reads, it is a copy and the read is done with now.
        if (bytes.length === 0 || bytes.buffer !== buf.buffer) readStaging.release(buf)
        this.batcher.addBytes(name, bytes)
        // Over this turn's read budget, every process pauses until the next (see ReadBudget);
        // spool files are read within a budget of their own (see SpoolReader).
        if (!(stream instanceof SpoolTail)) readBudget.spend(buf.length, this.turnReader)
      })
      stream.on('end', () => this.batcher.addBytes(name, splitter.end()))
      // Far behind a spooling child: a stretch skipped unread, on disk and in the log.
      if (stream instanceof SpoolTail) {
        stream.on('skip', (sizes: number[]) => {
          this.batcher.addBytes(name, splitter.end())
          for (const size of sizes) this.batcher.addSkipped(name, size)
        })
      }
    }
    this.watchInput(child.stdin)
    child.onClose((code, signal) => this.closed(code, signal))
    const run = this.runCount
    child.onExit?.(() => {
      if (run !== this.runCount || !this.alive) return
      this.lingerTimer = this.clock.setTimeout(() => {
        this.lingerTimer = null
        void this.sayWhoHolds(run)
      }, OUTPUT_LINGER_MS)
    })
  }

  /**
   * The run's process exited a while ago and its output is still open: a process it started
   * holds it, and the run goes on until that one closes it. Say which, since the run looks
   * stuck otherwise (nothing of it seems to run), and that Stop ends them.
   */
  private async sayWhoHolds(run: number): Promise<void> {
    const leader = this.pid
    if (run !== this.runCount || !this.alive || leader === null || this.child === null) return
    const holders = await findMarked(this.mark, this.markedSince)
    if (run !== this.runCount || !this.alive) return
    const who =
      holders.length > 0
        ? `${describeProcesses(holders)}, started by it, ${holders.length > 1 ? 'hold' : 'holds'}`
        : 'a process it started holds'
    this.say(
      `⚠ pid ${leader} exited, but ${who} its output open: this run ends when ${holders.length > 1 ? 'they close' : 'that closes'} it, or at Stop\n`,
    )
  }

  /**
   * While this run's child writes into its spool files, say in its output when their disk
   * runs short of room, and when it is full: the child's writes then fail (see disk-room.ts).
   */
  private watchRoom(): void {
    const room = this.options.diskRoom
    if (!room) return
    // Each once a run: a disk that hovers about the mark says so once, not every second.
    const said = new Set<RoomReading['state']>()
    this.unwatchRoom = room.watch(({ state, free }) => {
      if (state === 'ok' || said.has(state) || (state === 'low' && said.has('full'))) return
      said.add(state)
      this.say(
        state === 'low'
          ? `⚠ only ${formatBytes(free)} left on the disk holding this run's output (${room.dir}): this process's output goes straight to it, and what it writes is lost if the disk fills up; runs started while space is short go through Corral instead\n`
          : `⚠ the disk holding this run's output (${room.dir}) is full: this process's output cannot be stored, and what it writes is lost; free some space and restart it\n`,
      )
    })
  }

  /**
   * Spool files for this run's output (see spool.ts), or null to read it through pipes: when
   * spooling is not available here, or the run has no log to keep them next to.
   */
  private async openSpool(): Promise<Spool | null> {
    const log = this.runLog
    if (!spoolAvailable || !log || log.error) return null
    const room = this.options.diskRoom
    const free = room ? await room.free() : null
    if (room && free !== null && room.stateOf(free) !== 'ok') {
      this.say(
        `⚠ only ${formatBytes(free)} free on the disk holding run logs (${room.dir}): this run's output goes through Corral rather than straight to disk, so a full disk cannot make its writes fail\n`,
      )
      return null
    }
    try {
      await log.ready
      const spool = await openSpool(log.spoolFiles)
      log.spooled()
      return spool
    } catch {
      // The directory or the files could not be made: the log reports its own failure, and
      // the output goes through pipes.
      return null
    }
  }

  /**
   * Start the run through the output worker, which reads, numbers, logs and keeps its output;
   * this thread keeps its state, stdin and signals, and takes each turn's chunks as metadata.
   */
  private async startTapped(
    worker: OutputWorkerClient,
    plan: LaunchPlan,
    spec: ProcessSpec,
  ): Promise<void> {
    let child: TappedChild
    try {
      child = await worker.launch(this.id, plan, this.options.bufferChars ?? OUTPUT_BUFFER_CHARS, {
        output: (chunks, logged, ring) => this.takeTapped(chunks, logged, ring),
      })
    } catch (err) {
      this.finish(spawnFailure(err as NodeJS.ErrnoException, plan))
      return
    }
    this.child = { stdin: child.stdin }
    // Numbering goes to the worker, and the log with it; the "started" line is its first.
    this.batcher.flush()
    const log = this.runLog
    log?.handOver(() => worker.settled())
    this.tapped = child
    child.attach(this.buffer.seq, log?.file ?? null)
    this.began(child.pid, startedLine(spec, child.pid))
    this.watchInput(child.stdin)
    child.onClose((code, signal, seq) => {
      this.tapped = null
      this.buffer.resume(seq)
      this.closed(code, signal)
    })
  }

  /** One turn's output of a run the output worker reads. */
  private takeTapped(chunks: TapChunk[], logged: number, ring: SharedRingReader): void {
    this.runLog?.written(logged)
    if (chunks.length === 0) return
    this.options.onOutput(
      chunks.map((c) =>
        'text' in c
          ? this.buffer.push(c.stream, c.text, c.time, c.seq)
          : this.buffer.adopt(ring, c.seq, c.stream, c.time, c.at, c.size),
      ),
    )
  }

  /** The run's child is running with `pid`: the run is under way. */
  private began(pid: number, line: string): void {
    this.markedSince = performance.now()
    this.pid = pid
    this.lastPgid = pid
    this.options.groups?.started(pid, this)
    this.stdinOpen = true
    this.state = this.stopRequested ? 'stopping' : 'running'
    this.say(line)
    this.emitStatus()
    if (this.stopRequested) this.sendStop()
  }

  private watchInput(stdin: Writable): void {
    stdin.on('error', () => {
      // EPIPE/ECONNRESET when the child closed its input: the write that caused it reports
      // the failure to its caller; here it only must not crash the host.
      this.setStdinOpen(false)
    })
    stdin.on('close', () => this.setStdinOpen(false))
    // A quick child can have closed its input already (sockets handed over by the spawner).
    if (stdin.closed) this.setStdinOpen(false)
  }

  /** The run's process exited and its output is all in. */
  private closed(code: number | null, signal: NodeJS.Signals | null): void {
    if (signal) {
      this.finish({ kind: 'signal', signal, afterGrace: this.escalated && signal === 'SIGKILL' })
    } else if (code === null) {
      // Only when the spawner that started it (or the output worker) ended first.
      this.batcher.add('system', '⚠ exit status unknown: Corral lost its process spawner\n')
      this.finish({ kind: 'code', code: -1 })
    } else {
      this.finish({ kind: 'code', code })
    }
  }

  /**
   * One of Corral's own lines in the output (or, `stdin`, what was typed into the program's
   * input); during a worker's run, numbered there.
   */
  private say(text: string, stream: OwnStream = 'system'): void {
    if (this.tapped) this.tapped.say(text, stream)
    else this.batcher.add(stream, text)
  }

  /**
   * Spawn the run in a pseudo-terminal (node-pty). The child leads a new session and process
   * group, so group signals reach it as in pipe mode; its output is one stream, recorded as
   * stdout through the same batching, run log and sequence numbers.
   */
  private async startInTerminal(plan: LaunchPlan, spec: ProcessSpec): Promise<void> {
    const lib = loadPty()
    if (!lib) {
      this.finish({
        kind: 'failed',
        code: 'SPAWN_FAILED',
        reason: `cannot run in a terminal: ${ptyAvailability().reason}`,
      })
      return
    }
    // The terminal's child cannot report a missing program (it prints execvp's complaint and
    // exits 1), so look it up first.
    const missing = await checkOnPath(plan)
    if (missing) {
      this.finish(missing)
      return
    }
    if (this.stopRequested) {
      this.finish({ kind: 'signal', signal: spec.stopSignal ?? 'SIGTERM', afterGrace: false })
      return
    }
    let pty: Pty
    try {
      pty = lib.spawn(plan.file, plan.args, {
        name: spec.env?.TERM || TERMINAL_NAME,
        cols: this.terminalSize.cols,
        rows: this.terminalSize.rows,
        cwd: plan.cwd,
        env: plan.env,
        // Raw bytes: cut at character boundaries and logged exactly as written.
        encoding: null,
      })
    } catch (err) {
      this.finish(spawnFailure(err as NodeJS.ErrnoException, plan))
      return
    }
    this.pty = pty

    let exitPoll: NodeJS.Timeout | null = null
    const stopPolling = (): void => {
      if (exitPoll) clearInterval(exitPoll)
      exitPoll = null
    }
    const pid = pty.pid
    const flow = new FlowControl(
      () => {
        this.hold('viewer', true)
        exitPoll ??= setInterval(() => {
          if (!processExists(pid)) flow.forgive()
        }, PAUSED_EXIT_POLL_MS)
      },
      () => {
        stopPolling()
        this.hold('viewer', false)
      },
    )
    this.flow = flow
    this.began(pty.pid, startedLine(spec, pty.pid, true))

    const splitter = new Utf8Splitter()
    const onBytes = (bytes: Buffer): void => {
      this.batcher.addBytes('stdout', splitter.push(bytes))
      flow.sent(bytes.length)
    }
    // With `encoding: null` node-pty hands over Buffers (its typings say string).
    pty.onData((data: string | Buffer) =>
      onBytes(typeof data === 'string' ? Buffer.from(data, 'utf8') : data),
    )
    drainAtEnd(pty, onBytes)
    // node-pty reports the exit once the terminal's output has been read (or after a timeout).
    pty.onExit(({ exitCode, signal }) => {
      this.batcher.addBytes('stdout', splitter.end())
      stopPolling()
      flow.dispose()
      if (this.pty === pty) {
        this.pty = null
        this.flow = null
      }
      if (signal) {
        const name = signalName(signal)
        this.finish({
          kind: 'signal',
          signal: name,
          afterGrace: this.escalated && name === 'SIGKILL',
        })
      } else {
        this.finish({ kind: 'code', code: exitCode })
      }
    })
  }

  /**
   * Set the terminal's size: the program gets SIGWINCH now, and the next run starts with it.
   * A process that does not run in a terminal has no size to set.
   */
  resize(cols: number, rows: number): void {
    if (!this.inTerminal) {
      throw new CorralError('NOT_A_TERMINAL', `"${this.name}" does not run in a terminal.`)
    }
    if (this.terminalSize.cols === cols && this.terminalSize.rows === rows) return
    this.terminalSize = { cols, rows }
    try {
      this.pty?.resize(cols, rows)
    } catch {
      // The terminal closed between the check and the call (its program just ended); the size
      // is kept for the next run, which is all that is left to do.
    }
    this.emitStatus()
  }

  /** A viewer parsed `bytes` more bytes of the terminal's output (flow control). */
  ack(bytes: number): void {
    this.flow?.ack(bytes)
  }

  /** Flow-control state of the current terminal run, for tests and diagnostics. */
  get flowState(): { paused: boolean; pending: number; pauses: number } | null {
    const flow = this.flow
    return flow ? { paused: flow.paused, pending: flow.pending, pauses: flow.pauses } : null
  }

  /**
   * Write to stdin; resolves once the data is handed to the OS. With `echo`, outside a
   * terminal (whose own echo shows what the program lets it), the text also goes into the
   * output as stream `stdin`, ahead of whatever the program answers, and into the run's log.
   */
  async write(data: string, echo = true): Promise<void> {
    if (this.pty && this.alive) {
      try {
        this.pty.write(data)
      } catch {
        throw new CorralError(
          'STDIN_CLOSED',
          `Cannot write to "${this.name}": its terminal is closed.`,
        )
      }
      return
    }
    const stdin = this.child?.stdin
    if (!this.alive || !stdin) {
      throw new CorralError(
        'NOT_RUNNING',
        `Cannot write to "${this.name}": ${this.notRunningReason()}.`,
      )
    }
    if (!this.stdinOpen || stdin.destroyed || stdin.writableEnded) {
      throw new CorralError(
        'STDIN_CLOSED',
        `Cannot write to "${this.name}": its standard input is closed.`,
      )
    }
    if (echo && data !== '') this.say(data, 'stdin')
    await new Promise<void>((resolve, reject) => {
      stdin.write(data, (err) => {
        if (err) {
          reject(
            new CorralError(
              'STDIN_CLOSED',
              `Cannot write to "${this.name}": it closed its standard input.`,
            ),
          )
        } else resolve()
      })
    })
  }

  /** Close stdin (end of file); in a terminal, type Ctrl-D (which the program reads as EOF). */
  closeStdin(): void {
    if (this.pty && this.alive) {
      this.pty.write('\x04')
      return
    }
    const stdin = this.child?.stdin
    if (!this.alive || !stdin) {
      throw new CorralError(
        'NOT_RUNNING',
        `Cannot close input of "${this.name}": ${this.notRunningReason()}.`,
      )
    }
    if (!this.stdinOpen) return
    stdin.end()
    this.setStdinOpen(false)
  }

  /** Send a signal to the process group. A signal from the user counts as a user stop. */
  signal(sig: UserSignal): void {
    if (!this.alive || this.pid === null) {
      throw new CorralError(
        'NOT_RUNNING',
        `Cannot signal "${this.name}": ${this.notRunningReason()}.`,
      )
    }
    if (sig !== 'SIGUSR1' && sig !== 'SIGUSR2' && sig !== 'SIGHUP') this.stopRequested = true
    this.signalRun(this.pid, sig)
  }

  /**
   * Signal the run's group and, in a terminal, the terminal's foreground job too: a
   * job-control shell (`bash -i`) runs each command in a group of its own.
   */
  private signalRun(pgid: number, sig: NodeJS.Signals): void {
    signalGroup(pgid, sig)
    if (!this.pty) return
    const fg = foregroundGroup(pgid)
    if (fg !== null && fg !== pgid) signalGroup(fg, sig)
  }

  /**
   * Graceful stop: the stop signal to the group, SIGKILL to whatever is left after the grace
   * period. In backoff it cancels the pending restart. Resolves when the run has ended.
   */
  async stop(reason: 'user' | 'host-exit' = 'user'): Promise<void> {
    if (reason === 'host-exit') this.hostExiting = true
    if (this.state === 'backoff') {
      this.cancelRetry()
      // The last line said a restart was coming.
      this.say('■ restart cancelled: stopped\n')
      this.batcher.flush()
      this.state = 'stopped'
      this.emitStatus()
      return
    }
    if (!this.alive) return
    if (!this.stopRequested || this.state !== 'stopping') {
      this.stopRequested = true
      this.state = 'stopping'
      if (this.pid !== null) this.sendStop()
      else this.emitStatus()
    }
    await this.waitEnded()
  }

  /**
   * Signal the run's group and the processes of the run that left it (see run-mark.ts),
   * found a moment later: what a stop or kill must reach.
   */
  private signalTree(pgid: number, sig: NodeJS.Signals): void {
    this.signalRun(pgid, sig)
    void findMarked(this.mark, this.markedSince, pgid).then((left) => signalEach(left, sig))
  }

  /** SIGKILL to the group now. Resolves when the run has ended. */
  async kill(): Promise<void> {
    if (this.state === 'backoff') return this.stop()
    if (!this.alive) return
    this.stopRequested = true
    if (this.state !== 'stopping') {
      this.state = 'stopping'
      this.emitStatus()
    }
    if (this.pid !== null) this.signalTree(this.pid, 'SIGKILL')
    await this.waitEnded()
  }

  /** In backoff: start now instead of waiting for the timer. */
  async retryNow(): Promise<void> {
    if (this.state !== 'backoff') {
      throw new CorralError(
        'NOT_IN_BACKOFF',
        `"${this.name}" is not waiting to restart (it is ${this.state}).`,
      )
    }
    this.cancelRetry()
    await this.start('restart')
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
    const grace = this.stopGraceMs
    const mark = this.mark
    const since = this.markedSince
    this.signalTree(pgid, this.specValue.stopSignal ?? 'SIGTERM')
    this.killDeadline = this.clock.now() + grace
    this.emitStatus()
    this.clock.setTimeout(() => {
      // Those of the run that left its group and are still there get SIGKILL too.
      void findMarked(mark, since, pgid).then((left) => signalEach(left, 'SIGKILL'))
      // The group can outlive its leader (a grandchild that ignores the signal and does not
      // hold the output pipes), so this runs even after the run has ended.
      if (!groupAlive(pgid)) return
      if (run === this.runCount) this.signalRun(pgid, 'SIGKILL')
      else signalGroup(pgid, 'SIGKILL')
      if (run === this.runCount && this.alive) {
        this.escalated = true
        this.killDeadline = null
      } else {
        this.say(`■ sent SIGKILL to processes left in group ${pgid}\n`)
      }
    }, grace)
  }

  private openRunLog(reason: StartReason): void {
    const store = this.options.runStore
    if (!store || this.startedAt === null) return
    try {
      this.runLog = store.startRun(this.id, this.runCount, reason, this.startedAt, (err) =>
        this.say(logFailedLine(err)),
      )
    } catch (err) {
      // A full or read-only disk must not stop the process from running; say so in its output.
      this.runLog = null
      this.batcher.add('system', `⚠ this run is not logged to disk: ${(err as Error).message}\n`)
    }
    this.options.onRuns?.()
  }

  private finish(exit: ExitInfo): void {
    const ended = this.clock.now()
    if (this.lingerTimer !== null) {
      this.clock.clearTimeout(this.lingerTimer)
      this.lingerTimer = null
    }
    this.unwatchRoom?.()
    this.unwatchRoom = null
    if (this.pid !== null) this.options.groups?.ended(this.pid)
    const uptimeMs = this.startedAt !== null ? ended - this.startedAt : 0
    this.exit = exit
    this.endedAt = ended
    this.child = null
    this.pty = null
    this.flow?.dispose()
    this.flow = null
    this.pid = null
    this.stdinOpen = false
    this.killDeadline = null
    const took = exit.kind !== 'failed' ? ` after ${formatDuration(uptimeMs)}` : ''
    this.batcher.add('system', `■ ${describeExit(exit)}${took}\n`)
    // The run's last output, and how it ended, go to its log before the log is closed.
    this.batcher.flush()

    const endReason: EndReason =
      exit.kind === 'failed'
        ? 'failed-to-start'
        : this.escalated
          ? 'killed-after-grace'
          : this.hostExiting
            ? 'host-exit'
            : this.stopRequested
              ? 'user-stop'
              : 'exit'
    this.runLog?.end(exit, endReason, ended)
    if (this.runLog) this.options.onRuns?.()

    const decision = decideAfterRun(this.policy, this.counters, {
      exit,
      uptimeMs,
      userStopped: this.stopRequested,
    })
    this.counters = decision.counters
    if (decision.action === 'backoff') {
      this.state = 'backoff'
      this.nextRetryAt = ended + decision.delayMs
      this.batcher.add(
        'system',
        `↻ restarting in ${formatDuration(decision.delayMs)} (retry ${this.counters.failedStarts} of ${this.policy.maxRetries} after failed starts)\n`,
      )
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = null
        void this.start('restart')
      }, decision.delayMs)
    } else if (decision.action === 'fatal') {
      this.state = 'fatal'
      this.batcher.add(
        'system',
        `✖ gave up after ${this.counters.failedStarts} failed starts in a row; use Restart to try again\n`,
      )
    } else {
      this.state = exit.kind === 'failed' ? 'fatal' : this.stopRequested ? 'stopped' : 'exited'
    }
    // Output first, then the status: the exit is reported only after all output.
    this.batcher.flush()
    this.emitStatus()
    for (const resolve of this.endWaiters.splice(0)) resolve()
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.nextRetryAt = null
  }

  private notRunningReason(): string {
    if (this.state === 'backoff') return 'it is waiting to restart'
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

/** A run's first line: what started, and its pid. */
function startedLine(spec: ProcessSpec, pid: number, inTerminal = false): string {
  const where = inTerminal ? ', in a terminal' : ''
  return `▶ started ${oneLineCommand(spec.command)} (pid ${pid}${where})\n`
}

/** Give up a spool whose child never started. */
function discard(spool: Spool | null): void {
  spool?.stdout.discard()
  spool?.stderr.discard()
}
