import { existsSync } from 'node:fs'
import { Writable } from 'node:stream'
import { Worker } from 'node:worker_threads'
import type { OwnStream, ProcessId } from '../../shared/contract'
import type { LaunchPlan } from './launch'
import type {
  FromOutputWorker,
  OutputWorkerData,
  TapChunk,
  ToOutputWorker,
} from './output-worker-protocol'
import { SharedRingReader, type RetentionBudget } from './shared-ring'

/** Where a tapped run's output goes on the main thread. */
export interface TapSink {
  /**
   * One turn's output of the run, numbered by the worker, and the bytes it logged; program
   * output's bytes are in `ring` at the chunks' offsets.
   */
  output(chunks: TapChunk[], logged: number, ring: SharedRingReader): void
}

/** A child whose output the output worker reads; the main thread keeps its control plane. */
export interface TappedChild {
  readonly pid: number
  /** Its stdin: writes go through the worker, which holds the socket. */
  readonly stdin: Writable
  /**
   * Start reading its output, numbered from `seq`, logged to `logFile` (none when null).
   * Until then the output waits in the child's pipes.
   */
  attach(seq: number, logFile: string | null): void
  /** One of Corral's own lines (or a line typed into stdin), numbered in order with the output. */
  say(text: string, stream: OwnStream): void
  /**
   * Call `listener` once the run is over: the process exited, all its output was reported,
   * its log is written and closed. `seq` is the next sequence number. Code and signal both
   * null: the exit status could not be learnt.
   */
  onClose(listener: (code: number | null, signal: NodeJS.Signals | null, seq: number) => void): void
}

interface Run {
  sink: TapSink
  proc: ProcessId
  stdin: Writable | null
  writes: Map<number, (err?: Error) => void>
  closed: ((code: number | null, signal: NodeJS.Signals | null, seq: number) => void) | null
  launched: { resolve: (child: TappedChild) => void; reject: (err: Error) => void } | null
}

/**
 * The main thread's side of the output worker (`main/output-worker.ts`): starts the worker
 * thread, launches pipe-mode runs through it and routes what it reports to each run's sink.
 * If the worker cannot start or dies, {@link active} turns false and runs stay on the main
 * thread; runs it had are reported closed with an unknown exit status.
 */
export class OutputWorkerClient {
  private readonly worker: Worker | null = null
  private dead = false
  private nextId = 1
  private nextRid = 1
  private readonly runs = new Map<number, Run>()
  private readonly rings = new Map<ProcessId, SharedRingReader>()
  private readonly settles = new Map<number, () => void>()

  constructor(script: string, spawnerScript: string, budget: RetentionBudget) {
    if (!existsSync(script) || !existsSync(spawnerScript)) {
      this.dead = true
      return
    }
    const worker = new Worker(script, {
      workerData: { spawnerScript, budget: budget.memory } satisfies OutputWorkerData,
      // In Electron the worker runs Node's own loop; nothing of the renderer's.
      stdout: false,
      stderr: false,
    })
    worker.on('message', (msg: FromOutputWorker) => this.receive(msg))
    worker.on('error', (err) => {
      console.error('corral: output worker failed:', err.message)
      this.lost()
    })
    worker.on('exit', () => this.lost())
    worker.unref()
    this.worker = worker
  }

  /** Whether runs can go through the worker. */
  get active(): boolean {
    return !this.dead
  }

  /** Launch `plan` in the worker, its output kept in the ring of `proc` (at most `ringMax`). */
  launch(proc: ProcessId, plan: LaunchPlan, ringMax: number, sink: TapSink): Promise<TappedChild> {
    const id = this.nextId++
    return new Promise<TappedChild>((resolve, reject) => {
      if (this.dead) {
        reject(new Error('the output worker is not running'))
        return
      }
      this.runs.set(id, {
        sink,
        proc,
        stdin: null,
        writes: new Map(),
        closed: null,
        launched: { resolve, reject },
      })
      this.updateRef()
      this.post({ t: 'launch', id, proc, plan, ringMax })
    })
  }

  /** Resolves once every log the worker writes holds what it was given so far. */
  settled(): Promise<void> {
    if (this.dead) return Promise.resolve()
    const rid = this.nextRid++
    return new Promise((resolve) => {
      this.settles.set(rid, resolve)
      this.updateRef()
      this.post({ t: 'settle', rid })
    })
  }

  /** The process is gone: its ring's memory goes back to the budget. */
  dispose(proc: ProcessId): void {
    this.rings.delete(proc)
    this.post({ t: 'dispose', proc })
  }

  /** Corral is shutting down: let the worker's spawner go, and the worker once idle. */
  close(): void {
    this.post({ t: 'close' })
    if (this.runs.size === 0) void this.worker?.terminate()
  }

  private post(msg: ToOutputWorker): void {
    if (!this.dead) this.worker?.postMessage(msg)
  }

  private receive(msg: FromOutputWorker): void {
    switch (msg.t) {
      case 'launched': {
        const run = this.runs.get(msg.id)
        if (!run?.launched) return
        let ring = this.rings.get(run.proc)
        if (!ring) this.rings.set(run.proc, (ring = new SharedRingReader(msg.control)))
        const child = this.child(msg.id, run, msg.pid)
        run.launched.resolve(child)
        run.launched = null
        return
      }
      case 'failed': {
        const run = this.runs.get(msg.id)
        this.runs.delete(msg.id)
        this.updateRef()
        run?.launched?.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }))
        return
      }
      case 'out':
        for (const [proc, block, memory] of msg.segments) {
          this.rings.get(proc)?.addSegment(block, memory)
        }
        for (const out of msg.runs) {
          const run = this.runs.get(out.id)
          const ring = run && this.rings.get(run.proc)
          if (run && ring) run.sink.output(out.chunks, out.logged, ring)
        }
        return
      case 'wrote': {
        const done = this.runs.get(msg.id)?.writes
        const cb = done?.get(msg.wid)
        done?.delete(msg.wid)
        cb?.(msg.error !== undefined ? new Error(msg.error) : undefined)
        return
      }
      case 'inputClosed':
        this.runs.get(msg.id)?.stdin?.destroy()
        return
      case 'closed': {
        const run = this.runs.get(msg.id)
        this.runs.delete(msg.id)
        this.updateRef()
        run?.stdin?.destroy()
        run?.closed?.(msg.code, msg.signal, msg.seq)
        return
      }
      case 'settled':
        this.settles.get(msg.rid)?.()
        this.settles.delete(msg.rid)
        this.updateRef()
    }
  }

  private child(id: number, run: Run, pid: number): TappedChild {
    const stdin = new Writable({
      decodeStrings: false,
      write: (data: string | Buffer, _encoding, callback) => {
        const wid = this.nextId++
        run.writes.set(wid, callback)
        this.post({ t: 'write', id, wid, data: typeof data === 'string' ? data : data.toString() })
      },
      final: (callback) => {
        this.post({ t: 'endInput', id })
        callback()
      },
    })
    // Errors reach the writer's callback; the stream itself must not throw them.
    stdin.on('error', () => {})
    run.stdin = stdin
    return {
      pid,
      stdin,
      attach: (seq, logFile) => this.post({ t: 'attach', id, seq, log: logFile }),
      say: (text, stream) => this.post({ t: 'say', id, text, stream }),
      onClose: (listener) => {
        run.closed = listener
      },
    }
  }

  /** The worker is gone: what it had is over, with an unknown exit status. */
  private lost(): void {
    if (this.dead) return
    this.dead = true
    for (const [id, run] of this.runs) {
      this.runs.delete(id)
      run.launched?.reject(new Error('the output worker stopped'))
      run.stdin?.destroy()
      run.closed?.(null, null, -1)
    }
    for (const resolve of this.settles.values()) resolve()
    this.settles.clear()
  }

  /** The worker keeps Corral running only while it has a run or an answer to come. */
  private updateRef(): void {
    if (this.runs.size > 0 || this.settles.size > 0) this.worker?.ref()
    else this.worker?.unref()
  }
}
