import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import type { Writable } from 'node:stream'
import type { LaunchPlan } from './launch'
import { openForChild, spoolFiles, SpoolTail, type Spool } from './spool'

/** A child's stdout or stderr as Corral reads it: a pipe, or a spool file followed (see spool.ts). */
export interface OutputSource {
  on(event: 'data', listener: (buf: Buffer) => void): unknown
  on(event: 'end' | 'close', listener: () => void): unknown
  once(event: 'close', listener: () => void): unknown
  pause(): unknown
  resume(): unknown
  readonly closed: boolean
}

/** A child started with a pipe for its stdin, in its own process group on POSIX. */
export interface LaunchedChild {
  readonly pid: number
  readonly stdin: Writable
  /** Its output: pipes, or the tails of the spool files it was given. */
  readonly stdout: OutputSource
  readonly stderr: OutputSource
  /**
   * Call `listener` once the process has exited and its output streams have closed (output
   * can still arrive after the exit). Both null: the exit status could not be learnt.
   */
  onClose(listener: CloseListener): void
  /**
   * Call `listener` once the process itself has exited, whether or not its output has closed
   * (a process it started may hold it open); at once if it has exited already.
   */
  onExit?(listener: () => void): void
}

/** Told how a child ended; both null when its exit status could not be learnt. */
export type CloseListener = (code: number | null, signal: NodeJS.Signals | null) => void

/**
 * Calls its listener with a child's exit once the child has exited and its outputs have
 * closed (output can still arrive after the exit), once; `onDone` runs just before.
 */
export class CloseGate {
  private exit: [number | null, NodeJS.Signals | null] | null = null
  private open = 0
  private listener: CloseListener | null = null
  private exitListeners: (() => void)[] = []
  private done = false

  constructor(
    outputs: OutputSource[],
    private readonly onDone: () => void = () => {},
  ) {
    for (const o of outputs) {
      // A quick child's output can have ended already.
      if (o.closed) continue
      this.open++
      o.once('close', () => {
        this.open--
        this.maybe()
      })
    }
  }

  /** Whether the child's exit was reported. */
  get exitKnown(): boolean {
    return this.exit !== null
  }

  /** The child exited (the first report counts). */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exit) return
    this.exit = [code, signal]
    const listeners = this.exitListeners
    this.exitListeners = []
    for (const listener of listeners) listener()
    this.maybe()
  }

  /** Call `listener` once the child has exited (at once if it has). */
  onExit(listener: () => void): void {
    if (this.exit) listener()
    else this.exitListeners.push(listener)
  }

  onClose(listener: CloseListener): void {
    this.listener = listener
    this.maybe()
  }

  private maybe(): void {
    if (this.done || !this.exit || this.open > 0 || !this.listener) return
    this.done = true
    this.onDone()
    this.listener(...this.exit)
  }
}

/** Starts children. */
export interface Launcher {
  /**
   * Whether launching blocks this event loop until the child has exec'd (then starts take
   * turns, see `TurnPacer`).
   */
  readonly blocksLoop: boolean
  /**
   * Whether a child launched with a spool writes into pipes that a relay copies to the files
   * (see forker.ts), rather than into the files themselves. Only then is output spooled: a
   * program that opens `/dev/stdout` or `/dev/stderr` itself (`echo oops > /dev/stderr`)
   * opens its stdout anew with `O_TRUNC`, which for a file truncates it and overwrites what
   * was written before. Without a relay, output goes through pipes.
   */
  readonly relaysSpool: boolean
  /**
   * Start `plan`; rejects with Node's spawn error (with its `code`) when it cannot start. With
   * `spool`, the child writes its output into the spool's files, which the returned child's
   * stdout and stderr follow; the caller discards the spool if the launch fails.
   */
  launch(plan: LaunchPlan, spool?: Spool | null): Promise<LaunchedChild>
}

/**
 * Once the child has exited, tell its spool tails (if any) that its group may still write,
 * and end them when no one does.
 */
export function finishSpooled(outputs: OutputSource[], pgid: number): void {
  for (const o of outputs) if (o instanceof SpoolTail) o.finish(pgid)
}

/** Launching with `child_process.spawn` in this process. */
export const localLauncher: Launcher = {
  blocksLoop: true,
  relaysSpool: false,
  launch(plan, spool) {
    return new Promise((resolve, reject) => {
      const fds = spool ? openForChild(spoolFiles(spool)) : null
      let child
      try {
        child = spawn(plan.file, plan.args, {
          cwd: plan.cwd,
          env: plan.env,
          stdio: fds ? ['pipe', fds[0], fds[1]] : 'pipe',
          // Own process group (and session) on POSIX, so signals reach the whole tree.
          detached: process.platform !== 'win32',
          windowsHide: true,
        })
      } finally {
        // The child has its own copies (or none, if it could not start).
        for (const fd of fds ?? []) fs.closeSync(fd)
      }
      child.once('spawn', () => {
        const pid = child.pid as number
        const stdout = spool?.stdout ?? (child.stdout as OutputSource)
        const stderr = spool?.stderr ?? (child.stderr as OutputSource)
        if (spool) {
          SpoolTail.start([spool.stdout, spool.stderr])
          child.once('exit', () => finishSpooled([stdout, stderr], pid))
        }
        resolve({
          pid,
          stdin: child.stdin as Writable,
          stdout,
          stderr,
          // 'close', not 'exit': output can still arrive after the process exited.
          onClose: spool
            ? (listener) => whenClosed([stdout, stderr], child).onClose(listener)
            : (listener) => child.once('close', listener),
          onExit: (listener) => {
            if (child.exitCode !== null || child.signalCode !== null) listener()
            else child.once('exit', () => listener())
          },
        })
      })
      child.on('error', (err) => {
        // Before 'spawn' an error means the program could not be started (ENOENT arrives
        // asynchronously); after it, errors come from kill() on a dead child and are moot.
        if (child.pid === undefined) reject(err)
      })
    })
  },
}

/** A gate that opens once `child` has exited and `outputs` have closed. */
function whenClosed(outputs: OutputSource[], child: ChildProcess): CloseGate {
  const gate = new CloseGate(outputs)
  if (child.exitCode !== null || child.signalCode !== null) {
    gate.exited(child.exitCode, child.signalCode)
  } else child.once('exit', (code, signal) => gate.exited(code, signal))
  return gate
}
