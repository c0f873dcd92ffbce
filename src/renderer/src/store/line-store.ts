/**
 * Compact storage for many lines of output: the text lives in a few large block strings
 * (lines joined by `\n`, exactly as a program wrote them once escapes and `\r` redraws are
 * resolved), and a line is a row of typed arrays (start offset, stream, time; lengths follow
 * from the starts). Style runs exist only for styled lines. Nothing is allocated per line, so
 * ten million lines cost about 13 bytes each (up to half as much again of spare room) on top
 * of their text, and a search can scan whole blocks at once.
 *
 * Only the last line can change (append, or reset by a `\r` redraw); older lines are
 * immutable, which keeps every operation amortised O(appended) and lets blocks be sealed at
 * line boundaries (no line spans two blocks).
 */
import { PLAIN_STYLE } from './ansi'

/** Stream of a line, as stored (one byte per line). */
export const KIND_STDOUT = 0
export const KIND_STDERR = 1
export const KIND_SYSTEM = 2

/** A block is sealed (becomes immutable) once it holds this many characters. */
export const BLOCK_CHARS = 64 * 1024

const INITIAL_LINES = 256
const INITIAL_RUNS = 64
/** Times are kept as milliseconds after the store's first line: 32 bits cover 49 days. */
const MAX_TIME_DELTA = 0xffffffff

/** What a line lost to the length cap, and the chunks it spans (to read it back from disk). */
export interface CutInfo {
  /** Characters beyond the cap that were not kept. */
  cut: number
  /** Sequence number of the chunk that started (or last redrew) the line. */
  firstSeq: number
  /** Sequence number of the last chunk that added to it. */
  lastSeq: number
}

export class LineStore {
  // ---- text: sealed blocks plus the open block, built from parts until read
  private blocks: string[] = []
  private blockStarts: number[] = []
  private blockHead = 0
  private parts: string[] = []
  private openStart = 0
  private openLen = 0

  // ---- lines: array index = head + line index
  private starts = new Float64Array(INITIAL_LINES)
  private kinds = new Uint8Array(INITIAL_LINES)
  private times = new Uint32Array(INITIAL_LINES)
  /** Absolute index of each line's first style run; allocated when the first run appears. */
  private runStarts: Float64Array | null = null
  private head = 0
  private end = 0
  private timeBase = -1

  // ---- style runs: position in the line and style id; array index = absolute - runBase
  private runPos = new Uint32Array(0)
  private runStyle = new Uint16Array(0)
  private runBase = 0
  private runHead = 0
  private runEnd = 0

  private cuts = new Map<number, CutInfo>()
  /** Sequence number that started the last line. */
  private lastLineSeq = -1

  /** Lines dropped from the front of this store. */
  dropped = 0
  /** Kept characters, separators included. */
  chars = 0
  /** Longest kept line. */
  maxLen = 0

  constructor(readonly lineCap: number) {}

  /** Number of kept lines. */
  get count(): number {
    return this.end - this.head
  }

  /** Stream of line `i` ({@link KIND_STDOUT}, ...). */
  kind(i: number): number {
    return this.kinds[this.head + i]
  }

  /** Arrival time (epoch ms) of line `i`. */
  time(i: number): number {
    return this.timeBase + this.times[this.head + i]
  }

  /** Kept length of line `i`. */
  len(i: number): number {
    return this.lenAt(this.head + i)
  }

  /** What line `i` lost to the cap, if anything. */
  cutInfo(i: number): CutInfo | undefined {
    return this.cuts.size === 0 ? undefined : this.cuts.get(this.dropped + i)
  }

  /** Characters line `i` lost to the cap. */
  cut(i: number): number {
    return this.cutInfo(i)?.cut ?? 0
  }

  /** Kept text of line `i`. */
  text(i: number): string {
    const k = this.head + i
    const start = this.starts[k]
    const len = this.lenAt(k)
    if (len === 0) return ''
    if (start >= this.openStart) {
      const open = this.openBlock()
      return open.slice(start - this.openStart, start - this.openStart + len)
    }
    const b = this.blockOf(start)
    const off = start - this.blockStarts[b]
    return this.blocks[b].slice(off, off + len)
  }

  /**
   * Style runs of line `i` as `[position, styleId, ...]`; empty for a plain line. A line
   * with runs starts plain until its first run.
   */
  runs(i: number): number[] {
    if (!this.runStarts) return []
    const k = this.head + i
    const from = this.runStarts[k]
    const to = k + 1 < this.end ? this.runStarts[k + 1] : this.runBase + this.runEnd
    const out: number[] = []
    for (let a = from; a < to; a++) {
      const r = a - this.runBase
      out.push(this.runPos[r], this.runStyle[r])
    }
    return out
  }

  /** Style in effect at the end of the last line. */
  private lastStyle(): number {
    if (!this.runStarts || this.end === this.head) return PLAIN_STYLE
    const first = this.runStarts[this.end - 1] - this.runBase
    return this.runEnd > first ? this.runStyle[this.runEnd - 1] : PLAIN_STYLE
  }

  // ---------------------------------------------------------------- writing

  /** Start a new (empty) last line; the previous last line becomes immutable. */
  pushLine(kind: number, time: number, seq: number): void {
    if (this.end > this.head) {
      this.parts.push('\n')
      this.openLen++
      if (this.openLen >= BLOCK_CHARS) this.seal()
    }
    if (this.end === this.starts.length) this.growLines()
    if (this.timeBase < 0) this.timeBase = time
    const k = this.end++
    this.starts[k] = this.openStart + this.openLen
    this.kinds[k] = kind
    this.times[k] = clampTime(time - this.timeBase)
    if (this.runStarts) this.runStarts[k] = this.runBase + this.runEnd
    this.lastLineSeq = seq
    this.chars += 1
  }

  /**
   * Append `text[from, to)` in `style` to the last line. What does not fit under the cap is
   * counted, not kept.
   */
  append(text: string, from: number, to: number, style: number, seq: number): void {
    if (to <= from) return
    const k = this.end - 1
    const len = this.lenAt(k)
    const room = this.lineCap - len
    const take = Math.min(room, to - from)
    if (take > 0) {
      if (style !== this.lastStyle()) this.addRun(len, style)
      this.parts.push(from === 0 && take === text.length ? text : text.slice(from, from + take))
      this.openLen += take
      this.chars += take
      if (len + take > this.maxLen) this.maxLen = len + take
    }
    if (take < to - from) {
      const abs = this.dropped + (k - this.head)
      const info = this.cuts.get(abs)
      if (info) {
        info.cut += to - from - take
        info.lastSeq = seq
      } else this.cuts.set(abs, { cut: to - from - take, firstSeq: this.lastLineSeq, lastSeq: seq })
    }
  }

  /**
   * Add the complete, plain lines of `text[from, to)`: each ends with `\n` (the last one at
   * `to - 1`), none holds a `\r`, and the last line so far is ended by them. One piece of text
   * and a few typed-array writes per line, instead of a string per line: output of short
   * lines is mostly this. A line longer than the cap is cut as {@link append} would cut it.
   */
  pushLines(text: string, from: number, to: number, kind: number, time: number, seq: number): void {
    if (to <= from) return
    let i = from
    while (i < to) {
      // Lines that fit under the cap go in one piece, up to the first one that does not.
      const pieceFrom = i
      let lines = 0
      let longest = 0
      let cutAt = -1
      let p = i
      while (p < to) {
        const nl = text.indexOf('\n', p)
        const len = nl - p
        if (len > this.lineCap) {
          cutAt = p
          break
        }
        if (len > longest) longest = len
        lines++
        p = nl + 1
      }
      if (lines > 0) {
        this.pushPlainLines(text, pieceFrom, p, lines, kind, time, seq)
        if (longest > this.maxLen) this.maxLen = longest
      }
      if (cutAt < 0) break
      const nl = text.indexOf('\n', cutAt)
      this.pushLine(kind, time, seq)
      this.append(text, cutAt, nl, PLAIN_STYLE, seq)
      i = nl + 1
    }
  }

  /** {@link pushLines} for `lines` lines that all fit under the cap. */
  private pushPlainLines(
    text: string,
    from: number,
    to: number,
    lines: number,
    kind: number,
    time: number,
    seq: number,
  ): void {
    if (this.end > this.head) {
      this.parts.push('\n')
      this.openLen++
      if (this.openLen >= BLOCK_CHARS) this.seal()
    }
    if (this.end + lines > this.starts.length) this.growLines(lines)
    if (this.timeBase < 0) this.timeBase = time
    const t = clampTime(time - this.timeBase)
    const base = this.openStart + this.openLen - from
    const runAt = this.runBase + this.runEnd
    let k = this.end
    let p = from
    while (p < to) {
      const nl = text.indexOf('\n', p)
      this.starts[k] = base + p
      this.kinds[k] = kind
      this.times[k] = t
      if (this.runStarts) this.runStarts[k] = runAt
      k++
      p = nl + 1
    }
    this.end = k
    // The text without the last line's `\n`: separators go in when the next line starts.
    this.parts.push(from === 0 && to - 1 === text.length ? text : text.slice(from, to - 1))
    this.openLen += to - 1 - from
    this.chars += to - from
    this.lastLineSeq = seq
  }

  /** Empty the last line (a `\r` redraw); its text is removed from the open block too. */
  resetLast(time: number, seq: number): void {
    const k = this.end - 1
    if (k < this.head) return
    const len = this.lenAt(k)
    if (len > 0) {
      // The last line always lives in the open block: blocks are sealed only between lines.
      const keep = this.starts[k] - this.openStart
      const open = this.openBlock()
      this.parts = keep > 0 ? [open.slice(0, keep)] : []
      this.openLen = keep
      this.chars -= len
    }
    if (this.runStarts) this.runEnd = this.runStarts[k] - this.runBase
    this.cuts.delete(this.dropped + (k - this.head))
    this.times[k] = clampTime(time - this.timeBase)
    this.lastLineSeq = seq
  }

  private addRun(pos: number, style: number): void {
    if (!this.runStarts) {
      if (style === PLAIN_STYLE) return
      // Every earlier line has no runs: they all start at run 0.
      this.runStarts = new Float64Array(this.starts.length)
    }
    const firstOfLine = this.runStarts[this.end - 1] - this.runBase
    if (this.runEnd > firstOfLine && this.runPos[this.runEnd - 1] === pos) {
      // Two changes at one position: the later wins (and may fold back into the one before).
      this.runEnd--
      if (style === this.lastStyle()) return
    }
    if (this.runEnd === this.runPos.length) this.growRuns()
    this.runPos[this.runEnd] = pos
    this.runStyle[this.runEnd] = style
    this.runEnd++
  }

  // ---------------------------------------------------------------- dropping

  /** Drop the `n` oldest lines. */
  dropFront(n: number): void {
    n = Math.min(n, this.count)
    if (n <= 0) return
    // Lines lie back to back, each followed by its separator (the last by none yet).
    const to = this.head + n < this.end ? this.starts[this.head + n] : this.textEnd() + 1
    this.chars -= to - this.starts[this.head]
    if (this.cuts.size > 0) {
      for (let a = this.dropped; a < this.dropped + n; a++) this.cuts.delete(a)
    }
    this.head += n
    this.dropped += n
    if (this.runStarts) {
      const firstRun = this.head < this.end ? this.runStarts[this.head] : this.runBase + this.runEnd
      this.runHead = Math.max(this.runHead, firstRun - this.runBase)
    }
    // Free blocks that hold nothing but dropped lines.
    const firstStart = this.head < this.end ? this.starts[this.head] : this.openStart + this.openLen
    while (this.blockHead < this.blocks.length) {
      const next =
        this.blockHead + 1 < this.blocks.length
          ? this.blockStarts[this.blockHead + 1]
          : this.openStart
      if (next > firstStart) break
      this.blocks[this.blockHead] = ''
      this.blockHead++
    }
    if (this.blockHead > 64 && this.blockHead * 2 > this.blocks.length) {
      this.blocks = this.blocks.slice(this.blockHead)
      this.blockStarts = this.blockStarts.slice(this.blockHead)
      this.blockHead = 0
    }
  }

  // ---------------------------------------------------------------- scanning

  /**
   * Every block of text with the range of lines starting in it, oldest first. Lines are
   * separated by `\n` inside a block; a block may begin with text of dropped lines.
   */
  forEachBlock(
    fn: (text: string, blockStart: number, firstLine: number, endLine: number) => boolean | void,
  ): void {
    let line = 0
    const count = this.count
    const visit = (text: string, start: number, limit: number): boolean => {
      let endLine = line
      while (endLine < count && this.starts[this.head + endLine] < limit) endLine++
      if (endLine > line && fn(text, start, line, endLine) === false) return false
      line = endLine
      return true
    }
    for (let b = this.blockHead; b < this.blocks.length; b++) {
      const limit = b + 1 < this.blocks.length ? this.blockStarts[b + 1] : this.openStart
      if (!visit(this.blocks[b], this.blockStarts[b], limit)) return
    }
    visit(this.openBlock(), this.openStart, Infinity)
  }

  /**
   * The block holding line `i`: its text, the store offset it starts at, and the first line
   * after `i` that is not in it (lines never span blocks).
   */
  blockAt(i: number): { text: string; start: number; endLine: number } {
    const start = this.starts[this.head + i]
    let text: string
    let blockStart: number
    let limit: number
    if (start >= this.openStart) {
      text = this.openBlock()
      blockStart = this.openStart
      limit = Infinity
    } else {
      const b = this.blockOf(start)
      text = this.blocks[b]
      blockStart = this.blockStarts[b]
      limit = b + 1 < this.blocks.length ? this.blockStarts[b + 1] : this.openStart
    }
    // Binary search for the first line starting at or after the block's end.
    let lo = i + 1
    let hi = this.count
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.starts[this.head + mid] < limit) lo = mid + 1
      else hi = mid
    }
    return { text, start: blockStart, endLine: lo }
  }

  /** Start offset of line `i` in the store's text (for mapping block matches to lines). */
  startOf(i: number): number {
    return this.starts[this.head + i]
  }

  // ---------------------------------------------------------------- internals

  /**
   * Length of the line at array index `k`. Lines lie back to back in the text, each followed
   * by a `\n` separator, so a line's length is where the next one starts, less one: no array
   * of lengths is needed (4 bytes a line saved).
   */
  private lenAt(k: number): number {
    return (k + 1 < this.end ? this.starts[k + 1] - 1 : this.textEnd()) - this.starts[k]
  }

  /** Offset just past the last character of text. */
  private textEnd(): number {
    return this.openStart + this.openLen
  }

  private openBlock(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join('')]
    return this.parts.length === 0 ? '' : this.parts[0]
  }

  private seal(): void {
    this.blocks.push(this.openBlock())
    this.blockStarts.push(this.openStart)
    this.openStart += this.openLen
    this.openLen = 0
    this.parts = []
  }

  private blockOf(offset: number): number {
    let lo = this.blockHead
    let hi = this.blocks.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.blockStarts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /**
   * Make room for `more` lines after the last: move the kept lines to the front when a
   * quarter of the arrays is free that way, else grow them by half (not double: memory per
   * line is what a long log costs, and the arrays stay at most 1.5 times the lines).
   */
  private growLines(more = 1): void {
    const live = this.end - this.head
    if (this.head > 0 && live + more <= this.starts.length * 0.75) {
      // Reuse the dead prefix instead of growing.
      this.starts.copyWithin(0, this.head, this.end)
      this.kinds.copyWithin(0, this.head, this.end)
      this.times.copyWithin(0, this.head, this.end)
      this.runStarts?.copyWithin(0, this.head, this.end)
    } else {
      const cap = Math.max(INITIAL_LINES, Math.ceil((live + more) * 1.5))
      this.starts = copyInto(new Float64Array(cap), this.starts, this.head, this.end)
      this.kinds = copyInto(new Uint8Array(cap), this.kinds, this.head, this.end)
      this.times = copyInto(new Uint32Array(cap), this.times, this.head, this.end)
      if (this.runStarts)
        this.runStarts = copyInto(new Float64Array(cap), this.runStarts, this.head, this.end)
    }
    this.end = live
    this.head = 0
  }

  private growRuns(): void {
    const live = this.runEnd - this.runHead
    if (this.runHead > 0 && live * 2 <= this.runPos.length) {
      this.runPos.copyWithin(0, this.runHead, this.runEnd)
      this.runStyle.copyWithin(0, this.runHead, this.runEnd)
    } else {
      const cap = Math.max(INITIAL_RUNS, live * 2)
      this.runPos = copyInto(new Uint32Array(cap), this.runPos, this.runHead, this.runEnd)
      this.runStyle = copyInto(new Uint16Array(cap), this.runStyle, this.runHead, this.runEnd)
    }
    this.runBase += this.runHead
    this.runEnd = live
    this.runHead = 0
  }
}

function clampTime(delta: number): number {
  return delta < 0 ? 0 : delta > MAX_TIME_DELTA ? MAX_TIME_DELTA : delta
}

function copyInto<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(
  target: T,
  source: T,
  from: number,
  to: number,
): T {
  target.set(source.subarray(from, to) as never)
  return target
}
