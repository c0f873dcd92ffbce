import {
  isOwnStream,
  type OutputChunk,
  type OutputSnapshot,
  type OutputStream,
  type ProcessId,
} from '../../shared/contract'
import type { RetentionBudget, SharedRingReader } from './shared-ring'
import type { Staging } from './staging'
import { byteChunk, byteLength, bytesOf, rebindChunkBytes, sharedChunk, utf8Tail } from './utf8'

/**
 * Default bound on retained output per process: bytes of program output plus characters of
 * Corral's own lines (8 MiB).
 */
export const OUTPUT_BUFFER_CHARS = 8 * 1024 * 1024

/**
 * Largest single chunk the batcher builds before starting a new one: the unit a flow-
 * controlled client is sent or skipped in.
 */
export const MAX_CHUNK_CHARS = 256 * 1024

/** Where the bytes of output that was skipped unread are: not in memory. */
const NOT_KEPT = { read: () => null, copyInto: () => false, held: () => false }

/** Smallest ring a process's retained bytes start in; it doubles as needed up to the bound. */
const RING_MIN_BYTES = 64 * 1024

/**
 * Default bound on retained output over all processes together: with many busy processes,
 * each keeps less (at least its first 64 KiB ring), so the host's memory stays bounded
 * however many there are. Older output stays in the run logs on disk.
 */
export const OUTPUT_RETAIN_TOTAL_BYTES = 64 * 1024 * 1024

/**
 * One retained chunk: its bytes live in the ring (`at`), or in the output worker's shared
 * ring (`shared`), Corral's own text in `text`.
 */
interface Entry {
  seq: number
  stream: OutputStream
  time: number
  size: number
  /** Position of the bytes in the ring's running offsets; -1 for text. */
  at: number
  text: string | null
  shared: boolean
}

/**
 * The bounded, sequence-numbered output history of one process. Program output is copied
 * into one ring of bytes instead of keeping the buffers it was read in: those then die
 * young, and a flood of gigabytes leaves no old-generation garbage behind (which the garbage
 * collector would only reclaim once tens of megabytes had piled up). When the total exceeds
 * the bound, the oldest chunks are dropped and counted, so a renderer can say how much is
 * missing instead of silently showing a gap.
 */
export class OutputBuffer {
  private entries: Entry[] = []
  /** Index of the oldest live entry; dropping advances it instead of shifting. */
  private head = 0
  private total = 0
  private dropped = 0
  private nextSeq = 0
  private readonly ring: ByteRing
  /** The output worker's ring of this process, once a run used it. */
  private shared: SharedRingReader | null = null

  constructor(
    readonly id: ProcessId,
    private readonly maxChars: number = OUTPUT_BUFFER_CHARS,
    budget: RetentionBudget | null = null,
  ) {
    this.ring = new ByteRing(maxChars, budget)
  }

  /** Give the ring's memory back to the shared budget (the process is gone). */
  dispose(): void {
    this.ring.dispose()
  }

  /**
   * Number a new chunk of text and retain it; returns the numbered chunk. `seq`: the number
   * the output worker gave it (see {@link adopt}).
   */
  push(stream: OutputStream, data: string, time: number, seq = this.nextSeq): OutputChunk {
    // A single chunk larger than the whole buffer keeps only its tail.
    const text = data.length > this.maxChars ? data.slice(data.length - this.maxChars) : data
    this.dropped += data.length - text.length
    this.nextSeq = seq + 1
    this.makeRoom(text.length)
    this.add({ seq, stream, time, size: text.length, at: -1, text, shared: false })
    return { seq, stream, data: text, time }
  }

  /**
   * Retain a chunk the output worker numbered, whose `size` bytes are at running offset `at`
   * of `ring` (the process's shared ring); returns the chunk, which reads them from there.
   */
  adopt(
    ring: SharedRingReader,
    seq: number,
    stream: OutputStream,
    time: number,
    at: number,
    size: number,
  ): OutputChunk {
    this.shared = ring
    this.nextSeq = seq + 1
    this.makeRoom(size)
    this.add({ seq, stream, time, size, at, text: null, shared: true })
    return sharedChunk(seq, stream, time, size, {
      read: () => ring.read(at, size),
      copyInto: (target, offset) => ring.readInto(at, size, target, offset),
      held: () => ring.holds(at),
    })
  }

  /**
   * Number a stretch of `size` bytes of program output that was never read (see spool.ts:
   * it is on disk, in the run log): returns its chunk, whose bytes are not kept. Everything
   * retained before it is dropped too, so what is retained stays one unbroken stretch.
   */
  skip(stream: OutputStream, time: number, size: number): OutputChunk {
    while (this.head < this.entries.length) this.dropOldest()
    this.entries = []
    this.head = 0
    this.dropped += size
    return sharedChunk(this.nextSeq++, stream, time, size, NOT_KEPT)
  }

  /** Numbering comes back from the output worker: the next chunk gets `seq` (or later). */
  resume(seq: number): void {
    this.nextSeq = Math.max(this.nextSeq, seq)
  }

  /**
   * Number a chunk of program output (bytes ending on character boundaries) and retain a
   * copy of its bytes; returns the chunk, which still refers to the buffers it was read in.
   */
  pushBytes(stream: OutputStream, time: number, parts: readonly Buffer[]): OutputChunk {
    const chunk = byteChunk(this.nextSeq++, stream, time, parts)
    let bytes = bytesOf(chunk)
    let size = byteLength(bytes)
    // Room for the chunk beside what is kept, as far as the bound and the budget allow.
    const room = Math.min(this.maxChars, this.ring.reserve(size))
    if (size > room) {
      // Larger than all the room there is: keep the tail, from a character boundary on. Views
      // of the pieces, not a copy: with many busy processes sharing the retention budget, most
      // rings are this small, and copying every chunk made garbage at the rate of the output.
      bytes = utf8Tail(bytes, room)
      const kept = byteLength(bytes)
      this.dropped += size - kept
      size = kept
    }
    this.makeRoom(size, size)
    this.add({
      seq: chunk.seq,
      stream,
      time,
      size,
      at: this.ring.append(bytes),
      text: null,
      shared: false,
    })
    return chunk
  }

  /**
   * The pieces `chunk` (made by {@link pushBytes}) was read in are about to be reused: from now
   * on it reads its bytes back from the ring while the ring holds all of them. (A chunk larger
   * than what the ring could keep of it is already as good as dropped: its text was sent and
   * logged, and asking for it later says that it is no longer kept.)
   */
  detach(chunk: OutputChunk): void {
    const seq = chunk.seq
    const whole = this.entryOf(seq)?.size === byteLength(bytesOf(chunk))
    rebindChunkBytes(chunk, () => {
      const e = whole ? this.entryOf(seq) : null
      return e && e.at >= 0 && !e.shared && this.ring.capacity > 0
        ? this.ring.read(e.at, e.size)
        : null
    })
  }

  /** The retained entry with sequence number `seq`, if it is still kept. */
  private entryOf(seq: number): Entry | null {
    if (this.head >= this.entries.length) return null
    const i = this.head + (seq - this.entries[this.head].seq)
    if (!Number.isInteger(i) || i < this.head || i >= this.entries.length) return null
    const entry = this.entries[i]
    return entry.seq === seq ? entry : null
  }

  /**
   * Drop the oldest entries until `size` more fits within the bound and `ringBytes` more
   * within the ring's capacity, and those the output worker's ring no longer holds.
   */
  private makeRoom(size: number, ringBytes = 0): void {
    const validFrom = this.shared?.validFrom ?? 0
    while (this.head < this.entries.length) {
      const old = this.entries[this.head]
      if (
        this.total + size <= this.maxChars &&
        this.ring.live + ringBytes <= this.ring.capacity &&
        !(old.shared && old.at < validFrom)
      )
        break
      this.dropOldest()
    }
    // Compact once the dead prefix dominates, keeping push amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
  }

  /** Drop the oldest retained entry, counting it as dropped. */
  private dropOldest(): void {
    const old = this.entries[this.head++]
    this.total -= old.size
    this.dropped += old.size
    if (old.at >= 0 && !old.shared) this.ring.release(old.at + old.size)
  }

  private add(entry: Entry): void {
    this.entries.push(entry)
    this.total += entry.size
  }

  /** Sequence number the next chunk will get. */
  get seq(): number {
    return this.nextSeq
  }

  /** Retained size (bytes of program output plus characters of Corral's own lines). */
  get size(): number {
    return this.total
  }

  /**
   * Retained chunks with `seq > afterSeq` (all when omitted); with `maxSize`, only the newest
   * of them whose sizes fit (at least one), and what is left out counts as dropped.
   */
  snapshot(afterSeq = -1, maxSize = Infinity): OutputSnapshot {
    const { entries } = this
    const live = entries.length - this.head
    const oldestSeq = live > 0 ? entries[this.head].seq : this.nextSeq
    // Sequence numbers are dense, so the start index is computed, not searched.
    let from = this.head + Math.max(0, afterSeq + 1 - oldestSeq)
    let firstSeq = oldestSeq
    let dropped = this.dropped
    if (maxSize !== Infinity && from < entries.length) {
      const first = newestWithin(from, entries.length, maxSize, (i) => entries[i])
      if (first > from) {
        // Output was left out: everything before the first returned chunk counts as dropped.
        for (let i = this.head; i < first; i++) dropped += entries[i].size
        firstSeq = entries[first].seq
        from = first
      }
    }
    const chunks: OutputChunk[] = []
    for (let i = from; i < entries.length; i++) {
      const e = entries[i]
      if (e.text !== null) {
        chunks.push({ seq: e.seq, stream: e.stream, data: e.text, time: e.time })
        continue
      }
      // A copy: the ring is overwritten as output goes on.
      const bytes = e.shared ? this.shared!.read(e.at, e.size) : this.ring.read(e.at, e.size)
      if (bytes) chunks.push(byteChunk(e.seq, e.stream, e.time, [bytes]))
      else {
        // The output worker reused its memory meanwhile: dropped, as if it had been earlier.
        dropped += e.size
        if (chunks.length === 0) firstSeq = e.seq + 1
      }
    }
    return { id: this.id, chunks, firstSeq, droppedChars: dropped }
  }
}

/**
 * Where the newest of the items `from` to `to` (exclusive) that fit in `max` begin, by the
 * size and stream `at` gives for each: always at least the newest one, and while all taken
 * are Corral's own lines, also the program's output before them that keeps the whole within
 * twice `max`. A tail of a flood's output that ends in Corral's exit line must not be that
 * line alone (spooled chunks are 256 KiB, as big as a view's catch-up), or the view shows an
 * "output not shown" marker above the exit line instead of the last lines the program wrote;
 * the bound keeps small tails (of processes not on screen) small.
 */
export function newestWithin(
  from: number,
  to: number,
  max: number,
  at: (i: number) => { size: number; stream: OutputStream },
): number {
  let total = 0
  let first = to
  let programOutput = false
  while (first > from) {
    const { size, stream } = at(first - 1)
    const room = programOutput ? max : 2 * max
    if (first < to && total + size > room) break
    total += size
    programOutput ||= !isOwnStream(stream)
    first--
  }
  return first
}

/**
 * Bytes in a ring addressed by running offsets (they only grow); the ring starts small and
 * doubles up to `max` as the live span needs. The caller releases the oldest bytes before
 * appending beyond `max`.
 */
class ByteRing {
  private buf = Buffer.alloc(0)
  /** Running offset of the oldest live byte, and one past the newest. */
  private start = 0
  private end = 0

  constructor(
    private readonly max: number,
    private readonly budget: RetentionBudget | null,
  ) {}

  /** Bytes held. */
  get live(): number {
    return this.end - this.start
  }

  /** Bytes the ring can hold without growing. */
  get capacity(): number {
    return this.buf.length
  }

  /**
   * Grow, if the bound and the budget allow, so that `size` more bytes fit beside what is
   * held; returns the capacity then (the caller releases old bytes if it is still short).
   */
  reserve(size: number): number {
    if (this.live + size > this.buf.length) this.grow(this.live + size)
    return this.buf.length
  }

  /** Give the memory back to the budget. */
  dispose(): void {
    this.budget?.give(this.buf.length)
    this.buf = Buffer.alloc(0)
    this.start = this.end = 0
  }

  /** Copy `parts` in (the caller made room); returns the running offset of their first byte. */
  append(parts: readonly Buffer[]): number {
    const at = this.end
    for (const part of parts) {
      this.writeAt(this.end, part)
      this.end += part.length
    }
    return at
  }

  /** Bytes before the running offset `upTo` are no longer needed. */
  release(upTo: number): void {
    this.start = Math.min(Math.max(this.start, upTo), this.end)
  }

  /** A copy of `size` bytes from running offset `at`. */
  read(at: number, size: number): Buffer {
    const out = Buffer.allocUnsafe(size)
    const cap = this.buf.length
    let pos = at % cap
    for (let done = 0; done < size;) {
      const n = Math.min(size - done, cap - pos)
      this.buf.copy(out, done, pos, pos + n)
      done += n
      pos = 0
    }
    return out
  }

  private writeAt(at: number, src: Buffer): void {
    const cap = this.buf.length
    let pos = at % cap
    for (let done = 0; done < src.length;) {
      const n = Math.min(src.length - done, cap - pos)
      src.copy(this.buf, pos, done, done + n)
      done += n
      pos = 0
    }
  }

  private grow(need: number): void {
    let cap = Math.max(RING_MIN_BYTES, this.buf.length)
    while (cap < need) cap *= 2
    cap = Math.min(cap, Math.max(this.max, RING_MIN_BYTES))
    if (this.budget) {
      const want = cap - this.buf.length
      let granted = this.budget.take(want)
      const first = Math.min(want, RING_MIN_BYTES)
      if (this.buf.length === 0 && granted < first) {
        // Every process keeps at least its first ring, even past the budget.
        this.budget.force(first - granted)
        granted = first
      }
      cap = this.buf.length + granted
    }
    if (cap <= this.buf.length) return
    const old = this.buf
    // Not zero-filled: every byte is written before it is read.
    this.buf = Buffer.allocUnsafeSlow(cap)
    // The live bytes move straight across, in the (at most two) pieces they sit in in the
    // old ring: views of it, not a copy first (a flood's ring grows to 8 MiB in its first
    // tenth of a second).
    for (let at = this.start; at < this.end;) {
      const pos = at % old.length
      const n = Math.min(this.end - at, old.length - pos)
      this.writeAt(at, old.subarray(pos, pos + n))
      at += n
    }
  }
}

/**
 * Collects output as it arrives and hands it on in batches. Adjacent pieces of the same
 * stream merge into one chunk; the batch is flushed on the next turn of the event loop
 * (`setImmediate`), so sparse output goes out at once and a flood goes out in few, large
 * messages. Program output arrives as bytes cut at character boundaries: each chunk is
 * decoded once, its raw bytes go to `onRaw` with the chunk's sequence number (the run log,
 * which also gets Corral's own lines, as UTF-8), and its UTF-8 is remembered for transports
 * that send bytes.
 */
export class OutputBatcher {
  private pending: Pending[] = []
  private scheduled: NodeJS.Immediate | null = null

  constructor(
    private readonly buffer: OutputBuffer,
    private readonly emit: (chunks: OutputChunk[]) => void,
    private readonly now: () => number = Date.now,
    /**
     * Each chunk as read: its pieces and their length (none, if skipped); Corral's own lines
     * as their UTF-8.
     */
    private readonly onRaw?: (chunk: OutputChunk, raw: readonly Buffer[], length: number) => void,
    /** Where program output was read into: its pieces go back there once flushed. */
    private readonly staging: Staging | null = null,
  ) {}

  /** Queue text Corral itself writes (the `system` stream). */
  add(stream: OutputStream, text: string): void {
    if (text.length > 0) this.queue({ kind: 'text', stream, parts: [text], size: text.length })
  }

  /** Queue a stretch of `size` bytes of program output skipped unread (see OutputBuffer.skip). */
  addSkipped(stream: OutputStream, size: number): void {
    if (size > 0) this.pending.push({ kind: 'skipped', stream, parts: [], size, time: this.now() })
    this.schedule()
  }

  /** Queue program output: bytes that end on a character boundary. */
  addBytes(stream: OutputStream, bytes: Buffer): void {
    if (bytes.length > 0) this.queue({ kind: 'bytes', stream, parts: [bytes], size: bytes.length })
  }

  /** Merge into the last pending chunk when it is of the same stream and kind, else start one. */
  private queue(piece: Omit<Pending, 'time'>): void {
    const last = this.pending[this.pending.length - 1]
    if (
      last &&
      last.stream === piece.stream &&
      last.kind === piece.kind &&
      (piece.kind === 'text' || last.size + piece.size <= MAX_CHUNK_CHARS)
    ) {
      ;(last.parts as (string | Buffer)[]).push(piece.parts[0])
      last.size += piece.size
    } else {
      this.pending.push({ ...piece, time: this.now() } as Pending)
    }
    this.schedule()
  }

  /** Number, retain and emit everything queued. Safe to call at any time. */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled)
      this.scheduled = null
    }
    if (this.pending.length === 0) return
    const batch = this.pending
    this.pending = []
    const chunks = batch.map((p) => {
      if (p.kind === 'text') {
        const text = this.buffer.push(p.stream, p.parts.join(''), p.time)
        const bytes = Buffer.from(text.data, 'utf8')
        this.onRaw?.(text, [bytes], bytes.length)
        return text
      }
      if (p.kind === 'skipped') {
        const skipped = this.buffer.skip(p.stream, p.time, p.size)
        this.onRaw?.(skipped, [], p.size)
        return skipped
      }
      const chunk = this.buffer.pushBytes(p.stream, p.time, p.parts)
      this.onRaw?.(chunk, p.parts, p.size)
      return chunk
    })
    this.emit(chunks)
    // Everything that needed the pieces as read has copied them by now (ring, transports) or
    // holds them until it is done (the run log); whatever keeps a chunk reads its bytes back
    // from the ring from here on.
    if (!this.staging) return
    const staging = this.staging
    batch.forEach((p, i) => {
      if (p.kind !== 'bytes' || !p.parts.some((part) => staging.holds(part))) return
      this.buffer.detach(chunks[i])
      for (const part of p.parts) staging.release(part)
    })
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.flush())
  }
}

type Pending =
  | { kind: 'text'; stream: OutputStream; parts: string[]; size: number; time: number }
  | { kind: 'bytes'; stream: OutputStream; parts: Buffer[]; size: number; time: number }
  | { kind: 'skipped'; stream: OutputStream; parts: never[]; size: number; time: number }
