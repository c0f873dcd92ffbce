import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Socket } from 'node:net'
import {
  CloseGate,
  finishSpooled,
  localLauncher,
  type CloseListener,
  type LaunchedChild,
  type Launcher,
  type OutputSource,
} from './launcher'
import type { LaunchPlan } from './launch'
import { readIntoStaging, startReading } from './staging'
import { processExists, signalGroup } from './process-group'
import type { SpawnerMessage } from './spawner-protocol'
import { spoolFiles, SpoolTail, type Spool } from './spool'

/** After the spawner is lost, how often to look whether its children have ended. */
const LOST_POLL_MS = 100
/** Spawners that end before they said they were ready, before launching falls back to local. */
const MAX_FAILED_STARTS = 2

/** A launch the spawner has not answered in full yet. */
interface Pending {
  resolve: (child: RemoteChild) => void
  reject: (err: Error) => void
  /** The child's pid once its first socket arrived (it runs), else 0. */
  pid: number
  sockets: (Socket | null)[]
  /** The spool files the child writes its output to, when it does. */
  spool: Spool | null
}

/**
 * A child started by the spawner: its sockets (or spool files) are read here, its exit is
 * reported there.
 */
export class RemoteChild implements LaunchedChild {
  private readonly gate: CloseGate
  private lostPoll: NodeJS.Timeout | null = null

  constructor(
    readonly pid: number,
    readonly stdin: Socket,
    readonly stdout: OutputSource,
    readonly stderr: OutputSource,
    done: () => void,
  ) {
    // A quick child's output can have ended while its other sockets were on their way.
    this.gate = new CloseGate([stdout, stderr], () => {
      if (this.lostPoll) clearInterval(this.lostPoll)
      done()
    })
    // Whoever launched it listens from the moment the launch resolves, before the next read.
    const sources = [stdout, stderr]
    SpoolTail.start(sources.filter((s) => s instanceof SpoolTail))
    for (const s of sources) if (!(s instanceof SpoolTail)) startReading(s as Socket)
    // The sockets go both ways: the child's stdin is never read here, but reading it is how
    // its end (the child closed it, or exited) shows up without a failed write; anything the
    // child writes into its own stdin is dropped.
    stdin.on('data', () => {})
    stdin.on('error', () => {})
  }

  onClose(listener: CloseListener): void {
    this.gate.onClose(listener)
  }

  onExit(listener: () => void): void {
    this.gate.onExit(listener)
  }

  exited(code: number | null, signal: NodeJS.Signals | null): void {
    finishSpooled([this.stdout, this.stderr], this.pid)
    this.gate.exited(code, signal)
  }

  /** The spawner ended: the exit status will never come, so watch for the process to go. */
  lost(): void {
    if (this.gate.exitKnown || this.lostPoll) return
    this.lostPoll = setInterval(() => {
      if (!processExists(this.pid)) this.exited(null, null)
    }, LOST_POLL_MS)
  }
}

/**
 * Launching through Corral's spawner program (`main/spawner.ts`), so that starting a process
 * never blocks this event loop. The spawner is started on first use and again if it ends;
 * when it cannot run (not built, or it keeps dying at startup), launching falls back to this
 * process.
 */
export class SpawnerClient implements Launcher {
  readonly blocksLoop = false
  readonly relaysSpool = false
  private proc: ChildProcess | null = null
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly live = new Map<number, RemoteChild>()
  private failedStarts = 0
  private fallback = false
  private closed = false

  constructor(private readonly script: string) {
    if (process.platform === 'win32' || !existsSync(script)) this.fallback = true
  }

  /** Whether launches go through the spawner (false: it cannot run, they are local). */
  get active(): boolean {
    return !this.fallback && !this.closed
  }

  /** Start the spawner now rather than on the first launch. */
  warmUp(): void {
    if (this.active) this.ensure()
  }

  launch(plan: LaunchPlan, spool?: Spool | null): Promise<LaunchedChild> {
    if (!this.active) return localLauncher.launch(plan, spool)
    const proc = this.ensure()
    const id = this.nextId++
    return new Promise<LaunchedChild>((resolve, reject) => {
      this.pending.set(id, {
        resolve,
        reject,
        pid: 0,
        sockets: [null, null, null],
        spool: spool ?? null,
      })
      this.updateRef()
      const { file, args, cwd, env } = plan
      proc.send(
        { t: 'launch', id, file, args, cwd, env, ...(spool ? { spool: spoolFiles(spool) } : {}) },
        (err) => {
          if (err) this.settleFailed(id, err)
        },
      )
    }).catch((err: NodeJS.ErrnoException) => {
      // The spawner cannot hand over sockets in this runtime: launch here from now on.
      if (err.code === 'ESPAWNER') {
        this.fallback = true
        return localLauncher.launch(plan, spool)
      }
      throw err
    })
  }

  /** Let the spawner go once nothing is left to hear about (Corral is shutting down). */
  close(): void {
    this.closed = true
    if (this.pending.size === 0 && this.live.size === 0) this.letGo()
  }

  private ensure(): ChildProcess {
    if (this.proc) return this.proc
    const proc = spawn(process.execPath, [this.script], {
      // Its own session: signals meant for Corral's terminal (Ctrl-C) must not take it down
      // while Corral still waits for exit statuses from it.
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      // In Electron, execPath is Electron itself; this makes it behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    })
    let ready = false
    proc.on('message', (msg: SpawnerMessage, handle?: Socket) => {
      if (msg.t === 'ready') {
        ready = true
        this.failedStarts = 0
      } else this.receive(msg, handle)
    })
    proc.on('error', (err) => console.error('corral: spawner failed:', err.message))
    proc.once('exit', (code, signal) => {
      if (this.proc === proc) this.proc = null
      if (!ready && ++this.failedStarts >= MAX_FAILED_STARTS) this.fallback = true
      const why = `Corral's spawner ended (${signal ?? `exit code ${code}`})`
      for (const id of [...this.pending.keys()]) this.settleFailed(id, new Error(why))
      for (const child of this.live.values()) child.lost()
      if (!this.closed && this.live.size > 0) console.error(`corral: ${why}`)
    })
    this.proc = proc
    this.updateRef()
    return proc
  }

  private receive(msg: SpawnerMessage, handle?: Socket): void {
    if (msg.t === 'stdio') {
      const p = this.pending.get(msg.id)
      if (!p) {
        handle?.destroy()
        return
      }
      p.pid = msg.pid
      if (!handle) {
        this.settleFailed(msg.id, new Error(`the spawner handed over no socket for fd ${msg.fd}`))
        return
      }
      // Output is read into reused memory (see Staging), before anything reads it.
      p.sockets[msg.fd] = msg.fd === 0 ? handle : readIntoStaging(handle)
      const [stdin, piped, pipedErr] = p.sockets
      const stdout = p.spool?.stdout ?? piped
      const stderr = p.spool?.stderr ?? pipedErr
      if (!stdin || !stdout || !stderr) return
      this.pending.delete(msg.id)
      const child = new RemoteChild(msg.pid, stdin, stdout, stderr, () => {
        this.live.delete(msg.id)
        this.updateRef()
      })
      this.live.set(msg.id, child)
      p.resolve(child)
    } else if (msg.t === 'failed') {
      const err = Object.assign(new Error(msg.error.message), { code: msg.error.code })
      this.settleFailed(msg.id, err)
    } else if (msg.t === 'exit') {
      this.live.get(msg.id)?.exited(msg.code, msg.signal as NodeJS.Signals | null)
    }
  }

  private settleFailed(id: number, err: Error): void {
    const p = this.pending.get(id)
    if (!p) return
    this.pending.delete(id)
    // A child already started (some sockets arrived, then the spawner failed or died) would
    // run unwatched.
    if (p.pid > 0) signalGroup(p.pid, 'SIGKILL')
    for (const s of p.sockets) s?.destroy()
    p.reject(err)
    this.updateRef()
  }

  /** Close the channel, which ends the spawner (once). */
  private letGo(): void {
    if (this.proc?.connected) this.proc.disconnect()
  }

  /** The channel keeps Corral running only while a launch or an exit is still to come. */
  private updateRef(): void {
    const proc = this.proc
    if (!proc) return
    const busy = this.pending.size > 0 || this.live.size > 0
    const channel = proc.channel as { ref(): void; unref(): void } | undefined
    if (busy) {
      proc.ref()
      channel?.ref()
    } else {
      proc.unref()
      channel?.unref()
      if (this.closed) this.letGo()
    }
  }
}
