import { isUtf8 } from 'node:buffer'
import fs from 'node:fs'
import path from 'node:path'
import type { OwnStream, ProcessId } from '../../shared/contract'
import type { LaunchPlan } from './launch'
import type { LaunchedChild, Launcher } from './launcher'
import { MAX_CHUNK_CHARS } from './output-buffer'
import type {
  FromOutputWorker,
  TapChunk,
  TapRunOutput,
  ToOutputWorker,
} from './output-worker-protocol'
import { logFailedLine, newRunInfo, RunLog } from './run-store'
import type { RetentionBudget } from './shared-ring'
import { SEGMENT_BYTES, SharedRingWriter } from './shared-ring'
import { readStaging } from './staging'
import { Utf8Splitter } from './utf8'

type Stream = 'stdout' | 'stderr'

/** Output of a run waiting for the end of the turn. */
type Pending =
  | { kind: 'bytes'; stream: Stream; parts: Buffer[]; size: number; time: number }
  | { kind: 'text'; stream: OwnStream; text: string; time: number }

/** One run whose output the tap reads. */
interface TapRun {
  id: number
  proc: ProcessId
  child: LaunchedChild
  ring: SharedRingWriter
  /** Next sequence number; null until the main thread handed numbering over (attach). */
  seq: number | null
  log: RunLog | null
  pending: Pending[]
  chunks: TapChunk[]
  logged: number
  /** Reading is paused: not attached yet, or the log is behind. */
  paused: boolean
  /** The exit, once the child exited and its output streams closed. */
  closed: { code: number | null; signal: NodeJS.Signals | null } | null
}

/**
 * The output worker's side of every pipe-mode run (see `docs/output-worker.md`): launches
 * the child through `launcher`, reads its stdout and stderr, cuts them at character
 * boundaries, numbers them, writes the run log and keeps the bytes in a ring of shared memory
 * per process, and reports each turn's chunks to the main thread in one message. Plain Node:
 * it runs in a worker thread (`main/output-worker.ts`) and, for tests, on any thread.
 */
export class OutputTap {
  private readonly runs = new Map<number, TapRun>()
  private readonly rings = new Map<ProcessId, SharedRingWriter>()
  private segments: [ProcessId, number, SharedArrayBuffer][] = []
  private scheduled: NodeJS.Immediate | null = null

  constructor(
    private readonly launcher: Launcher,
    private readonly budget: RetentionBudget,
    private readonly post: (msg: FromOutputWorker) => void,
    private readonly close: () => void = () => {},
  ) {}

  /** Handle one message from the main thread. */
  receive(msg: ToOutputWorker): void {
    switch (msg.t) {
      case 'launch':
        void this.launch(msg.id, msg.proc, msg.plan, msg.ringMax)
        return
      case 'attach':
        return this.attach(msg.id, msg.seq, msg.log)
      case 'say': {
        const run = this.runs.get(msg.id)
        if (run)
          this.queue(run, { kind: 'text', stream: msg.stream, text: msg.text, time: Date.now() })
        return
      }
      case 'write':
        return this.write(msg.id, msg.wid, msg.data)
      case 'endInput':
        this.runs.get(msg.id)?.child.stdin.end()
        return
      case 'settle':
        void Promise.all([...this.runs.values()].map((r) => r.log?.settled())).then(() =>
          this.post({ t: 'settled', rid: msg.rid }),
        )
        return
      case 'dispose':
        this.rings.get(msg.proc)?.dispose()
        this.rings.delete(msg.proc)
        return
      case 'close':
        this.close()
    }
  }

  private async launch(
    id: number,
    proc: ProcessId,
    plan: LaunchPlan,
    ringMax: number,
  ): Promise<void> {
    let child: LaunchedChild
    try {
      child = await this.launcher.launch(plan)
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      this.post({ t: 'failed', id, error: { code: e.code, message: e.message } })
      return
    }
    let ring = this.rings.get(proc)
    if (!ring) {
      ring = new SharedRingWriter(ringMax, this.budget, (block, memory) =>
        this.segments.push([proc, block, memory]),
      )
      this.rings.set(proc, ring)
    }
    const run: TapRun = {
      id,
      proc,
      child,
      ring,
      seq: null,
      log: null,
      pending: [],
      chunks: [],
      logged: 0,
      paused: false,
      closed: null,
    }
    this.runs.set(id, run)
    // Nothing is read until the main thread hands numbering over (its "started" line first).
    this.pause(run, true)
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      const splitter = new Utf8Splitter()
      stream.on('data', (buf: Buffer) => {
        const bytes = splitter.push(buf)
        // Joined with a character split across reads, the bytes are a copy: the read is done.
        if (bytes.length === 0 || bytes.buffer !== buf.buffer) readStaging.release(buf)
        this.queueBytes(run, name, bytes)
      })
      stream.on('end', () => this.queueBytes(run, name, splitter.end()))
    }
    this.post({ t: 'launched', id, pid: child.pid, control: ring.control })
    child.stdin.on('close', () => this.post({ t: 'inputClosed', id }))
    if (child.stdin.closed) this.post({ t: 'inputClosed', id })
    child.onClose((code, signal) => {
      run.closed = { code, signal }
      this.finishRun(run)
    })
  }

  private attach(id: number, seq: number, logFile: string | null): void {
    const run = this.runs.get(id)
    if (!run || run.seq !== null) return
    run.seq = seq
    if (logFile) {
      // The worker's copy of the run's record; the main thread keeps the real one.
      const info = newRunInfo(run.proc, path.basename(logFile, '.log'), 0, 'user', 0)
      run.log = new RunLog(
        info,
        logFile,
        () => {},
        () => {},
        (err) =>
          this.queue(run, {
            kind: 'text',
            stream: 'system',
            text: logFailedLine(err),
            time: Date.now(),
          }),
        fs.promises.mkdir(path.dirname(logFile), { recursive: true }),
      )
    }
    this.pause(run, false)
    if (run.pending.length > 0) this.schedule()
    this.finishRun(run)
  }

  private write(id: number, wid: number, data: string): void {
    const stdin = this.runs.get(id)?.child.stdin
    const answer = (err?: Error | null): void =>
      this.post(err ? { t: 'wrote', id, wid, error: err.message } : { t: 'wrote', id, wid })
    if (!stdin || stdin.destroyed || stdin.writableEnded) {
      answer(new Error('stdin is closed'))
      return
    }
    stdin.write(data, answer)
  }

  private pause(run: TapRun, on: boolean): void {
    if (run.paused === on) return
    run.paused = on
    for (const stream of [run.child.stdout, run.child.stderr]) {
      if (on) stream.pause()
      else stream.resume()
    }
  }

  /** Largest chunk for a run: a few of them fit in its ring however small the budget made it. */
  private maxChunk(run: TapRun): number {
    return Math.min(MAX_CHUNK_CHARS, Math.max(SEGMENT_BYTES, run.ring.room / 4))
  }

  private queueBytes(run: TapRun, stream: Stream, bytes: Buffer): void {
    if (bytes.length === 0) return
    const last = run.pending[run.pending.length - 1]
    if (
      last?.kind === 'bytes' &&
      last.stream === stream &&
      last.size + bytes.length <= this.maxChunk(run)
    ) {
      last.parts.push(bytes)
      last.size += bytes.length
      this.schedule()
    } else {
      this.queue(run, {
        kind: 'bytes',
        stream,
        parts: [bytes],
        size: bytes.length,
        time: Date.now(),
      })
    }
  }

  private queue(run: TapRun, piece: Pending): void {
    run.pending.push(piece)
    this.schedule()
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.flush())
  }

  /** Number, log and keep everything queued, and tell the main thread in one message. */
  private flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled)
    this.scheduled = null
    const out: TapRunOutput[] = []
    for (const run of this.runs.values()) {
      if (run.seq !== null && run.pending.length > 0) this.number(run)
      if (run.chunks.length === 0 && run.logged === 0) continue
      out.push({ id: run.id, chunks: run.chunks, logged: run.logged })
      run.chunks = []
      run.logged = 0
    }
    if (out.length === 0 && this.segments.length === 0) return
    const segments = this.segments
    this.segments = []
    this.post({ t: 'out', segments, runs: out })
  }

  private number(run: TapRun): void {
    const batch = run.pending
    run.pending = []
    for (const p of batch) {
      const seq = run.seq!++
      const log = run.log
      if (p.kind === 'text') {
        run.chunks.push({ seq, stream: p.stream, time: p.time, text: p.text })
        log?.append(p.stream, seq, p.time, [Buffer.from(p.text, 'utf8')])
        continue
      }
      // A disk slower than the child: stop reading until the log catches up.
      if (log && !log.append(p.stream, seq, p.time, p.parts) && !run.paused) {
        this.pause(run, true)
        log.whenWritable(() => this.pause(run, false))
      }
      if (log && !log.error) run.logged += p.size
      // Invalid bytes are replaced for the view (the log keeps them raw), as byteChunk does.
      const parts = p.parts.every((part) => isUtf8(part))
        ? p.parts
        : [Buffer.from(Buffer.concat(p.parts).toString('utf8'), 'utf8')]
      let at = -1
      let size = 0
      for (const part of parts) {
        const offset = run.ring.append(part)
        if (at < 0) at = offset
        size += part.length
      }
      run.chunks.push({ seq, stream: p.stream, time: p.time, at, size })
      for (const part of p.parts) readStaging.release(part)
    }
  }

  /**
   * Once the child exited, its streams closed and numbering was handed over: report the
   * last output, let the log write everything and close, then hand numbering back.
   */
  private finishRun(run: TapRun): void {
    if (!run.closed || run.seq === null || !this.runs.has(run.id)) return
    // Its last output goes out now, before the end (and other runs' output with it).
    this.flush()
    this.runs.delete(run.id)
    const done = (): void => this.post({ t: 'closed', id: run.id, ...run.closed!, seq: run.seq! })
    if (!run.log) return done()
    const log = run.log
    void log.settled().then(() => {
      log.close()
      done()
    })
  }
}
