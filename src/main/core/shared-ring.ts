/**
 * Retained output in memory shared between threads: one thread writes a process's output
 * into a ring, others copy ranges out of it without a lock and without ever seeing bytes that
 * were overwritten meanwhile. The building block for taking the output path off the main
 * thread (see `docs/output-worker.md`); plain Node, no Electron.
 *
 * The ring is a list of {@link SEGMENT_BYTES} segments, each its own `SharedArrayBuffer`,
 * addressed by running offsets (they only grow; offset `p` lives in segment `p / SEGMENT_BYTES`).
 * The writer drops the oldest bytes when it needs room (and frees a segment once all of it is
 * dropped, so a ring's memory is its capacity plus at most one segment), and publishes the oldest
 * offset still valid before it reuses their memory. A reader copies a range and then checks
 * that offset again (a sequence lock): a copy that raced an eviction is discarded, so a reader
 * gets the exact bytes or nothing.
 */

/** Size of one segment of a ring. */
export const SEGMENT_BYTES = 64 * 1024

/** Index of the oldest valid offset in a ring's control words. */
const START = 0
/** Index of the end offset (one past the newest byte). */
const END = 1

/**
 * Memory shared by the rings of all processes. A ring grows only by what the budget grants;
 * a process whose ring cannot grow keeps less of its newest output. Capacity goes back to the
 * budget when a process is removed. The counter is updated with `Atomics`, so rings written on
 * other threads share it without asking the main thread (hand them {@link memory}).
 */
export class RetentionBudget {
  /** The counter's memory: hand it to another thread to share this budget there. */
  readonly memory: SharedArrayBuffer
  private readonly cell: Int32Array

  /** A new budget of `bytes` (under 2 GiB), or the one whose memory another thread handed over. */
  constructor(bytesOrMemory: number | SharedArrayBuffer) {
    if (typeof bytesOrMemory === 'number') {
      if (bytesOrMemory > 0x7fffffff) throw new RangeError('a retention budget is under 2 GiB')
      this.memory = new SharedArrayBuffer(4)
      this.cell = new Int32Array(this.memory)
      Atomics.store(this.cell, 0, bytesOrMemory)
    } else {
      this.memory = bytesOrMemory
      this.cell = new Int32Array(this.memory)
    }
  }

  /** Take up to `bytes`; returns how many were granted. */
  take(bytes: number): number {
    for (;;) {
      const left = Atomics.load(this.cell, 0)
      const granted = Math.max(0, Math.min(bytes, left))
      if (granted === 0) return 0
      if (Atomics.compareExchange(this.cell, 0, left, left - granted) === left) return granted
    }
  }

  /** Take `bytes` even beyond what is left. */
  force(bytes: number): void {
    Atomics.sub(this.cell, 0, bytes)
  }

  /** Give back `bytes` taken earlier. */
  give(bytes: number): void {
    Atomics.add(this.cell, 0, bytes)
  }

  /** Bytes still available (negative when forced beyond). */
  get available(): number {
    return Atomics.load(this.cell, 0)
  }
}

/**
 * The writing side of a ring, on the thread that reads the process's output. It grows by
 * segments as the budget grants them, up to `maxBytes`; beyond what it holds, the oldest
 * segments make room. Every segment it starts using is announced (`announce`), in order,
 * before any offset in it is reported to readers.
 */
export class SharedRingWriter {
  /** Control words (oldest valid offset, end): hand them to readers. */
  readonly control = new SharedArrayBuffer(16)
  private readonly words = new BigInt64Array(this.control)
  private readonly segments = new Map<number, Uint8Array>()
  private readonly spare: Uint8Array[] = []
  private start = 0
  private end = 0
  /** Bytes of segments granted by the budget (or forced, for the first). */
  private capacity = 0

  constructor(
    private readonly maxBytes: number,
    private readonly budget: RetentionBudget | null,
    private readonly announce: (block: number, memory: SharedArrayBuffer) => void,
  ) {}

  /** Bytes of room the ring has now (it grows on demand, as the budget allows). */
  get room(): number {
    return this.capacity
  }

  /**
   * Append `bytes`; returns the running offset of the first. Bytes that do not fit in all the
   * room the ring can have are not kept: the returned offset is then already before the oldest
   * valid one ({@link SharedRingReader.validFrom}), as for bytes evicted later.
   */
  append(bytes: Uint8Array): number {
    const at = this.end
    const n = bytes.length
    if (n === 0) return at
    this.reserve(this.end + n - this.start)
    if (n > this.capacity) {
      // Larger than all the room there is: nothing of it is kept, and nothing before it.
      this.evictTo(at + n)
      this.end = at + n
      Atomics.store(this.words, END, BigInt(this.end))
      return at
    }
    // Exactly as many of the oldest bytes as needed go (a chunk up to the capacity is always
    // kept whole); segments are freed once wholly before the oldest byte kept.
    if (this.end + n - this.start > this.capacity) this.evictTo(this.end + n - this.capacity)
    let pos = at
    let done = 0
    while (done < n) {
      const block = Math.floor(pos / SEGMENT_BYTES)
      const within = pos - block * SEGMENT_BYTES
      const take = Math.min(n - done, SEGMENT_BYTES - within)
      this.segment(block).set(bytes.subarray(done, done + take), within)
      done += take
      pos += take
    }
    this.end = at + n
    Atomics.store(this.words, END, BigInt(this.end))
    return at
  }

  /** Give every segment back to the budget (the process is gone). */
  dispose(): void {
    this.evictTo(this.end)
    this.spare.length = 0
    this.budget?.give(this.capacity)
    this.capacity = 0
  }

  /** Grow, as far as the bound and the budget allow, towards `live` bytes of room. */
  private reserve(live: number): void {
    while (this.capacity < live && this.capacity < this.maxBytes) {
      const want = Math.min(SEGMENT_BYTES, this.maxBytes - this.capacity)
      let granted = this.budget ? this.budget.take(want) : want
      if (granted < want && this.capacity === 0) {
        // Every process keeps its first segment, even past the budget.
        this.budget?.force(want - granted)
        granted = want
      }
      if (granted === 0) return
      this.capacity += granted
      if (granted < want) return
    }
  }

  /** Everything before `offset` is no longer held: published first, then its memory freed. */
  private evictTo(offset: number): void {
    if (offset <= this.start) return
    const from = Math.floor(this.start / SEGMENT_BYTES)
    this.start = offset
    // Readers must see the new start before any freed segment is written again.
    Atomics.store(this.words, START, BigInt(offset))
    const upTo = Math.floor(offset / SEGMENT_BYTES)
    for (let block = from; block < upTo; block++) {
      const memory = this.segments.get(block)
      if (!memory) continue
      this.segments.delete(block)
      this.spare.push(memory)
    }
  }

  /** The memory of segment `block`, taken (and announced) on first use. */
  private segment(block: number): Uint8Array {
    let memory = this.segments.get(block)
    if (memory) return memory
    memory = this.spare.pop() ?? new Uint8Array(new SharedArrayBuffer(SEGMENT_BYTES))
    this.segments.set(block, memory)
    this.announce(block, memory.buffer as SharedArrayBuffer)
    return memory
  }
}

/**
 * The reading side of a ring, on any thread: it learns the ring's segments from the writer's
 * announcements and copies ranges out, exact or not at all.
 */
export class SharedRingReader {
  private readonly words: BigInt64Array
  private readonly segments = new Map<number, Uint8Array>()

  constructor(control: SharedArrayBuffer) {
    this.words = new BigInt64Array(control)
  }

  /** The writer started using `memory` for segment `block`. */
  addSegment(block: number, memory: SharedArrayBuffer): void {
    this.segments.set(block, new Uint8Array(memory))
    this.forgetEvicted()
  }

  /** The oldest offset the writer still holds. */
  get validFrom(): number {
    return Number(Atomics.load(this.words, START))
  }

  /** One past the newest byte the writer has written. */
  get end(): number {
    return Number(Atomics.load(this.words, END))
  }

  /**
   * A copy of `size` bytes from running offset `at`, or null when any of them is no longer
   * held (evicted before or while they were copied) or not written yet.
   */
  read(at: number, size: number): Buffer | null {
    const out = Buffer.allocUnsafe(size)
    return this.readInto(at, size, out, 0) ? out : null
  }

  /**
   * Copy `size` bytes from running offset `at` into `target` at `offset`; false (and the
   * target's bytes there are garbage) when any of them is no longer held or not written yet.
   */
  readInto(at: number, size: number, target: Uint8Array, offset: number): boolean {
    if (at < this.validFrom || at + size > this.end) return false
    const out = target.subarray(offset, offset + size)
    let pos = at
    let done = 0
    while (done < size) {
      const block = Math.floor(pos / SEGMENT_BYTES)
      const memory = this.segments.get(block)
      if (!memory) return false
      const within = pos - block * SEGMENT_BYTES
      const take = Math.min(size - done, SEGMENT_BYTES - within)
      out.set(memory.subarray(within, within + take), done)
      done += take
      pos += take
    }
    // The check after the copy: a read-modify-write, which orders the copy's loads before it
    // on every platform (a plain atomic load need not on weakly ordered CPUs).
    const start = Number(Atomics.add(this.words, START, 0n))
    return at >= start
  }

  /** Whether the bytes from running offset `at` on are still held (they may go any moment). */
  holds(at: number): boolean {
    return at >= this.validFrom
  }

  /** Drop the segments wholly before the oldest valid offset (their memory is reused). */
  private forgetEvicted(): void {
    const first = Math.floor(this.validFrom / SEGMENT_BYTES)
    for (const block of this.segments.keys()) if (block < first) this.segments.delete(block)
  }
}
