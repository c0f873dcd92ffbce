import fs from 'node:fs'
import path from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import {
  CorralError,
  isOwnStream,
  type EndReason,
  type ExitInfo,
  type OutputChunk,
  type ProcessId,
  type RunInfo,
  type RunOutput,
  type RunOutputRange,
  type StartReason,
} from '../../shared/contract'
import { AtomicFileWriter, removeStaleTemps } from './atomic-file'
import { backgroundIo } from './io-lane'
import { releaseStaged, retainStaged, Staging } from './staging'
import type { SpoolFiles } from './spool'
import { byteLength, leadingContinuationBytes } from './utf8'

/** Runs kept per process. */
export const RETAIN_RUNS = 20
/** Log bytes kept per process. */
export const RETAIN_BYTES = 200 * 1024 * 1024
/** Most log bytes returned by one {@link RunStore.read}; older bytes are skipped and counted. */
export const READ_LIMIT_BYTES = 8 * 1024 * 1024
/** Logs whose record index is kept between reads, and the most records one may have. */
const MAX_INDEXED_LOGS = 8
const MAX_INDEXED_RECORDS = 1_000_000

/**
 * Record layout of a run log: a 24-byte header, then the bytes exactly as the child wrote
 * them. Header: stream (u8: 0 stdout, 1 stderr, 2 Corral's own lines such as "started" and
 * how the run ended), flags (u8), 2 reserved bytes, payload length (u32 LE), arrival time
 * (f64 LE, epoch ms), the chunk's sequence number (f64 LE, an integer). With flag
 * {@link SPOOLED} the bytes are not in the log: they are in the run's spool file of that
 * stream (see spool.ts), at the offset (f64 LE) that follows the header.
 */
export const RECORD_HEADER_BYTES = 24
/** Record flag: the payload is in the stream's spool file. */
const SPOOLED = 1
/** Bytes after the header of a spooled record: where its payload is in the spool file. */
const SPOOL_REF_BYTES = 8

const STREAM_CODES = { stdout: 0, stderr: 1, system: 2, stdin: 3 } as const
type LogStream = keyof typeof STREAM_CODES
const STREAM_NAMES: readonly LogStream[] = ['stdout', 'stderr', 'system', 'stdin']

/** Where run logs go, with the retention limits. */
export interface RunStoreOptions {
  root: string
  retainRuns?: number
  retainBytes?: number
}

/** One record read back from a log. */
export interface LogRecord {
  stream: LogStream
  seq: number
  time: number
  data: Buffer
}

/**
 * Unwritten log bytes above which {@link RunLog.append} asks its writer to pause: a disk
 * slower than the child then slows the child (nothing is dropped), and memory stays bounded.
 */
export const LOG_HIGH_WATER_BYTES = 4 * 1024 * 1024
/** Unwritten log bytes at or below which a paused writer may go on. */
export const LOG_LOW_WATER_BYTES = 1024 * 1024

/** Memory for record headers, and for output that is not already staged, until written. */
const recordStaging = new Staging()

/**
 * The log of one run. Records are appended in order by asynchronous writes on libuv's thread
 * pool (one `writev` in flight, everything queued meanwhile in the next), so a flood does not
 * spend the event loop copying into the page cache. Reading a live run first waits for what
 * was appended ({@link settled}), and shutdown waits for every log, so what the UI was shown is
 * what the log holds; only a crash of Corral itself can lose the unwritten backlog, which is
 * bounded by {@link LOG_HIGH_WATER_BYTES} through the writer pausing its reading.
 */
export class RunLog {
  /** Null while the file is being opened, and after it is closed. */
  private fd: number | null = null
  /** Closed (after the end) or failed: nothing more is written. */
  private done = false
  private queue: Buffer[] = []
  private queuedBytes = 0
  /** Bytes appended but not yet written (queued and in flight). */
  private backlog = 0
  private writing = false
  private ended = false
  private settledWaiters: (() => void)[] = []
  private writableWaiters: (() => void)[] = []
  /** Why writing stopped, if it did (disk full, I/O error); later output is not logged. */
  error: Error | null = null
  /** Set when another thread writes the run's output (see {@link handOver}). */
  private elsewhere: (() => Promise<void>) | null = null
  /**
   * Bytes of each stream recorded so far while the run's output is spooled (see
   * {@link spooled}): the offset in its spool file of the next chunk's bytes. Null: the
   * log holds the bytes itself.
   */
  private spoolAt: Record<'stdout' | 'stderr', number> | null = null

  constructor(
    readonly info: RunInfo,
    readonly file: string,
    private readonly onEnd: (log: RunLog) => void,
    private readonly onClosed: (log: RunLog) => void = () => {},
    private readonly onError: (err: Error) => void = () => {},
    /** Resolves once the log's directory exists. */
    private readonly dirReady: Promise<unknown> = Promise.resolve(),
  ) {
    // Opened on the thread pool too, in the background lane (its start does not wait for
    // it); what is appended meanwhile waits in the queue.
    void dirReady.then(
      () =>
        backgroundIo.run(
          () =>
            new Promise<void>((resolve) =>
              fs.open(file, 'a', 0o600, (err, fd) => {
                resolve()
                if (this.elsewhere) {
                  if (!err) fs.close(fd, () => {})
                  return
                }
                if (err) return this.fail(err)
                this.fd = fd
                this.pump()
              }),
            ),
        ),
      (err: Error) => this.fail(err),
    )
  }

  /**
   * Append the raw bytes of one output chunk (the reads it was made of; none for a stretch
   * of a spool file skipped unread, then `length` says how long). Returns false when the
   * unwritten backlog is above the high-water mark: the caller should pause its source until
   * {@link whenWritable}.
   */
  append(
    stream: LogStream,
    seq: number,
    time: number,
    parts: readonly Buffer[],
    length = byteLength(parts),
  ): boolean {
    // Once handed over, the other thread writes the log: anything said here after that
    // (the line saying how a worker's run ended) is not recorded.
    if (this.done || this.ended || this.elsewhere) return true
    if (length === 0) return true
    // Header and payload go out in the same writev, so a record is never split by a crash
    // between two writes of Corral's own. Pieces in staging memory (what children's output
    // was read into) are held until written rather than copied; any other buffer is copied,
    // since its owner may reuse it as soon as this returns.
    // Corral's own lines are never in a spool file: the log holds them.
    const spool = isOwnStream(stream) ? null : this.spoolAt
    const header = recordStaging.alloc(RECORD_HEADER_BYTES + (spool ? SPOOL_REF_BYTES : 0))
    // The bytes of a spooled record are on disk already, in the spool file, in the order
    // they are recorded.
    const spooled = stream as 'stdout' | 'stderr'
    writeRecordHeader(header, stream, seq, time, length, spool ? spool[spooled] : null)
    this.queue.push(header)
    if (spool) {
      spool[spooled] += length
    } else {
      for (const part of parts) {
        if (part.length > 0)
          this.queue.push(retainStaged(part) ? part : recordStaging.copy(part, part.length))
      }
    }
    const stored = header.length + (spool ? 0 : length)
    this.queuedBytes += stored
    this.backlog += stored
    // The run's size is what the program wrote.
    if (!isOwnStream(stream)) this.info.bytes += length
    this.pump()
    return this.backlog <= LOG_HIGH_WATER_BYTES
  }

  /**
   * The run's output goes to its spool files (see spool.ts), which the child writes itself:
   * from now on records say where their bytes are in them instead of holding the bytes.
   * Call before anything is appended.
   */
  spooled(): void {
    this.spoolAt = { stdout: 0, stderr: 0 }
  }

  /** The spool files of this run. */
  get spoolFiles(): SpoolFiles {
    return spoolFilesOf(this.file)
  }

  /** Resolves once the log's directory exists (rejects if it cannot be made). */
  get ready(): Promise<unknown> {
    return this.dirReady
  }

  /** Calls `fn` once the backlog is at or below the low-water mark (at once if it is). */
  whenWritable(fn: () => void): void {
    if (this.backlog <= LOG_LOW_WATER_BYTES) fn()
    else this.writableWaiters.push(fn)
  }

  /** Resolves once everything appended so far is written (or writing failed). */
  settled(): Promise<void> {
    if (this.elsewhere && !this.done) return this.elsewhere()
    if (this.backlog === 0) return Promise.resolve()
    return new Promise((resolve) => this.settledWaiters.push(resolve))
  }

  /** Unwritten bytes. */
  get pending(): number {
    return this.backlog
  }

  /** Record how the run ended; the file is closed once everything appended is written. */
  end(exit: ExitInfo, endReason: EndReason, endedAt: number): void {
    if (this.ended) return
    this.info.exit = exit
    this.info.endReason = endReason
    this.info.endedAt = endedAt
    this.onEnd(this)
    this.close()
  }

  /** Nothing more will be appended: close the file once everything appended is written. */
  close(): void {
    if (this.ended) return
    this.ended = true
    if (this.elsewhere) {
      this.done = true
      this.onClosed(this)
    } else this.pump()
  }

  /**
   * The run's output is written to this log by another thread (the output worker), which
   * opens the file itself: this object keeps only the run's record, closes its own handle on
   * the file, and waits for the writer through `settle`. The writer adds to {@link info}'s
   * byte count through {@link written}.
   */
  handOver(settle: () => Promise<void>): void {
    this.elsewhere = settle
    if (this.fd !== null) fs.close(this.fd, () => {})
    this.fd = null
  }

  /** `bytes` more of the run's output were written by the log's writer elsewhere. */
  written(bytes: number): void {
    this.info.bytes += bytes
  }

  private pump(): void {
    if (this.writing || this.fd === null) return
    if (this.queue.length === 0) {
      this.idle()
      return
    }
    const buffers = this.queue
    const total = this.queuedBytes
    this.queue = []
    this.queuedBytes = 0
    this.writing = true
    fs.writev(this.fd, buffers, (err, written) => {
      this.writing = false
      if (err) {
        for (const piece of buffers) releaseStaged(piece)
        return this.fail(err)
      }
      if (written < total) {
        // A short write (rare): the rest (a copy) goes first in the next one.
        const rest = Buffer.concat(buffers).subarray(written)
        this.queue.unshift(rest)
        this.queuedBytes += rest.length
      }
      for (const piece of buffers) releaseStaged(piece)
      this.backlog -= written
      if (this.backlog <= LOG_LOW_WATER_BYTES) runAll(this.writableWaiters.splice(0))
      this.pump()
    })
  }

  /** Nothing left to write: wake whoever waits, and close if the run has ended. */
  private idle(): void {
    runAll(this.settledWaiters.splice(0))
    runAll(this.writableWaiters.splice(0))
    if (this.ended && this.fd !== null) {
      fs.close(this.fd, () => {})
      this.fd = null
      this.done = true
      this.onClosed(this)
    }
  }

  private fail(err: Error): void {
    if (this.done) return
    this.done = true
    this.error = err
    for (const piece of this.queue) releaseStaged(piece)
    this.queue = []
    this.queuedBytes = 0
    this.backlog = 0
    if (this.fd !== null) fs.close(this.fd, () => {})
    this.fd = null
    runAll(this.settledWaiters.splice(0))
    runAll(this.writableWaiters.splice(0))
    this.onError(err)
    this.onClosed(this)
  }
}

/**
 * Write a record header into `into` (its first {@link RECORD_HEADER_BYTES}, and the spool
 * offset after them when `spoolOffset` is given: the payload is then in the spool file).
 */
function writeRecordHeader(
  into: Buffer,
  stream: LogStream,
  seq: number,
  time: number,
  length: number,
  spoolOffset: number | null,
): void {
  into.fill(0, 0, 4)
  into.writeUInt8(STREAM_CODES[stream], 0)
  if (spoolOffset !== null) into.writeUInt8(SPOOLED, 1)
  into.writeUInt32LE(length, 4)
  into.writeDoubleLE(time, 8)
  into.writeDoubleLE(seq, 16)
  if (spoolOffset !== null) into.writeDoubleLE(spoolOffset, RECORD_HEADER_BYTES)
}

/** Corral's line at the end of a run it stopped watching before the run ended. */
export const UNSEEN_END_LINE = '■ Corral stopped during this run: how the run ended is not known\n'
/** Largest record the recovered part of a spool file is cut into (see {@link recoverRun}). */
const RECOVERED_RECORD_BYTES = 1024 * 1024

/**
 * Complete the log of a run that an earlier life of Corral left open (it was killed, or
 * crashed, before the run ended). A spooled run's child wrote its output straight into its
 * spool files, up to its end, but the log records only what Corral had read of them: record
 * the rest (in records of at most {@link RECOVERED_RECORD_BYTES}, cut between characters, so
 * each reads back on its own), then {@link UNSEEN_END_LINE}. A record cut short by the crash
 * is dropped first. Returns the bytes of program output the log now holds: the run's size as
 * recorded in its index was last written when the run started.
 */
export async function recoverRun(file: string): Promise<number> {
  let handle: fs.promises.FileHandle
  try {
    handle = await fs.promises.open(file, 'r+')
  } catch {
    return 0
  }
  try {
    const index = new LogIndex()
    const size = (await handle.stat()).size
    await index.extend(handle, size)
    if (index.scanned < size) await handle.truncate(index.scanned)
    // Where each spool file's recorded bytes end, and the last sequence number used.
    const recorded = { stdout: 0, stderr: 0 }
    let seq = -1
    let bytes = 0
    for (let i = 0; i < index.count; i++) {
      seq = Math.max(seq, index.seq[i])
      const stream = STREAM_NAMES[index.stream[i]]
      if (isOwnStream(stream)) continue
      bytes += index.length[i]
      if (index.spooled[i]) {
        recorded[stream] = Math.max(recorded[stream], index.offset[i] + index.length[i])
      }
    }
    const records: Buffer[] = []
    let lastTime = 0
    const spool = spoolFilesOf(file)
    for (const stream of ['stdout', 'stderr'] as const) {
      let source: fs.promises.FileHandle
      try {
        source = await fs.promises.open(spool[stream], 'r')
      } catch {
        continue // not a spooled run, or nothing of this stream
      }
      try {
        const { size: end, mtimeMs } = await source.stat()
        lastTime = Math.max(lastTime, mtimeMs)
        for (let from = recorded[stream]; from < end;) {
          let to = Math.min(from + RECOVERED_RECORD_BYTES, end)
          if (to < end) to += await continuationBytesAt(source, to)
          const header = Buffer.alloc(RECORD_HEADER_BYTES + SPOOL_REF_BYTES)
          writeRecordHeader(header, stream, ++seq, mtimeMs, to - from, from)
          records.push(header)
          bytes += to - from
          from = to
        }
      } finally {
        await source.close()
      }
    }
    const line = Buffer.from(UNSEEN_END_LINE)
    const header = Buffer.alloc(RECORD_HEADER_BYTES)
    writeRecordHeader(header, 'system', ++seq, lastTime || Date.now(), line.length, null)
    records.push(header, line)
    const all = Buffer.concat(records)
    await handle.write(all, 0, all.length, index.scanned)
    return bytes
  } finally {
    await handle.close()
  }
}

/** How many UTF-8 continuation bytes (of a character begun before) start at `at` in `file`. */
async function continuationBytesAt(file: fs.promises.FileHandle, at: number): Promise<number> {
  const peek = Buffer.alloc(3)
  return leadingContinuationBytes(peek, (await file.read(peek, 0, 3, at)).bytesRead)
}

/** The record of a run just started. */
export function newRunInfo(
  processId: ProcessId,
  runId: string,
  number: number,
  startReason: StartReason,
  startedAt: number,
): RunInfo {
  return {
    runId,
    processId,
    number,
    startedAt,
    endedAt: null,
    exit: null,
    startReason,
    endReason: null,
    bytes: 0,
  }
}

/** The spool files that go with the run log `file`. */
export function spoolFilesOf(file: string): SpoolFiles {
  const base = file.replace(/\.log$/, '')
  return { stdout: `${base}.stdout`, stderr: `${base}.stderr` }
}

/** Corral's line in a run's output when writing its log failed. */
export function logFailedLine(err: Error): string {
  return `⚠ writing this run's log failed (${err.message}); later output is shown but not saved\n`
}

function runAll(fns: (() => void)[]): void {
  for (const fn of fns) fn()
}

/** Directories of deleted processes, being deleted (see {@link RunStore.deleteProcess}). */
const TRASH_PREFIX = '.deleted-'
/**
 * The ad-hoc (unsaved) processes of the Corral with this pid, in the run logs' root: a JSON
 * array of their ids. Ad-hoc processes last one life of Corral, and nothing can show their
 * runs after it; see {@link RunStore.deleteLeftovers}. One file per Corral, rewritten as the
 * list changes (writes collapse while one is under way): 200 processes started at once cost
 * a write or two, not one each.
 */
const adHocList = (pid: number): string => `.ad-hoc-${pid}.json`
const AD_HOC_LIST = /^\.ad-hoc-(\d+)\.json$/

/** Whether a process with this pid is alive (of any user). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Run history on disk: `<root>/<processId>/runs.json` indexes the runs, and each run's output
 * is `<root>/<processId>/<runId>.log`. Retention keeps the newest runs within a count and a
 * byte budget, removing the oldest first.
 */
export class RunStore {
  private readonly live = new Map<string, RunLog>()
  /** Record indexes of recently read logs, newest last. */
  private readonly logIndexes = new Map<string, LogIndex>()
  /** Logs of runs left open by an earlier life of Corral, being completed (see recoverRun). */
  private readonly recoveries = new Map<string, Promise<void>>()
  /** Per process: its directory made (once), and the writer of its index. */
  private readonly dirs = new Map<ProcessId, Promise<unknown>>()
  private readonly indexWriters = new Map<ProcessId, AtomicFileWriter>()
  private readonly indexes = new Map<ProcessId, RunInfo[]>()
  private readonly retainRuns: number
  private readonly retainBytes: number
  /** Ad-hoc processes of this life (see {@link RunStore.setAdHoc}). */
  private readonly adHoc = new Set<ProcessId>()
  private adHocWriter: AtomicFileWriter | null = null

  constructor(private readonly options: RunStoreOptions) {
    this.retainRuns = options.retainRuns ?? RETAIN_RUNS
    this.retainBytes = options.retainBytes ?? RETAIN_BYTES
    fs.mkdirSync(options.root, { recursive: true })
    for (const name of fs.readdirSync(options.root)) {
      if (name.startsWith(TRASH_PREFIX)) {
        fs.rm(path.join(options.root, name), { recursive: true, force: true }, () => {})
      }
    }
  }

  /** Open the log of a new run; prunes old runs beyond the retention limits. */
  startRun(
    processId: ProcessId,
    number: number,
    startReason: StartReason,
    startedAt: number,
    onError?: (err: Error) => void,
  ): RunLog {
    const runs = this.index(processId)
    const runId = `${startedAt.toString(36).padStart(9, '0')}-${number}`
    const info = newRunInfo(processId, runId, number, startReason, startedAt)
    const key = this.key(processId, runId)
    const log = new RunLog(
      info,
      this.logFile(processId, runId),
      () => this.writeIndex(processId),
      () => this.live.delete(key),
      onError,
      this.dirOf(processId),
    )
    runs.unshift(info)
    this.live.set(this.key(processId, runId), log)
    this.prune(processId, runs)
    this.writeIndex(processId)
    return log
  }

  /** Runs of a process, newest first. */
  list(processId: ProcessId): RunInfo[] {
    return this.index(processId).map((r) => ({ ...r }))
  }

  /**
   * Read a run's output back: a range of sequence numbers, at most `limitBytes`, newest kept.
   * A live run's log is read once what was appended to it is written.
   */
  async read(processId: ProcessId, runId: string, range: RunOutputRange = {}): Promise<RunOutput> {
    await this.live.get(this.key(processId, runId))?.settled()
    const run = this.index(processId).find((r) => r.runId === runId)
    if (!run) throw new CorralError('NO_SUCH_RUN', `No run "${runId}" of process "${processId}".`)
    const file = this.logFile(processId, runId)
    await this.recoveries.get(file)
    const index = this.logIndexes.get(file) ?? new LogIndex()
    const records = await readLog(
      file,
      {
        afterSeq: range.afterSeq ?? -1,
        beforeSeq: range.beforeSeq ?? Infinity,
        limitBytes: range.limitBytes ?? READ_LIMIT_BYTES,
      },
      index,
    )
    this.rememberIndex(file, index)
    const decoders = {
      stdout: new StringDecoder('utf8'),
      stderr: new StringDecoder('utf8'),
      system: new StringDecoder('utf8'),
      stdin: new StringDecoder('utf8'),
    }
    const chunks: OutputChunk[] = records.records.map((r) => ({
      seq: r.seq,
      stream: r.stream,
      data: decoders[r.stream].write(r.data),
      time: r.time,
    }))
    return { run: { ...run }, chunks, skippedBytes: records.skippedBytes }
  }

  /** Resolves once every log's appended output is written. */
  async settled(): Promise<void> {
    await Promise.all(this.recoveries.values())
    await Promise.all([...this.live.values()].map((log) => log.settled()))
    await Promise.all([...this.indexWriters.values()].map((w) => w.settled()))
    await this.adHocWriter?.settled()
  }

  /**
   * Whether a process is ad-hoc: listed as this Corral's, so that a later life of Corral
   * deletes its run logs (see {@link RunStore.deleteLeftovers}); one that is saved now leaves
   * the list.
   */
  setAdHoc(processId: ProcessId, adHoc: boolean): void {
    if (adHoc === this.adHoc.has(processId)) return
    if (adHoc) this.adHoc.add(processId)
    else this.adHoc.delete(processId)
    this.writeAdHocList()
  }

  /**
   * A process made just now (its id is new): it has no runs on disk, so its first run does
   * not look for them (a read on the event loop, 0.3–1 ms each when 200 start at once).
   */
  created(processId: ProcessId): void {
    if (!this.indexes.has(processId)) this.indexes.set(processId, [])
  }

  /**
   * Delete the run logs of ad-hoc processes of earlier lives of Corral: nothing can show them
   * any more, and a Corral used for a year of ad-hoc commands would otherwise keep up to
   * {@link RETAIN_BYTES} for each of them. Only processes listed as ad-hoc are deleted (never
   * a saved one, even if its definition could not be read), and only once the Corral that
   * listed them has ended: another Corral on the same data folder keeps its own. Returns the
   * processes whose logs were deleted.
   */
  deleteLeftovers(saved: ReadonlySet<ProcessId>): ProcessId[] {
    const deleted: ProcessId[] = []
    for (const name of fs.readdirSync(this.options.root)) {
      const owner = Number(AD_HOC_LIST.exec(name)?.[1] ?? 0)
      if (!owner || (owner !== process.pid && pidAlive(owner))) continue
      const list = path.join(this.options.root, name)
      let ids: unknown
      try {
        ids = JSON.parse(fs.readFileSync(list, 'utf8'))
      } catch {
        ids = [] // Unreadable: its processes' logs stay.
      }
      for (const id of Array.isArray(ids) ? ids : []) {
        // Names of processes only: nothing else in the root is ever deleted.
        if (typeof id !== 'string' || !/^[\w-]+$/.test(id) || saved.has(id)) continue
        if (!fs.existsSync(path.join(this.options.root, id))) continue
        this.deleteProcess(id)
        deleted.push(id)
      }
      fs.rmSync(list, { force: true })
      removeStaleTemps(list)
    }
    return deleted
  }

  /** Delete every run of a process. */
  deleteProcess(processId: ProcessId): void {
    this.setAdHoc(processId, false)
    this.indexes.delete(processId)
    this.dirs.delete(processId)
    const dir = path.join(this.options.root, processId)
    for (const file of [...this.logIndexes.keys()]) {
      if (path.dirname(file) === dir) this.logIndexes.delete(file)
    }
    // A write in flight fails once the directory is gone, which is the goal.
    void this.indexWriters.get(processId)?.cancel()
    this.indexWriters.delete(processId)
    // Deleting gigabytes of output can take seconds (on a file system that discards freed
    // blocks, each delete waits for the disk), so the directory is moved aside at once and
    // deleted off the event loop; one left by a crash is deleted at the next start.
    const trash = path.join(this.options.root, `${TRASH_PREFIX}${processId}-${process.pid}`)
    try {
      fs.renameSync(dir, trash)
    } catch {
      // Nothing to delete, or it cannot be moved: delete it where it is.
      fs.rm(dir, { recursive: true, force: true }, () => {})
      return
    }
    fs.rm(trash, { recursive: true, force: true }, () => {})
  }

  /** Write the list of this Corral's ad-hoc processes (off the loop; see {@link adHocList}). */
  private writeAdHocList(): void {
    this.adHocWriter ??= new AtomicFileWriter(
      path.join(this.options.root, adHocList(process.pid)),
      (err) => console.error('corral: could not list the ad-hoc processes:', err.message),
      { lane: backgroundIo },
    )
    this.adHocWriter.write(() => JSON.stringify([...this.adHoc]))
  }

  /** Keep the index of a log just read, for the next read of it (a few logs, bounded). */
  private rememberIndex(file: string, index: LogIndex): void {
    this.logIndexes.delete(file)
    if (index.count > MAX_INDEXED_RECORDS) return
    this.logIndexes.set(file, index)
    if (this.logIndexes.size > MAX_INDEXED_LOGS) {
      this.logIndexes.delete(this.logIndexes.keys().next().value as string)
    }
  }

  /** Make the process's directory (once), off the event loop. */
  private dirOf(processId: ProcessId): Promise<unknown> {
    let made = this.dirs.get(processId)
    if (!made) {
      made = fs.promises.mkdir(path.join(this.options.root, processId), { recursive: true })
      // Failures surface where the directory is used (the log's open, the index write).
      made.catch(() => {})
      this.dirs.set(processId, made)
    }
    return made
  }

  private prune(processId: ProcessId, runs: RunInfo[]): void {
    // Newest first: keep while within both budgets; the run just started is always kept.
    let bytes = 0
    let keep = 0
    for (const run of runs) {
      if (keep > 0 && (keep >= this.retainRuns || bytes + run.bytes > this.retainBytes)) break
      bytes += run.bytes
      keep++
    }
    for (const old of runs.splice(keep)) {
      if (this.live.has(this.key(processId, old.runId))) continue
      const file = this.logFile(processId, old.runId)
      this.logIndexes.delete(file)
      const spool = spoolFilesOf(file)
      for (const f of [file, spool.stdout, spool.stderr]) fs.rm(f, { force: true }, () => {})
    }
  }

  private index(processId: ProcessId): RunInfo[] {
    let runs = this.indexes.get(processId)
    if (runs) return runs
    runs = []
    try {
      const parsed = JSON.parse(fs.readFileSync(this.indexFile(processId), 'utf8')) as RunInfo[]
      if (Array.isArray(parsed)) runs = parsed
    } catch {
      // No index yet (a new process) or an unreadable one: start a fresh history.
    }
    const recoveries: Promise<void>[] = []
    for (const run of runs) {
      if (run.endedAt === null && !this.live.has(this.key(processId, run.runId))) {
        // A run left open by an earlier life of Corral that ended without closing it: what
        // its child wrote to disk after that is recorded now (reads of it wait).
        const file = this.logFile(processId, run.runId)
        const spool = spoolFilesOf(file)
        run.endReason = 'host-exit'
        run.endedAt =
          Math.max(...[file, spool.stdout, spool.stderr].map((f) => fileMtime(f) ?? 0)) ||
          run.startedAt
        const recovery = recoverRun(file)
          .then(
            (bytes) => {
              run.bytes = bytes
            },
            (err: Error) =>
              console.error(`corral: could not complete the log ${file}:`, err.message),
          )
          .finally(() => this.recoveries.delete(file))
        this.recoveries.set(file, recovery)
        recoveries.push(recovery)
      }
    }
    this.indexes.set(processId, runs)
    if (recoveries.length > 0) void Promise.all(recoveries).then(() => this.writeIndex(processId))
    return runs
  }

  /**
   * Record a process's runs on disk, off the event loop; changes made while a write is in
   * flight go out together in the next one. The index in memory is what Corral answers from;
   * {@link settled} waits for what is pending.
   */
  private writeIndex(processId: ProcessId): void {
    let writer = this.indexWriters.get(processId)
    if (!writer) {
      writer = new AtomicFileWriter(
        this.indexFile(processId),
        (err) => console.error(`corral: could not record the runs of ${processId}:`, err.message),
        { dirReady: this.dirOf(processId), lane: backgroundIo },
      )
      this.indexWriters.set(processId, writer)
    }
    writer.write(() => {
      const runs = this.indexes.get(processId) ?? []
      return JSON.stringify(runs.map((r) => this.live.get(this.key(processId, r.runId))?.info ?? r))
    })
  }

  private key(processId: ProcessId, runId: string): string {
    return `${processId}/${runId}`
  }

  private indexFile(processId: ProcessId): string {
    return path.join(this.options.root, processId, 'runs.json')
  }

  /** Path of a run's log file. */
  logFile(processId: ProcessId, runId: string): string {
    return path.join(this.options.root, processId, `${runId}.log`)
  }
}

/** Which records {@link readLog} returns. */
export interface ReadLogOptions {
  afterSeq?: number
  beforeSeq?: number
  limitBytes?: number
}

/** Bytes read at a time while scanning a log's record headers. */
const SCAN_BLOCK_BYTES = 64 * 1024
/** Most bytes read in one go while reading records back (neighbouring records come together). */
const READ_SPAN_BYTES = 4 * 1024 * 1024

/**
 * Where each record of a log file is, learnt once: logs only grow, so a later read of the same
 * file scans only the headers appended since (a view loading a range in steps reads the same
 * log several times). Typed arrays, about 30 bytes a record. Scans read blocks on the thread
 * pool, one at a time per index.
 */
export class LogIndex {
  /** Bytes of the file whose records are indexed. */
  scanned = 0
  count = 0
  seq = new Float64Array(64)
  time = new Float64Array(64)
  offset = new Float64Array(64)
  length = new Uint32Array(64)
  stream = new Uint8Array(64)
  /** 1 where the record's bytes are in its stream's spool file (offset is there), else 0. */
  spooled = new Uint8Array(64)
  /**
   * Whether sequence numbers grow through the file, as Corral writes them; then a range of
   * them is a range of records, found by binary search. A file that breaks this (edited by
   * hand) is still read, by looking at every record.
   */
  ascending = true
  /** The scan in progress: reads sharing this index wait for it instead of scanning twice. */
  private scanning: Promise<void> = Promise.resolve()

  /** Index the whole records in `file` up to `size` that are not indexed yet. */
  extend(file: fs.promises.FileHandle, size: number): Promise<void> {
    const next = this.scanning.then(() => this.scan(file, size))
    this.scanning = next.catch(() => {})
    return next
  }

  private async scan(file: fs.promises.FileHandle, size: number): Promise<void> {
    if (size < this.scanned) {
      this.scanned = this.count = 0
      this.ascending = true
    }
    const block = Buffer.allocUnsafe(SCAN_BLOCK_BYTES)
    // Running offset of block[0], and how many of its bytes are valid.
    let blockAt = 0
    let blockLength = 0
    while (this.scanned + RECORD_HEADER_BYTES <= size) {
      let at = this.scanned - blockAt
      // A header and what may follow it (a spooled record's offset) must be in the block.
      if (
        at + RECORD_HEADER_BYTES + SPOOL_REF_BYTES > blockLength &&
        blockAt + blockLength < size
      ) {
        // The next header is not in the block read last: read the block that starts with it
        // (small records come many headers to a block; a large record costs one read).
        blockAt = this.scanned
        const want = Math.min(SCAN_BLOCK_BYTES, size - blockAt)
        blockLength = (await file.read(block, 0, want, blockAt)).bytesRead
        if (blockLength < RECORD_HEADER_BYTES) break
        at = 0
      }
      const length = block.readUInt32LE(at + 4)
      const spooled = (block.readUInt8(at + 1) & SPOOLED) !== 0
      const stored = spooled ? SPOOL_REF_BYTES : length
      // A truncated last record (Corral died mid-write, or the write is in flight) waits.
      if (this.scanned + RECORD_HEADER_BYTES + stored > size) break
      if (this.count === this.seq.length) this.grow()
      const i = this.count++
      this.stream[i] = block.readUInt8(at)
      this.length[i] = length
      this.time[i] = block.readDoubleLE(at + 8)
      this.seq[i] = block.readDoubleLE(at + 16)
      if (i > 0 && !(this.seq[i] > this.seq[i - 1])) this.ascending = false
      this.spooled[i] = spooled ? 1 : 0
      this.offset[i] = spooled
        ? block.readDoubleLE(at + RECORD_HEADER_BYTES)
        : this.scanned + RECORD_HEADER_BYTES
      this.scanned += RECORD_HEADER_BYTES + stored
    }
  }

  private grow(): void {
    const n = this.seq.length * 2
    const more = <T extends Float64Array | Uint32Array | Uint8Array>(
      a: T,
      make: new (n: number) => T,
    ): T => {
      const b = new make(n)
      b.set(a)
      return b
    }
    this.seq = more(this.seq, Float64Array)
    this.time = more(this.time, Float64Array)
    this.offset = more(this.offset, Float64Array)
    this.length = more(this.length, Uint32Array)
    this.stream = more(this.stream, Uint8Array)
    this.spooled = more(this.spooled, Uint8Array)
  }
}

/**
 * Read the records of a log with `afterSeq < seq < beforeSeq`, keeping the newest ones within
 * `limitBytes` of payload. A truncated last record (Corral died mid-write) is ignored. Pass the
 * file's {@link LogIndex} from an earlier read to scan only what was appended since. All reads
 * happen on the thread pool, records next to each other in one read.
 */
export async function readLog(
  file: string,
  { afterSeq = -1, beforeSeq = Infinity, limitBytes = Infinity }: ReadLogOptions = {},
  index = new LogIndex(),
): Promise<{ records: LogRecord[]; skippedBytes: number }> {
  let handle: fs.promises.FileHandle
  try {
    handle = await fs.promises.open(file, 'r')
  } catch {
    return { records: [], skippedBytes: 0 }
  }
  // Where bytes are read from: the log itself, or the spool file of stdout or stderr (opened
  // when first needed; one that is missing reads as empty).
  const spool = spoolFilesOf(file)
  const sources: (Promise<fs.promises.FileHandle | null> | null)[] = [
    Promise.resolve(handle),
    null,
    null,
  ]
  const sourceOf = (i: number): number => (index.spooled[i] ? 1 + index.stream[i] : 0)
  const open = (source: number): Promise<fs.promises.FileHandle | null> =>
    (sources[source] ??= fs.promises
      .open(source === 1 ? spool.stdout : spool.stderr, 'r')
      .catch(() => null))
  // Whether record `b` follows record `a` directly in the file its bytes are in.
  const follows = (a: number, b: number): boolean =>
    index.spooled[a] ? index.offset[b] === index.offset[a] + index.length[a] : b === a + 1
  try {
    await index.extend(handle, (await handle.stat()).size)
    const inRange = recordsBetween(index, afterSeq, beforeSeq)
    let first = inRange.length
    let total = 0
    while (first > 0 && total + index.length[inRange[first - 1]] <= limitBytes)
      total += index.length[inRange[--first]]
    let skippedBytes = 0
    for (let k = 0; k < first; k++) skippedBytes += index.length[inRange[k]]
    const records: LogRecord[] = []
    for (let k = first; k < inRange.length;) {
      // One read for this record and the ones that follow it in the same file, up to a span.
      const source = sourceOf(inRange[k])
      const from = index.offset[inRange[k]]
      let end = k + 1
      while (
        end < inRange.length &&
        sourceOf(inRange[end]) === source &&
        follows(inRange[end - 1], inRange[end]) &&
        index.offset[inRange[end]] + index.length[inRange[end]] - from <= READ_SPAN_BYTES
      )
        end++
      const last = inRange[end - 1]
      const span = Buffer.allocUnsafe(index.offset[last] + index.length[last] - from)
      const reader = await open(source)
      const bytesRead = reader ? (await reader.read(span, 0, span.length, from)).bytesRead : 0
      for (; k < end; k++) {
        const i = inRange[k]
        const at = index.offset[i] - from
        // Every byte of a whole record was indexed, so it is there unless the file shrank.
        const data = span.subarray(at, Math.max(at, Math.min(at + index.length[i], bytesRead)))
        const stream = STREAM_NAMES[index.stream[i]] ?? 'stdout'
        records.push({ stream, seq: index.seq[i], time: index.time[i], data })
      }
    }
    return { records, skippedBytes }
  } finally {
    await handle.close()
    for (const other of sources.slice(1)) await (await other)?.close()
  }
}

/** Indices of the records with `afterSeq < seq < beforeSeq`, in file order. */
function recordsBetween(index: LogIndex, afterSeq: number, beforeSeq: number): ArrayLike<number> {
  if (!index.ascending) {
    const found: number[] = []
    for (let i = 0; i < index.count; i++) {
      if (index.seq[i] > afterSeq && index.seq[i] < beforeSeq) found.push(i)
    }
    return found
  }
  // The first record past `after` and the first at or past `before`: a contiguous range.
  const firstAbove = (bound: number, inclusive: boolean): number => {
    let lo = 0
    let hi = index.count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const seq = index.seq[mid]
      if (inclusive ? seq < bound : seq <= bound) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const from = firstAbove(afterSeq, false)
  const to = Math.max(from, firstAbove(beforeSeq, true))
  const range = new Uint32Array(to - from)
  for (let k = 0; k < range.length; k++) range[k] = from + k
  return range
}

function fileMtime(file: string): number | null {
  try {
    return fs.statSync(file).mtimeMs
  } catch {
    return null
  }
}
