import type { OutputChunk, OutputSnapshot, OutputStream, ProcessId } from '../../shared/contract'
import { byteChunk } from './utf8'

/** Default bound on retained output per process, in UTF-16 code units (about 8 MiB of ASCII). */
export const OUTPUT_BUFFER_CHARS = 8 * 1024 * 1024

/** Largest single chunk the batcher builds before starting a new one. */
export const MAX_CHUNK_CHARS = 1024 * 1024

/**
 * The bounded, sequence-numbered output history of one process. Chunks are kept whole; when
 * the total exceeds the bound, the oldest chunks are dropped and counted so a renderer can
 * say how much is missing instead of silently showing a gap.
 */
export class OutputBuffer {
  private chunks: OutputChunk[] = []
  /** Index of the oldest live chunk in `chunks`; dropping advances it instead of shifting. */
  private head = 0
  private chars = 0
  private dropped = 0
  private nextSeq = 0
  /** What each chunk counts against the bound, without decoding it to measure. */
  private readonly sizes = new WeakMap<OutputChunk, number>()

  constructor(
    readonly id: ProcessId,
    private readonly maxChars: number = OUTPUT_BUFFER_CHARS,
  ) {}

  /** Number a new chunk of text and retain it; returns the numbered chunk. */
  push(stream: OutputStream, data: string, time: number): OutputChunk {
    // A single chunk larger than the whole buffer keeps only its tail.
    const text = data.length > this.maxChars ? data.slice(data.length - this.maxChars) : data
    this.dropped += data.length - text.length
    return this.retain({ seq: this.nextSeq++, stream, data: text, time }, text.length)
  }

  /**
   * Number a chunk built by `make` and retain it; `size` is what it counts against the bound
   * (bytes for program output, characters for text, which are the same for ASCII).
   */
  pushChunk(make: (seq: number) => OutputChunk, size: number): OutputChunk {
    return this.retain(make(this.nextSeq++), size)
  }

  private retain(chunk: OutputChunk, size: number): OutputChunk {
    this.sizes.set(chunk, size)
    this.chunks.push(chunk)
    this.chars += size
    while (this.chars > this.maxChars && this.head < this.chunks.length - 1) {
      const size = this.sizeOf(this.chunks[this.head++])
      this.chars -= size
      this.dropped += size
    }
    // Compact once the dead prefix dominates, keeping push amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head)
      this.head = 0
    }
    return chunk
  }

  /** Sequence number the next chunk will get. */
  get seq(): number {
    return this.nextSeq
  }

  /** Retained characters. */
  get size(): number {
    return this.chars
  }

  /**
   * Retained chunks with `seq > afterSeq` (all when omitted); with `maxSize`, only the newest
   * of them whose sizes fit (at least one), and what is left out counts as dropped.
   */
  snapshot(afterSeq = -1, maxSize = Infinity): OutputSnapshot {
    const live = this.chunks.length - this.head
    const oldestSeq = live > 0 ? this.chunks[this.head].seq : this.nextSeq
    // Sequence numbers are dense, so the start index is computed, not searched.
    let from = this.head + Math.max(0, afterSeq + 1 - oldestSeq)
    let firstSeq = oldestSeq
    let dropped = this.dropped
    if (maxSize !== Infinity && from < this.chunks.length) {
      let total = 0
      let first = this.chunks.length
      while (first > from) {
        const size = this.sizeOf(this.chunks[first - 1])
        if (first < this.chunks.length && total + size > maxSize) break
        total += size
        first--
      }
      if (first > from) {
        // Output was left out: everything before the first returned chunk counts as dropped.
        for (let i = this.head; i < first; i++) dropped += this.sizeOf(this.chunks[i])
        firstSeq = this.chunks[first].seq
        from = first
      }
    }
    return { id: this.id, chunks: this.chunks.slice(from), firstSeq, droppedChars: dropped }
  }

  private sizeOf(chunk: OutputChunk): number {
    return this.sizes.get(chunk) ?? 0
  }
}

/**
 * Collects output as it arrives and hands it on in batches. Adjacent pieces of the same
 * stream merge into one chunk; the batch is flushed on the next turn of the event loop
 * (`setImmediate`), so sparse output goes out at once and a flood goes out in few, large
 * messages. Program output arrives as bytes cut at character boundaries: each chunk is
 * decoded once, its raw bytes go to `onRaw` with the chunk's sequence number (the run log),
 * and its UTF-8 is remembered for transports that send bytes.
 */
export class OutputBatcher {
  private pending: Pending[] = []
  private scheduled: NodeJS.Immediate | null = null

  constructor(
    private readonly buffer: OutputBuffer,
    private readonly emit: (chunks: OutputChunk[]) => void,
    private readonly now: () => number = Date.now,
    private readonly onRaw?: (chunk: OutputChunk, raw: readonly Buffer[]) => void,
  ) {}

  /** Queue text Corral itself writes (the `system` stream). */
  add(stream: OutputStream, text: string): void {
    if (text.length > 0) this.queue({ kind: 'text', stream, parts: [text], size: text.length })
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
      if (p.kind === 'text') return this.buffer.push(p.stream, p.parts.join(''), p.time)
      const { stream, time, parts } = p
      const chunk = this.buffer.pushChunk((seq) => byteChunk(seq, stream, time, parts), p.size)
      this.onRaw?.(chunk, parts)
      return chunk
    })
    this.emit(chunks)
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.flush())
  }
}

type Pending =
  | { kind: 'text'; stream: OutputStream; parts: string[]; size: number; time: number }
  | { kind: 'bytes'; stream: OutputStream; parts: Buffer[]; size: number; time: number }
