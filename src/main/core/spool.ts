import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import { promisify } from 'node:util'
import { groupMembers } from './group-registry'
import { groupAlive, processExists } from './process-group'
import { readStaging } from './staging'
import { leadingContinuationBytes } from './utf8'

/**
 * Spooled output: a pipe-mode child's stdout and stderr go straight into files next to its
 * run log, appended to by its relay (a small process the forker starts beside it, which
 * copies the child's two pipes into them: see forker.ts), and Corral follows the files as
 * they grow, woken by inotify (`fs.watch`, with a look now and then for a write it did not
 * announce). The child then never waits for Corral, only for that copy, however busy
 * Corral's event loop or its viewers are, and every byte is on disk before Corral has read
 * it, so a crash of Corral loses none of the run's output. Corral reads only what it needs
 * into memory (its ring and the viewers), and the run log records only where each chunk is
 * in the spool files, not the bytes again.
 *
 * Linux only, and only through a launcher that relays (the forker, see `Launcher.relaysSpool`).
 * A file does not say when its last writer is gone, as a pipe's end of file
 * does: a relayed file is complete once its relay is done (it reads its pipes to their end);
 * a file the child was given as its stdout and stderr (through the spawner, when the forker
 * stopped between a run's spool being made and its launch) once nothing left in the child's
 * process group holds it open (a grandchild writing late), which Corral asks /proc after the
 * child exits. Elsewhere, and with `CORRAL_SPOOL=0`, output goes through pipes as before.
 */

/** Whether output can be spooled here. */
export const spoolAvailable = process.platform === 'linux' && process.env.CORRAL_SPOOL !== '0'

/** The two spool files of a run. */
export interface SpoolFiles {
  stdout: string
  stderr: string
}

/** Most bytes one read of a spool file brings. */
const READ_BYTES = 256 * 1024
/** Bytes all spool files together are read per turn of the event loop. */
export const SPOOL_BYTES_PER_TURN = 1024 * 1024
/**
 * How far reading may fall behind the child before the middle is skipped: the bytes between
 * stay on disk, recorded in the run log (where a view loads them from), and reading goes on
 * near the end of the file. This is the default ring a process keeps in memory: what is
 * further behind would be dropped from memory before anyone saw it anyway.
 */
export const SPOOL_SKIP_BEHIND_BYTES = 8 * 1024 * 1024
/**
 * Most bytes per second read of one running child's spool file, after a burst of
 * {@link SPOOL_READ_BURST_BYTES}: a child that floods faster is followed by skipping (see
 * {@link SPOOL_SKIP_BEHIND_BYTES}), so a flood costs Corral's event loop a bounded share of a
 * core however fast the child writes, and the child a core of its own. More than a view
 * takes in (its window is 256 KiB per acknowledgement, applied 4 ms per frame). At 64 MiB/s,
 * following a `yes` flood took enough of a 2-core machine to triple the echo latency of
 * another process (B2 in `npm run bench`: p99 29–32 ms, against 8–9 ms at 16 MiB/s).
 */
export const SPOOL_READ_BYTES_PER_SECOND = 16 * 1024 * 1024
/** Bytes a child's spool file can be read at once before the rate applies: a burst is read whole. */
export const SPOOL_READ_BURST_BYTES = 8 * 1024 * 1024
/**
 * Most bytes per second read of all the running children that no viewer shows, together,
 * after a burst of {@link SPOOL_BACKGROUND_BURST_BYTES}. The rate above is per child, so
 * with it alone what Corral reads grows with the number of floods: of 50 children writing
 * 10 MB each at once, 125–134 MB were read (70–84 MB with this rate too), on an event loop
 * that needs the CPU least when the machine is busiest (see docs/benchmarks.md). What a view
 * shows is read at its own rate, whatever else floods.
 */
export const SPOOL_BACKGROUND_BYTES_PER_SECOND = 32 * 1024 * 1024
export const SPOOL_BACKGROUND_BURST_BYTES = 16 * 1024 * 1024

/** After a skip, how much of the newest output is read (and shown). */
const SPOOL_READ_AFTER_SKIP_BYTES = 2 * 1024 * 1024
/**
 * {@link SPOOL_SKIP_BEHIND_BYTES} and {@link SPOOL_READ_AFTER_SKIP_BYTES} for a child no
 * viewer shows, while the children no viewer shows are read at more than half their shared
 * burst (many flood at once). Each then keeps less than its 8 MiB in memory (see
 * OUTPUT_RETAIN_TOTAL_BYTES: 50 of them, about 1.3 MiB each), so reading more of its tail
 * only copies bytes in to drop them again; a view that comes to it later shows this much at
 * once, and loads the rest from disk. (Not for one child alone: its view may not have said it
 * shows it yet when its first output is read.)
 */
const SPOOL_BACKGROUND_SKIP_BEHIND_BYTES = 1024 * 1024
const SPOOL_BACKGROUND_READ_AFTER_SKIP_BYTES = 512 * 1024
/** Largest record a skipped stretch is cut into (a view loads skipped output by records). */
const SKIP_RECORD_BYTES = 1024 * 1024

/**
 * How often the spool files that wait for inotify are looked at anyway, for a write it never
 * announced. The kernel queues a bounded number of inotify events (16,384 by default,
 * `/proc/sys/fs/inotify/max_queued_events`) and drops the rest: floods starting while the
 * event loop stalls fill the queue, and a quiet child's echo written then would otherwise
 * wait, unread, until the child writes again (in B5 a line typed into `cat` waited 17
 * minutes). One `fstat` per file and look, and only while some file waits.
 */
export const SPOOL_SWEEP_MS = 250

/** After the child exited, how soon to look again whether its group still holds the file. */
const HOLDER_POLL_FIRST_MS = 20
const HOLDER_POLL_MAX_MS = 1000

/**
 * Reads every spool file that has new bytes, in turns of the event loop: each turn reads at
 * most {@link SPOOL_BYTES_PER_TURN} in all, round-robin, so one turn's work (numbering,
 * keeping and sending what was read) stays bounded however many processes flood at once, and
 * the rest waits in the files, not in memory.
 */
class SpoolReader {
  private readonly ready = new Set<SpoolTail>()
  private scheduled: NodeJS.Immediate | null = null

  /**
   * `tail` may have bytes to read. Tails are read in the order they were woken, by their
   * latest wake with `news` (inotify said the file changed): a run's stdout and stderr in
   * the order they were written, even if a look at their end woke them both before.
   */
  wake(tail: SpoolTail, news: boolean): void {
    if (news) this.ready.delete(tail)
    this.ready.add(tail)
    this.scheduled ??= setImmediate(() => this.turn())
  }

  /** `tail` is paused or done: no reading until woken again. */
  sleep(tail: SpoolTail): void {
    this.ready.delete(tail)
  }

  private turn(): void {
    this.scheduled = null
    let budget = SPOOL_BYTES_PER_TURN
    for (const tail of [...this.ready]) {
      if (budget <= 0) break
      // Taken out and, if it filled its read, put back at the end: round-robin across turns.
      this.ready.delete(tail)
      const want = Math.min(READ_BYTES, budget)
      const got = tail.readSome(want)
      budget -= got
      if (got === want) this.ready.add(tail)
    }
    if (this.ready.size > 0) this.scheduled = setImmediate(() => this.turn())
  }
}

const reader = new SpoolReader()

/** Changes seen to spool files before they were read from, numbered in the order they came. */
let changesBeforeStart = 0

/**
 * The tails that wait for inotify to say that their file changed, looked at every
 * {@link SPOOL_SWEEP_MS} for a change it did not announce.
 */
class LostWakeUpSweep {
  private readonly waiting = new Set<SpoolTail>()
  private timer: NodeJS.Timeout | null = null

  add(tail: SpoolTail): void {
    this.waiting.add(tail)
    if (this.timer) return
    this.timer = setInterval(() => {
      for (const waiting of this.waiting) waiting.lookForUnannounced()
    }, SPOOL_SWEEP_MS)
    this.timer.unref()
  }

  delete(tail: SpoolTail): void {
    this.waiting.delete(tail)
    if (this.waiting.size > 0 || !this.timer) return
    clearInterval(this.timer)
    this.timer = null
  }
}

const sweep = new LostWakeUpSweep()

/** Bytes that may be read now: `perSecond`, up to `burst` at once (a token bucket). */
class ReadRate {
  private tokens: number
  private countedAt = performance.now()

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst
  }

  /** Bytes that may be read now. */
  available(now: number): number {
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.countedAt) / 1000) * this.perSecond,
    )
    this.countedAt = now
    return this.tokens
  }

  /** `n` bytes were read; reads that did not wait may leave a debt, of at most a burst. */
  take(n: number): void {
    this.tokens = Math.max(-this.burst, this.tokens - n)
  }

  /** Milliseconds until `want` bytes may be read. */
  msUntil(want: number): number {
    return Math.max(0, ((want - this.tokens) / this.perSecond) * 1000)
  }
}

/** The shared rate of the children no viewer shows (see {@link SPOOL_BACKGROUND_BYTES_PER_SECOND}). */
const backgroundRate = new ReadRate(SPOOL_BACKGROUND_BYTES_PER_SECOND, SPOOL_BACKGROUND_BURST_BYTES)

/**
 * Tails waiting for the background's shared rate, first come first served: one timer wakes
 * as many as the bytes accrued allow, rather than each tail waking on a timer of its own to
 * find the bytes taken (50 of them, every 8 ms).
 */
class BackgroundQueue {
  private readonly waiting = new Set<{ wakeUp(): void }>()
  private timer: NodeJS.Timeout | null = null

  wait(tail: { wakeUp(): void }): void {
    this.waiting.add(tail)
    this.schedule()
  }

  /** Take `tail` out of the queue; returns whether it was in it. */
  leave(tail: { wakeUp(): void }): boolean {
    return this.waiting.delete(tail)
  }

  private schedule(): void {
    if (this.timer || this.waiting.size === 0) return
    const ms = backgroundRate.msUntil(READ_BYTES)
    this.timer = setTimeout(() => this.release(), Math.max(1, Math.ceil(ms)))
    this.timer.unref()
  }

  private release(): void {
    this.timer = null
    let reads = Math.max(1, Math.floor(backgroundRate.available(performance.now()) / READ_BYTES))
    for (const tail of this.waiting) {
      if (reads-- <= 0) break
      this.waiting.delete(tail)
      tail.wakeUp()
    }
    this.schedule()
  }
}

const backgroundQueue = new BackgroundQueue()
/** Room for a few bytes looked at before a skip. */
const peek = Buffer.alloc(4)

/**
 * One spool file followed as it grows. Emits what `child.stdout` would: 'data' with pieces of
 * {@link readStaging} (released by whoever consumes them), then 'end' and 'close' once the
 * child has exited and nothing in its group holds the file open any more; and 'skip' (see
 * {@link skipIfFarBehind}) when it fell far behind. Pauses and resumes like a stream.
 */
export class SpoolTail extends EventEmitter {
  private fd: number | null
  /** Watching the file for changes: only while caught up with it (see {@link watch}). */
  private watcher: fs.FSWatcher | null = null
  /** The file's device and inode, looked up when first needed (see {@link caughtUp}). */
  private identity: Promise<fs.Stats> | null = null
  private pos = 0
  private paused = false
  /** Reading starts once whoever launched the child listens (see {@link start}). */
  private started = false
  /** Where this file's first change before {@link start} came among all files' (see there). */
  private firstChange: number | null = null
  /** The next read may take what it finds: false when it only looks at the end (see lookAtEnd). */
  private readNew = false
  /** The child's group once the child has exited: from then on, end when no one writes. */
  private exitedGroup: number | null = null
  private checking = false
  private holderPoll: NodeJS.Timeout | null = null
  private holderDelay = HOLDER_POLL_FIRST_MS
  /** The holder check found no one: read to the end of the file once more, then end. */
  private lastRead = false
  /** This child's own rate (see {@link SPOOL_READ_BYTES_PER_SECOND}). */
  private readonly rate = new ReadRate(SPOOL_READ_BYTES_PER_SECOND, SPOOL_READ_BURST_BYTES)
  private rateWait: NodeJS.Timeout | null = null
  /** A viewer shows this child's output: not held to the background's shared rate. */
  private isShown = false
  /** Looking at the file on a timer, when it cannot be watched. */
  private poll: NodeJS.Timeout | null = null
  /**
   * The relay that appends the child's output to this file (see forker.ts), when the child
   * writes into a pipe to one rather than into the file: its pid, and whether it has put
   * everything in the file and exited.
   */
  private relay: { pid: number; done: boolean } | null = null
  closed = false

  /**
   * Create `file` (it must not exist) and follow it. Made on the thread pool: creating a file
   * can wait for the file system's journal, which under heavy writing takes hundreds of ms.
   */
  static async create(file: string): Promise<SpoolTail> {
    const { O_RDONLY, O_CREAT, O_EXCL } = fs.constants
    const fd = await promisify(fs.open)(file, O_RDONLY | O_CREAT | O_EXCL, 0o600)
    return new SpoolTail(file, fd)
  }

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    super()
    this.fd = fd
    this.watch()
  }

  /**
   * Be woken when the file changes. Only while caught up with it: a flooding child makes an
   * inotify event per write (50 of them writing 4 KiB blocks: over 100,000 events, handled in
   * one long turn of the loop), and while its reads come back full it is read anyway.
   */
  private watch(): boolean {
    if (this.watcher || this.closed) return false
    try {
      this.watcher = fs.watch(this.file, { persistent: false }, () => this.changed())
      // The watch can fail later (the file removed): then look at the file on a timer.
      this.watcher.on('error', () => this.pollInstead())
      sweep.add(this)
    } catch {
      this.pollInstead()
    }
    return true
  }

  private unwatch(): void {
    this.watcher?.close()
    this.watcher = null
    sweep.delete(this)
  }

  /** Read on if the file grew beyond what was read, announced or not (see SPOOL_SWEEP_MS). */
  lookForUnannounced(): void {
    if (this.fd === null || this.paused || !this.started) return
    try {
      if (fs.fstatSync(this.fd).size > this.pos) this.wakeUp()
    } catch {
      // Reading it will say what is wrong.
      this.wakeUp()
    }
  }

  private pollInstead(): void {
    this.poll ??= setInterval(() => this.wakeUp(), 20)
  }

  pause(): this {
    this.paused = true
    reader.sleep(this)
    return this
  }

  resume(): this {
    if (!this.paused) return this
    this.paused = false
    this.wakeUp()
    return this
  }

  /** The child has exited; `pgid` is its process group, which may still write. */
  finish(pgid: number): void {
    if (this.closed || this.exitedGroup !== null) return
    this.exitedGroup = pgid
    this.lookAtEnd()
  }

  /**
   * The child writes into a pipe whose relay appends to this file (see forker.ts): the file
   * is complete when the relay is done, whoever in or out of the child's group still runs.
   */
  relayed(pid: number): void {
    this.relay ??= { pid, done: false }
  }

  /** The relay has put all of the child's output in the file and exited. */
  relayEnded(): void {
    if (!this.relay || this.relay.done) return
    this.relay.done = true
    this.lookAtEnd()
  }

  /** Whether anything may still write to the file (so reading stays within the rates). */
  private get writing(): boolean {
    return this.exitedGroup === null && !this.relay?.done
  }

  /** Stop following without ending (the launch failed); removes the file. */
  discard(): void {
    this.shut()
    fs.rm(this.file, { force: true }, () => {})
  }

  /** inotify says the file changed. */
  private changed(): void {
    if (!this.started) this.firstChange ??= ++changesBeforeStart
    this.wakeUp()
  }

  /**
   * Look again whether the file has ended (the child exited, its relay is done, its group
   * let go of it). Bytes this look finds that no inotify event announced yet are left to that
   * event, which comes in order with the other file's: read here, a quick child's two files
   * would be read in a fixed order, stdout's first, whichever it wrote first (see
   * {@link readSome}). The end shows once they are read.
   */
  private lookAtEnd(): void {
    this.look(false)
  }

  /** Look for new bytes and read them (in a later turn of the reader). */
  wakeUp(): void {
    this.readNew = true
    this.look(true)
  }

  private look(news: boolean): void {
    if (this.started && !this.closed && !this.paused) reader.wake(this, news)
  }

  /**
   * Begin reading a run's tails (the launch has resolved): reads come in later turns of the
   * loop, so the listeners attached when the launch resolves see every byte. A quick child
   * has often written to both files before this: they are read first in the order they
   * changed (its relay kept the order of its writes, see forker.ts), so that `printf a >&2;
   * printf b` shows a before b. A watched file that has not changed yet is read when inotify
   * says it did, in order with the others.
   */
  static start(tails: SpoolTail[]): void {
    const order = (t: SpoolTail): number => t.firstChange ?? Infinity
    for (const tail of [...tails].sort((a, b) => order(a) - order(b))) {
      tail.started = true
      if (tail.firstChange !== null || !tail.watcher) tail.wakeUp()
    }
  }

  /**
   * Read up to `want` bytes at the end of what was read; called by the reader. Returns how
   * many came. A read that reached the end of the file waits for it to change, or ends the
   * tail once the child is gone and no one holds the file.
   */
  readSome(want: number): number {
    if (this.fd === null || this.paused) return 0
    // A look at the end of a watched file: what it finds waits for its inotify event.
    const endOnly = !this.readNew && this.watcher !== null
    this.readNew = false
    // While the child runs, read within the rates; once it has exited, read to the end.
    if (this.writing) {
      const now = performance.now()
      if (this.rate.available(now) < want) {
        this.waitFor(this.rate.msUntil(want))
        return 0
      }
      if (!this.isShown && backgroundRate.available(now) < want) {
        backgroundQueue.wait(this)
        return 0
      }
    }
    let n: number
    try {
      if (!endOnly) this.skipIfFarBehind(this.fd)
    } catch {
      this.end()
      return 0
    }
    const piece = readStaging.alloc(want)
    try {
      n = fs.readSync(this.fd, piece, 0, want, this.pos)
    } catch {
      readStaging.release(piece)
      // The file cannot be read (it should not happen: Corral made it): end what was read.
      this.end()
      return 0
    }
    if (endOnly && n > 0) {
      // Not the end yet: read again when inotify announces these bytes (or, should the kernel
      // drop its event, when the sweep finds them; see SPOOL_SWEEP_MS).
      readStaging.release(piece)
      return 0
    }
    if (n > 0) {
      this.rate.take(n)
      if (!this.isShown) backgroundRate.take(n)
      this.pos += n
      this.emit('data', readStaging.trim(piece, n))
    } else readStaging.release(piece)
    if (n === want) {
      // More is likely there: read on (see SpoolReader) rather than be woken per write.
      this.unwatch()
    } else if (this.watch()) {
      // Caught up, and watching again: what was written before the watch began is read now.
      this.wakeUp()
    } else {
      // Less than asked for: the end of what was written so far.
      this.caughtUp()
    }
    return n
  }

  /**
   * When the child has written more than {@link SPOOL_SKIP_BEHIND_BYTES} beyond what was read
   * ({@link SPOOL_BACKGROUND_SKIP_BEHIND_BYTES} if no viewer shows it and many flood),
   * skip to near the end: emit 'skip' with the sizes of the stretch skipped (records of at
   * most {@link SKIP_RECORD_BYTES}, cut at UTF-8 character boundaries, so each loads and
   * decodes on its own), which stays in the file.
   */
  private skipIfFarBehind(fd: number): void {
    const size = fs.fstatSync(fd).size
    const crowded =
      !this.isShown &&
      backgroundRate.available(performance.now()) < SPOOL_BACKGROUND_BURST_BYTES / 2
    const [behind, after] = crowded
      ? [SPOOL_BACKGROUND_SKIP_BEHIND_BYTES, SPOOL_BACKGROUND_READ_AFTER_SKIP_BYTES]
      : [SPOOL_SKIP_BEHIND_BYTES, SPOOL_READ_AFTER_SKIP_BYTES]
    if (size - this.pos <= behind) return
    const target = size - after
    // Finish a character that the last read cut, so the skip starts on a boundary.
    const lead = this.continuationBytesAt(fd, this.pos)
    if (lead > 0) {
      const piece = readStaging.alloc(lead)
      const n = fs.readSync(fd, piece, 0, lead, this.pos)
      this.pos += n
      this.emit('data', readStaging.trim(piece, n))
    }
    const sizes: number[] = []
    let from = this.pos
    while (from < target) {
      let end = Math.min(from + SKIP_RECORD_BYTES, target)
      end += this.continuationBytesAt(fd, end)
      sizes.push(end - from)
      from = end
    }
    this.pos = from
    this.emit('skip', sizes)
  }

  /** How many UTF-8 continuation bytes (of a character begun earlier) start at `at`. */
  private continuationBytesAt(fd: number, at: number): number {
    return leadingContinuationBytes(peek, fs.readSync(fd, peek, 0, 3, at))
  }

  /**
   * Whether a viewer shows this child's output: then it is read at its own rate only, not the
   * background's shared one.
   */
  set shown(shown: boolean) {
    if (shown === this.isShown) return
    this.isShown = shown
    if (shown && backgroundQueue.leave(this)) this.wakeUp()
  }

  get shown(): boolean {
    return this.isShown
  }

  /** Come back in `ms` milliseconds, when the bytes wanted may be read. */
  private waitFor(ms: number): void {
    if (this.rateWait) return
    this.rateWait = setTimeout(
      () => {
        this.rateWait = null
        this.wakeUp()
      },
      Math.max(1, Math.ceil(ms)),
    )
  }

  /** Everything written so far is read. */
  private caughtUp(): void {
    if (this.writing) return
    if (this.lastRead) {
      this.end()
      return
    }
    if (this.relay) {
      // Everything is in the file once the relay is done; it says so through the forker,
      // and should the forker be gone, its end shows here.
      if (this.relay.done || !processExists(this.relay.pid)) {
        this.lastRead = true
        this.lookAtEnd()
      } else this.lookAgainLater()
      return
    }
    const group = this.exitedGroup
    if (this.checking || group === null) return
    this.checking = true
    // By its path, not the descriptor, which may be closed meanwhile; a file that is gone
    // (its process removed) is held by no one.
    this.identity ??= fs.promises.stat(this.file)
    void this.identity
      .then((st) => groupHoldsFile(group, st.dev, st.ino))
      .catch(() => false)
      .then((held) => {
        this.checking = false
        if (this.closed) return
        if (!held) {
          this.lastRead = true
          this.lookAtEnd()
          return
        }
        // Someone in the group can still write: look again later (writes wake it meanwhile).
        this.lookAgainLater()
      })
  }

  /** Look again whether anyone can still write, after a delay that grows each time. */
  private lookAgainLater(): void {
    if (this.holderPoll) return
    this.holderPoll = setTimeout(() => {
      this.holderPoll = null
      this.lookAtEnd()
    }, this.holderDelay)
    this.holderDelay = Math.min(this.holderDelay * 2, HOLDER_POLL_MAX_MS)
  }

  private end(): void {
    if (this.closed) return
    this.shut()
    this.emit('end')
    this.emit('close')
  }

  private shut(): void {
    this.closed = true
    reader.sleep(this)
    this.unwatch()
    if (this.poll) clearInterval(this.poll)
    if (this.holderPoll) clearTimeout(this.holderPoll)
    if (this.rateWait) clearTimeout(this.rateWait)
    backgroundQueue.leave(this)
    if (this.fd !== null) fs.close(this.fd, () => {})
    this.fd = null
  }
}

/** The spool tails of one run. */
export interface Spool {
  stdout: SpoolTail
  stderr: SpoolTail
}

/** The paths of a spool's files. */
export function spoolFiles(spool: Spool): SpoolFiles {
  return { stdout: spool.stdout.file, stderr: spool.stderr.file }
}

/** Create and follow a run's spool files; throws (and leaves nothing) when it cannot. */
export async function openSpool(files: SpoolFiles): Promise<Spool> {
  const [stdout, stderr] = await Promise.allSettled([
    SpoolTail.create(files.stdout),
    SpoolTail.create(files.stderr),
  ])
  if (stdout.status === 'fulfilled' && stderr.status === 'fulfilled') {
    return { stdout: stdout.value, stderr: stderr.value }
  }
  for (const made of [stdout, stderr]) if (made.status === 'fulfilled') made.value.discard()
  throw stdout.status === 'rejected' ? stdout.reason : (stderr as PromiseRejectedResult).reason
}

/** Open the spool files for the child's writing (appending): stdout's fd, then stderr's. */
export function openForChild(files: SpoolFiles): [number, number] {
  const out = fs.openSync(files.stdout, 'a')
  try {
    return [out, fs.openSync(files.stderr, 'a')]
  } catch (err) {
    fs.closeSync(out)
    throw err
  }
}

/** Checks in flight, per group: the two tails of a run ask at the same moment. */
const holderChecks = new Map<number, Promise<Set<string>>>()

/**
 * Whether a process in group `pgid` has the file (`dev`, `ino`) open, from /proc: what a
 * pipe's reader learns from the end of file. A group that is gone holds nothing.
 */
async function groupHoldsFile(pgid: number, dev: number, ino: number): Promise<boolean> {
  if (!groupAlive(pgid)) return false
  let check = holderChecks.get(pgid)
  if (!check) {
    check = filesHeldByGroup(pgid).finally(() => holderChecks.delete(pgid))
    holderChecks.set(pgid, check)
  }
  return (await check).has(`${dev}:${ino}`)
}

/** `dev:ino` of every file that a live process in group `pgid` has open. */
async function filesHeldByGroup(pgid: number): Promise<Set<string>> {
  const held = new Set<string>()
  for (const pid of groupMembers(pgid)) {
    let fds: string[]
    try {
      fds = await fs.promises.readdir(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        const st = await fs.promises.stat(`/proc/${pid}/fd/${fd}`)
        held.add(`${st.dev}:${st.ino}`)
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return held
}
