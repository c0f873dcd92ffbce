import type { OutputChunk, OutputSnapshot, OutputStream, ProcessId } from '../../shared/contract'

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

  constructor(
    readonly id: ProcessId,
    private readonly maxChars: number = OUTPUT_BUFFER_CHARS,
  ) {}

  /** Number a new chunk and retain it; returns the numbered chunk. */
  push(stream: OutputStream, data: string, time: number): OutputChunk {
    // A single chunk larger than the whole buffer keeps only its tail.
    const text = data.length > this.maxChars ? data.slice(data.length - this.maxChars) : data
    this.dropped += data.length - text.length
    const chunk: OutputChunk = { seq: this.nextSeq++, stream, data: text, time }
    this.chunks.push(chunk)
    this.chars += text.length
    while (this.chars > this.maxChars && this.head < this.chunks.length - 1) {
      const old = this.chunks[this.head++]
      this.chars -= old.data.length
      this.dropped += old.data.length
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

  /** Retained chunks with `seq > afterSeq` (all when omitted). */
  snapshot(afterSeq = -1): OutputSnapshot {
    const live = this.chunks.length - this.head
    const firstSeq = live > 0 ? this.chunks[this.head].seq : this.nextSeq
    // Sequence numbers are dense, so the start index is computed, not searched.
    const from = this.head + Math.max(0, afterSeq + 1 - firstSeq)
    return {
      id: this.id,
      chunks: this.chunks.slice(from),
      firstSeq,
      droppedChars: this.dropped,
    }
  }
}

/**
 * Collects output as it arrives and hands it on in batches. Adjacent pieces of the same
 * stream merge into one chunk; the batch is flushed on the next turn of the event loop
 * (`setImmediate`), so sparse output goes out at once and a flood goes out in few, large
 * messages. The raw bytes behind each chunk go to `onRaw` with the chunk's sequence number,
 * so the run log on disk can be read back by sequence number.
 */
export class OutputBatcher {
  private pending: Pending[] = []
  private scheduled: NodeJS.Immediate | null = null

  constructor(
    private readonly buffer: OutputBuffer,
    private readonly emit: (chunks: OutputChunk[]) => void,
    private readonly now: () => number = Date.now,
    private readonly onRaw?: (chunk: OutputChunk, raw: Buffer) => void,
  ) {}

  /** Queue output (decoded text, and the bytes it came from); it is numbered at the next flush. */
  add(stream: OutputStream, text: string, raw?: Buffer): void {
    if (text.length === 0 && !raw?.length) return
    const last = this.pending[this.pending.length - 1]
    if (last && last.stream === stream && last.chars + text.length <= MAX_CHUNK_CHARS) {
      last.parts.push(text)
      last.chars += text.length
      if (raw) last.raw.push(raw)
    } else {
      this.pending.push({
        stream,
        parts: [text],
        raw: raw ? [raw] : [],
        chars: text.length,
        time: this.now(),
      })
    }
    this.scheduled ??= setImmediate(() => this.flush())
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
      const chunk = this.buffer.push(p.stream, p.parts.join(''), p.time)
      if (p.raw.length && this.onRaw) {
        this.onRaw(chunk, p.raw.length === 1 ? p.raw[0] : Buffer.concat(p.raw))
      }
      return chunk
    })
    this.emit(chunks)
  }
}

interface Pending {
  stream: OutputStream
  parts: string[]
  raw: Buffer[]
  chars: number
  time: number
}
