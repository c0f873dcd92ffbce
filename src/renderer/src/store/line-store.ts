/**
 * Compact storage for many lines of output. The text lives in block strings of about 256 KiB
 * (lines joined by `\n`, exactly as a program wrote them once escapes and `\r` redraws are
 * resolved); a block starts with a line and no line spans two blocks. Nothing is stored per
 * line, so ten million short lines cost little more than their text:
 *
 * - where a line starts is found by scanning its block for `\n`. Each block records its first
 *   line; the line starts of a few recently used blocks are cached, and the open (last) block
 *   keeps its own. A view asking for ~100 rows scans a block or two at most, a jump to
 *   anywhere one block (about half a millisecond for 7-byte lines on a slow 2-core machine).
 * - stream and arrival time are run-length encoded: the lines of one chunk share its time, and
 *   the stream changes rarely.
 * - styles are the places in the text where the style changes, kept per block (a few bytes
 *   each), so text in one colour costs nothing however many lines it spans.
 *
 * Only the last line can change (append, or reset by a `\r` redraw); older lines are
 * immutable, which keeps every operation amortised O(appended) and lets blocks be sealed at
 * line boundaries. A search scans whole blocks at once.
 *
 * Writing and reading make no typed arrays, save the few that grow by doubling (stream and
 * time runs): line starts are plain arrays, style changes are encoded in strings. A typed
 * array's memory lies outside the JS heap, and in Chromium making one while a flood's message
 * buffers were being freed stalled the page for 100–370 ms at a time (a new store at every
 * gap, a line-start array per block shown): 2 or 3 such frames per 10 s flood with ten
 * million lines kept, none once they were gone.
 */
import { PLAIN_STYLE } from './ansi'

/** Stream of a line, as stored. */
export const KIND_STDOUT = 0
export const KIND_STDERR = 1
export const KIND_SYSTEM = 2
export const KIND_STDIN = 3

/**
 * A block is sealed (becomes immutable) at the first line start past this many characters.
 * Sealed blocks are kept for long, and V8 allocates a string this large (over 128 KiB) in its
 * large-object space, which a young-generation collection promotes without copying: with
 * 64 KiB blocks every such collection copied the blocks made since the last one, pauses of
 * 20–55 ms while a flood was shown on a 2-core machine; with these, under 5 ms.
 */
export const BLOCK_CHARS = 256 * 1024
/**
 * A block that is one range of a string (a decoded frame or chunk, see `LineStore.src`) is
 * sealed, once at least this large, where the text stops continuing it: it is then that
 * string's slice, no copy. A flood's text was otherwise copied once more into its blocks, and
 * under a flood each copy (a new 256 KiB string) took 1.7 ms on average and up to 95 ms, a
 * tenth of the page's time. Large, so that the blocks of interactive output stay few.
 */
export const RANGE_BLOCK_CHARS = 64 * 1024
/**
 * A range block is a slice of its string only if at most this share of the string lies
 * outside it (1/8): a slice keeps all of the string alive.
 */
const RANGE_SPARE_SHARE = 8

/**
 * Line starts kept cached over all stores (4 or 8 bytes each, as V8 compresses pointers or
 * not; about 8 blocks of 8-byte lines), and at most this many blocks: enough for the rows on
 * screen, the oldest block (dropped from) and a search resuming inside a block, however many
 * stores there are.
 */
const MAX_CACHED_LINES = 256 * 1024
const MAX_CACHED_BLOCKS = 128

const INITIAL_RUNS = 8
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

/** What scanning a sealed block yields: its line starts and decoded style changes. */
interface BlockIndex {
  /** Absolute number of the block in its store (blocks are never renumbered). */
  block: number
  /** Absolute number of the block's first line. */
  firstLine: number
  /** Start of each of the block's lines, relative to the block; empty once forgotten. */
  lines: readonly number[]
  /** Style changes: where (relative to the block) and the style from there on. */
  changePos: readonly number[]
  changeStyle: readonly number[]
  /** Style in effect at the block's start. */
  entryStyle: number
  /**
   * The owning store's indexes by block. Not the store: a store let go of (cleared, its
   * process removed) is not kept alive by the cache, and an entry holds no text.
   */
  home: Map<number, BlockIndex>
}

const NO_CHANGES: number[] = []
const NO_LINES: number[] = []

/** Every cached block index, least recently used first. */
const cached = new Set<BlockIndex>()
let cachedLines = 0

/** Blocks and line starts cached over all stores (tests, diagnostics). */
export function cachedBlockIndexes(): { blocks: number; lines: number } {
  return { blocks: cached.size, lines: cachedLines }
}

function remember(idx: BlockIndex): void {
  cached.add(idx)
  idx.home.set(idx.block, idx)
  cachedLines += idx.lines.length
  while (cached.size > 1 && (cachedLines > MAX_CACHED_LINES || cached.size > MAX_CACHED_BLOCKS)) {
    forget(cached.values().next().value as BlockIndex)
  }
}

function touch(idx: BlockIndex): void {
  cached.delete(idx)
  cached.add(idx)
}

function forget(idx: BlockIndex): void {
  if (!cached.delete(idx)) return
  cachedLines -= idx.lines.length
  idx.home.delete(idx.block)
  // A store may still hold it as the index it used last: with no lines, it matches nothing.
  idx.lines = NO_LINES
}

export class LineStore {
  // ---- sealed blocks (array index >= blockHead), each starting with a line
  private blocks: string[] = []
  /** Store offset of each block's first character. */
  private blockStarts: number[] = []
  /** Absolute number of each block's first line. */
  private blockLines: number[] = []
  /** Style in effect at each block's start. */
  private blockStyles: number[] = []
  /** Style changes inside each block, encoded (see {@link encodeChanges}). */
  private blockChanges: (string | null)[] = []
  private blockHead = 0
  /** Absolute number of the block at array index 0. */
  private blockBase = 0
  /** This store's cached block indexes by absolute block number. */
  private readonly indexes = new Map<number, BlockIndex>()
  private lastIndex: BlockIndex | null = null

  // ---- the open block: built from parts until read, with its line starts and style changes
  private parts: string[] = []
  /**
   * The open block's last part, kept as a range of the string it came from (`src`, or null)
   * while text that continues it exactly comes: output applied piece by piece from one chunk,
   * or from one decoded frame ({@link LineStore.useSource}), is one range however many pieces
   * it came in, and a block that is one range is a slice of that string rather than a copy.
   */
  private src: string | null = null
  private srcFrom = 0
  private srcTo = 0
  /** What {@link LineStore.useSource} said about the text written next. */
  private hintText: string | null = null
  private hintSrc = ''
  private hintOffset = 0
  /**
   * A range block was split off before the open block's first line, which the text now
   * coming from another string goes on: that line is sealed alone once it ends.
   */
  private straddling = false
  private openStart = 0
  private openLen = 0
  /** Absolute number of the open block's first line. */
  private openLine = 0
  /** Start of each line of the open block, relative to it (a plain array: see above). */
  private openOffsets: number[] = []
  private openStyle = PLAIN_STYLE
  private openChangePos: number[] = []
  private openChangeStyle: number[] = []

  // ---- lines: absolute numbers `dropped` .. `total - 1`; line i is absolute `dropped + i`
  private total = 0
  /** Store offset of line 0. */
  private firstStart = 0

  // ---- stream and time, run-length encoded: array index >= runHead
  private runLine = new Float64Array(INITIAL_RUNS)
  private runKind = new Uint8Array(INITIAL_RUNS)
  private runTime = new Uint32Array(INITIAL_RUNS)
  private runHead = 0
  private runEnd = 0
  /** The run looked up last: rows are mostly asked for in order. */
  private runCursor = 0
  private timeBase = -1

  private cuts = new Map<number, CutInfo>()
  /** Sequence number that started the last line. */
  private lastLineSeq = -1

  /** Lines dropped from the front of this store. */
  dropped = 0
  /** Kept characters, separators included. */
  chars = 0
  /** Longest kept line. */
  maxLen = 0

  /** `blockChars` other than {@link BLOCK_CHARS} is for tests: many small blocks. */
  constructor(
    readonly lineCap: number,
    private readonly blockChars = BLOCK_CHARS,
    private readonly rangeBlockChars = Math.min(RANGE_BLOCK_CHARS, blockChars),
  ) {}

  /**
   * The `text` passed to the next writes is `src.slice(offset, offset + text.length)` (a
   * chunk's text cut from the frame it was decoded with); null forgets it. Lets pieces from
   * consecutive chunks continue one range (see {@link src}).
   */
  useSource(text: string | null, src = '', offset = 0): void {
    this.hintText = text
    this.hintSrc = src
    this.hintOffset = offset
  }

  /** Number of kept lines. */
  get count(): number {
    return this.total - this.dropped
  }

  /** Stream of line `i` ({@link KIND_STDOUT}, ...). */
  kind(i: number): number {
    return this.runKind[this.runOf(this.dropped + i)]
  }

  /** Arrival time (epoch ms) of line `i`. */
  time(i: number): number {
    return this.timeBase + this.runTime[this.runOf(this.dropped + i)]
  }

  /** Kept length of line `i`. */
  len(i: number): number {
    return this.lenAt(this.dropped + i)
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
    const a = this.dropped + i
    if (a >= this.openLine) {
      const j = a - this.openLine
      const start = this.openOffsets[j]
      const end = a + 1 < this.total ? this.openOffsets[j + 1] - 1 : this.openLen
      return end > start ? this.openBlock().slice(start, end) : ''
    }
    const idx = this.indexOfLine(a)
    const text = this.blocks[idx.block - this.blockBase]
    const j = a - idx.firstLine
    const end = j + 1 < idx.lines.length ? idx.lines[j + 1] - 1 : text.length - 1
    return text.slice(idx.lines[j], end)
  }

  /**
   * Style runs of line `i` as `[position, styleId, ...]`; empty for a plain line. A line
   * with runs starts plain until its first run.
   */
  runs(i: number): number[] {
    const a = this.dropped + i
    let start: number
    let end: number
    let pos: ArrayLike<number>
    let styles: ArrayLike<number>
    let style: number
    if (a >= this.openLine) {
      const j = a - this.openLine
      start = this.openOffsets[j]
      end = a + 1 < this.total ? this.openOffsets[j + 1] - 1 : this.openLen
      pos = this.openChangePos
      styles = this.openChangeStyle
      style = this.openStyle
    } else {
      const idx = this.indexOfLine(a)
      const j = a - idx.firstLine
      start = idx.lines[j]
      end =
        j + 1 < idx.lines.length
          ? idx.lines[j + 1] - 1
          : this.blocks[idx.block - this.blockBase].length - 1
      pos = idx.changePos
      styles = idx.changeStyle
      style = idx.entryStyle
    }
    const out: number[] = []
    if (end <= start || (pos.length === 0 && style === PLAIN_STYLE)) return out
    // The last change at or before the line's start is the style it starts in.
    let lo = 0
    let hi = pos.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (pos[mid] <= start) lo = mid + 1
      else hi = mid
    }
    if (lo > 0) style = styles[lo - 1]
    if (style !== PLAIN_STYLE) out.push(0, style)
    for (let c = lo; c < pos.length && pos[c] < end; c++) out.push(pos[c] - start, styles[c])
    return out
  }

  /** Style in effect at the end of the text. */
  private lastStyle(): number {
    const n = this.openChangeStyle.length
    return n > 0 ? this.openChangeStyle[n - 1] : this.openStyle
  }

  // ---------------------------------------------------------------- writing

  /** Start a new (empty) last line; the previous last line becomes immutable. */
  pushLine(kind: number, time: number, seq: number): void {
    this.endLastLine()
    this.addRun(kind, time)
    this.addOffset(this.openLen)
    this.lastLineSeq = seq
    this.chars += 1
  }

  /**
   * Append `text[from, to)` in `style` to the last line. What does not fit under the cap is
   * counted, not kept.
   */
  append(text: string, from: number, to: number, style: number, seq: number): void {
    if (to <= from) return
    const a = this.total - 1
    const len = this.lenAt(a)
    const take = Math.min(this.lineCap - len, to - from)
    if (take > 0) {
      if (style !== this.lastStyle()) this.addChange(this.openLen, style)
      this.addPart(text, from, from + take, true)
      this.openLen += take
      this.chars += take
      if (len + take > this.maxLen) this.maxLen = len + take
    }
    if (take < to - from) {
      const info = this.cuts.get(a)
      if (info) {
        info.cut += to - from - take
        info.lastSeq = seq
      } else this.cuts.set(a, { cut: to - from - take, firstSeq: this.lastLineSeq, lastSeq: seq })
    }
  }

  /**
   * Add the complete, plain lines of `text[from, to)`: each ends with `\n` (the last one at
   * `to - 1`), none holds a `\r`, and the last line so far is ended by them. One piece of text
   * per block and one offset per line, instead of a string per line: output of short lines is
   * mostly this. A line longer than the cap is cut as {@link append} would cut it.
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
        this.pushPlainLines(text, pieceFrom, p, kind, time, seq)
        if (longest > this.maxLen) this.maxLen = longest
      }
      if (cutAt < 0) break
      const nl = text.indexOf('\n', cutAt)
      this.pushLine(kind, time, seq)
      this.append(text, cutAt, nl, PLAIN_STYLE, seq)
      i = nl + 1
    }
  }

  /** {@link pushLines} for lines that all fit under the cap. */
  private pushPlainLines(
    text: string,
    from: number,
    to: number,
    kind: number,
    time: number,
    seq: number,
  ): void {
    this.endLastLine()
    // Lines that go on from another string than the open block's range: that range becomes
    // a block of its own first, if it is large (see RANGE_BLOCK_CHARS).
    if (!this.continuesRange(text, from) && this.sealsAtBreak()) this.seal()
    this.addRun(kind, time)
    if (this.lastStyle() !== PLAIN_STYLE) this.addChange(this.openLen, PLAIN_STYLE)
    let pieceFrom = from
    let p = from
    while (p < to) {
      // Seal at the first line start past the block size, as pushLine does.
      if (p > pieceFrom && this.openLen + (p - pieceFrom) >= this.blockChars) {
        this.addPart(text, pieceFrom, p - 1, false)
        this.addSeparator()
        this.openLen += p - pieceFrom
        this.seal()
        pieceFrom = p
      }
      this.addOffset(this.openLen + (p - pieceFrom))
      p = text.indexOf('\n', p) + 1
    }
    // The text without the last line's `\n`: separators go in when the next line starts.
    this.addPart(text, pieceFrom, to - 1, false)
    this.openLen += to - 1 - pieceFrom
    this.chars += to - from
    this.lastLineSeq = seq
  }

  /** Empty the last line (a `\r` redraw); its text is removed from the open block too. */
  resetLast(time: number, seq: number): void {
    const a = this.total - 1
    if (a < this.dropped) return
    const len = this.lenAt(a)
    // The last line always lives in the open block: blocks are sealed only between lines.
    const keep = this.openOffsets[a - this.openLine]
    if (len > 0) {
      if (this.parts.length === 0 && this.src !== null) this.srcTo = this.srcFrom + keep
      else {
        const open = this.openBlock()
        this.parts = keep > 0 ? [open.slice(0, keep)] : []
        this.src = null
      }
      this.openLen = keep
      this.chars -= len
    }
    // Its style changes go with its text.
    while (
      this.openChangePos.length > 0 &&
      this.openChangePos[this.openChangePos.length - 1] >= keep
    ) {
      this.openChangePos.pop()
      this.openChangeStyle.pop()
    }
    this.cuts.delete(a)
    const t = clampTime(time - this.timeBase)
    const r = this.runEnd - 1
    if (this.runTime[r] !== t) {
      if (this.runLine[r] === a) this.runTime[r] = t
      else this.pushRun(a, this.runKind[r], t)
    }
    this.lastLineSeq = seq
  }

  /** End the last line with its separator, sealing the open block once it is full. */
  private endLastLine(): void {
    if (this.total === this.openLine) return
    this.addSeparator()
    this.openLen++
    // The line that went on from one string into another, alone: what follows starts afresh.
    if (this.openLen >= this.blockChars || (this.straddling && this.total - this.openLine === 1)) {
      this.seal()
    }
    this.straddling = false
  }

  /** Whether `text[from...]` (written next) continues the open block's range. */
  private continuesRange(text: string, from: number): boolean {
    return this.src === this.sourceOf(text) && this.srcTo === this.sourceIndex(text, from)
  }

  /** The string `text` is a piece of, as {@link useSource} said, or else `text` itself. */
  private sourceOf(text: string): string {
    return text === this.hintText ? this.hintSrc : text
  }

  /** Where `text[i]` lies in {@link sourceOf}(text). */
  private sourceIndex(text: string, i: number): number {
    return text === this.hintText ? i + this.hintOffset : i
  }

  /**
   * Whether the open block is sealed where the text stops continuing its range: when it is
   * one range of at least `rangeBlockChars` (see RANGE_BLOCK_CHARS), or of several parts and
   * half the block size, so that the text that follows starts a block of its own (a range).
   */
  private sealsAtBreak(): boolean {
    return this.parts.length === 0
      ? this.src !== null && this.openLen >= this.rangeBlockChars
      : this.openLen >= Math.max(this.rangeBlockChars, this.blockChars >> 1)
  }

  /**
   * Add `text[from, to)` to the open block: it extends the open block's range when it
   * continues it, or starts a new one. `inLine`: it goes on the last line (which a large
   * range is then split before, so that the range stays whole).
   */
  private addPart(text: string, from: number, to: number, inLine: boolean): void {
    if (to <= from) return
    const s = this.sourceOf(text)
    const a = this.sourceIndex(text, from)
    const b = a + (to - from)
    if (this.src === s && this.srcTo === a) {
      this.srcTo = b
      return
    }
    if (inLine && this.sealsAtBreak()) this.splitBeforeLastLine()
    this.flushRange()
    this.src = s
    this.srcFrom = a
    this.srcTo = b
  }

  /** The separator after the last line: the range's own `\n` when it is the next character. */
  private addSeparator(): void {
    if (this.src !== null && this.src.charCodeAt(this.srcTo) === 0x0a) {
      this.srcTo++
      return
    }
    this.flushRange()
    this.parts.push('\n')
  }

  private flushRange(): void {
    if (this.src === null) return
    this.parts.push(piece(this.src, this.srcFrom, this.srcTo))
    this.src = null
  }

  /**
   * Seal the open block's lines before its last one (the last line goes on), which becomes
   * the open block's first line.
   */
  private splitBeforeLastLine(): void {
    if (this.total - 1 < this.openLine) return
    const keep = this.openOffsets[this.total - 1 - this.openLine]
    if (keep === 0) return
    if (this.parts.length > 0) {
      // Several parts: joined, the open block is one range of that string.
      const open = this.openBlock()
      this.parts = []
      this.src = open
      this.srcFrom = 0
      this.srcTo = open.length
    }
    const src = this.src as string
    const lineFrom = this.srcFrom + keep
    const lineTo = this.srcTo
    const lineLen = this.openLen - keep
    // The last line's style changes go with it, and the style in effect where it starts.
    const pos: number[] = []
    const styles: number[] = []
    let n = this.openChangePos.length
    while (n > 0 && this.openChangePos[n - 1] >= keep) n--
    for (let c = n; c < this.openChangePos.length; c++) {
      if (this.openChangePos[c] > keep) {
        pos.push(this.openChangePos[c] - keep)
        styles.push(this.openChangeStyle[c])
      }
    }
    let lineStyle = n > 0 ? this.openChangeStyle[n - 1] : this.openStyle
    if (n < this.openChangePos.length && this.openChangePos[n] === keep) {
      lineStyle = this.openChangeStyle[n]
    }
    this.openChangePos.length = n
    this.openChangeStyle.length = n
    // Seal the lines before it: the open block ends with the separator before the last line.
    this.srcTo = lineFrom
    this.openLen = keep
    const last = this.total
    this.total--
    this.seal()
    this.total = last
    this.openOffsets[0] = 0
    this.openStyle = lineStyle
    this.openChangePos = pos
    this.openChangeStyle = styles
    this.src = src
    this.srcFrom = lineFrom
    this.srcTo = lineTo
    this.openLen = lineLen
    this.straddling = true
  }

  /** Add a line starting at `offset` in the open block. */
  private addOffset(offset: number): void {
    // j is at most the array's length: the array grows by one at its end (and stays packed).
    this.openOffsets[this.total - this.openLine] = offset
    this.total++
  }

  /** Lines from the next one on are of stream `kind` and arrived at `time`. */
  private addRun(kind: number, time: number): void {
    if (this.timeBase < 0) this.timeBase = time
    const t = clampTime(time - this.timeBase)
    const r = this.runEnd - 1
    if (r >= this.runHead && this.runKind[r] === kind && this.runTime[r] === t) return
    this.pushRun(this.total, kind, t)
  }

  private pushRun(line: number, kind: number, t: number): void {
    if (this.runEnd === this.runLine.length) this.growRuns()
    this.runLine[this.runEnd] = line
    this.runKind[this.runEnd] = kind
    this.runTime[this.runEnd] = t
    this.runEnd++
  }

  /** From `pos` of the open block on, text is in `style`. */
  private addChange(pos: number, style: number): void {
    const n = this.openChangePos.length
    if (n > 0 && this.openChangePos[n - 1] === pos) {
      // Two changes at one position: the later wins (and may fold back into the one before).
      this.openChangePos.pop()
      this.openChangeStyle.pop()
      if (style === this.lastStyle()) return
    }
    this.openChangePos.push(pos)
    this.openChangeStyle.push(style)
  }

  /**
   * Make the last line appendable again after {@link close}: it moves from the last sealed
   * block back into the open block, with its styles. For a line that turns out to go on (the
   * output skipped after it was loaded); a store is only ever reopened at its end.
   */
  reopenLast(): void {
    if (this.count === 0 || this.total > this.openLine) return
    const b = this.blocks.length - 1
    const a = this.total - 1
    const idx = this.index(b)
    const j = a - idx.firstLine
    const start = idx.lines[j]
    const text = this.blocks[b]
    const line = text.slice(start, text.length - 1)
    // The style the line starts in, and its changes, relative to it.
    let style = idx.entryStyle
    const pos: number[] = []
    const styles: number[] = []
    const kept: [number[], number[]] = [[], []]
    for (let c = 0; c < idx.changePos.length; c++) {
      const p = idx.changePos[c]
      if (p <= start) style = idx.changeStyle[c]
      if (p < start) {
        kept[0].push(p)
        kept[1].push(idx.changeStyle[c])
      } else if (p > start) {
        pos.push(p - start)
        styles.push(idx.changeStyle[c])
      }
    }
    this.forgetBlock(b)
    this.lastIndex = null
    const blockStart = this.blockStarts[b]
    if (start === 0) {
      // The block held only this line.
      this.blocks.pop()
      this.blockStarts.pop()
      this.blockLines.pop()
      this.blockStyles.pop()
      this.blockChanges.pop()
    } else {
      this.blocks[b] = text.slice(0, start)
      this.blockChanges[b] = encodeChanges(kept[0], kept[1])
    }
    this.openStart = blockStart + start
    this.openLine = a
    this.openStyle = style
    this.openChangePos = pos
    this.openChangeStyle = styles
    this.parts = line.length > 0 ? [line] : []
    this.src = null
    this.openLen = line.length
    this.openOffsets[0] = 0
  }

  /**
   * No line will be appended to or redrawn any more (a store left behind a gap, or one filled
   * from disk): the open block is sealed and spare room given back, so a store kept only to
   * be read costs nothing per line. New lines may still be added.
   */
  close(): void {
    if (this.total > this.openLine) {
      // A large block whose last line does not end where its range does (a frame cut the line
      // short): the lines before it are sealed as the range they are, the line alone.
      const ends = this.parts.length === 0 && this.src?.charCodeAt(this.srcTo) === 0x0a
      if (!ends && this.sealsAtBreak()) this.splitBeforeLastLine()
      this.addSeparator()
      this.openLen++
      this.seal()
    }
    this.openOffsets = []
    const live = this.runEnd - this.runHead
    this.runLine = this.runLine.slice(this.runHead, this.runEnd)
    this.runKind = this.runKind.slice(this.runHead, this.runEnd)
    this.runTime = this.runTime.slice(this.runHead, this.runEnd)
    this.runCursor = Math.max(0, this.runCursor - this.runHead)
    this.runHead = 0
    this.runEnd = live
  }

  // ---------------------------------------------------------------- dropping

  /** Drop the `n` oldest lines. */
  dropFront(n: number): void {
    n = Math.min(n, this.count)
    if (n <= 0) return
    const first = this.dropped + n
    if (this.cuts.size > 0) {
      if (this.cuts.size < n) {
        for (const a of this.cuts.keys()) if (a < first) this.cuts.delete(a)
      } else for (let a = this.dropped; a < first; a++) this.cuts.delete(a)
    }
    if (first === this.total) {
      this.dropAll()
      return
    }
    const start = this.startAbsolute(first)
    this.chars -= start - this.firstStart
    this.firstStart = start
    this.dropped = first
    while (this.runHead + 1 < this.runEnd && this.runLine[this.runHead + 1] <= first) this.runHead++
    // Free blocks that hold nothing but dropped lines.
    while (this.blockHead < this.blocks.length) {
      const next =
        this.blockHead + 1 < this.blocks.length
          ? this.blockLines[this.blockHead + 1]
          : this.openLine
      if (next > first) break
      this.forgetBlock(this.blockHead)
      this.blocks[this.blockHead] = ''
      this.blockChanges[this.blockHead] = null
      this.blockHead++
    }
    if (this.blockHead > 64 && this.blockHead * 2 > this.blocks.length) {
      const h = this.blockHead
      this.blocks = this.blocks.slice(h)
      this.blockStarts = this.blockStarts.slice(h)
      this.blockLines = this.blockLines.slice(h)
      this.blockStyles = this.blockStyles.slice(h)
      this.blockChanges = this.blockChanges.slice(h)
      this.blockHead = 0
      this.blockBase += h
    }
  }

  /** Every line dropped: the text goes too, and the next line starts a fresh open block. */
  private dropAll(): void {
    for (let b = this.blockHead; b < this.blocks.length; b++) this.forgetBlock(b)
    this.blockBase += this.blocks.length
    this.blocks = []
    this.blockStarts = []
    this.blockLines = []
    this.blockStyles = []
    this.blockChanges = []
    this.blockHead = 0
    this.openStart += this.openLen
    this.openLen = 0
    this.parts = []
    this.src = null
    this.openLine = this.total
    this.openStyle = PLAIN_STYLE
    this.openChangePos = []
    this.openChangeStyle = []
    this.firstStart = this.openStart
    this.runHead = this.runEnd = this.runCursor = 0
    this.dropped = this.total
    this.chars = 0
  }

  /**
   * The fewest oldest lines whose characters (separators included) add up to at least
   * `chars`; all lines when they hold fewer. What {@link dropFront} must drop to free them.
   */
  linesHolding(chars: number): number {
    if (chars <= 0) return 0
    if (chars >= this.chars) return this.count
    // Lines lie back to back: the answer is the first line starting at or after this offset.
    const target = this.firstStart + chars
    let a: number
    if (target >= this.openStart) {
      a =
        this.openLine +
        lowerBound(this.openOffsets, this.total - this.openLine, target - this.openStart)
    } else {
      const b = this.blockOfOffset(target)
      const idx = this.index(b)
      a = idx.firstLine + lowerBound(idx.lines, idx.lines.length, target - this.blockStarts[b])
    }
    return Math.min(a, this.total) - this.dropped
  }

  // ---------------------------------------------------------------- scanning

  /**
   * Every block of text with the range of lines starting in it, oldest first. Lines are
   * separated by `\n` inside a block; a block may begin with text of dropped lines.
   */
  forEachBlock(
    fn: (text: string, blockStart: number, firstLine: number, endLine: number) => boolean | void,
  ): void {
    for (let b = this.blockHead; b < this.blocks.length; b++) {
      const next = b + 1 < this.blocks.length ? this.blockLines[b + 1] : this.openLine
      if (next <= this.dropped) continue
      const first = Math.max(this.blockLines[b], this.dropped) - this.dropped
      if (fn(this.blocks[b], this.blockStarts[b], first, next - this.dropped) === false) return
    }
    const first = Math.max(this.openLine, this.dropped)
    if (this.total > first) {
      fn(this.openBlock(), this.openStart, first - this.dropped, this.count)
    }
  }

  /**
   * The block holding line `i`: its text, the store offset it starts at, and the first line
   * after `i` that is not in it (lines never span blocks).
   */
  blockAt(i: number): { text: string; start: number; endLine: number } {
    const a = this.dropped + i
    if (a >= this.openLine) {
      return { text: this.openBlock(), start: this.openStart, endLine: this.count }
    }
    const b = this.blockOfLine(a)
    const next = b + 1 < this.blocks.length ? this.blockLines[b + 1] : this.openLine
    return { text: this.blocks[b], start: this.blockStarts[b], endLine: next - this.dropped }
  }

  /**
   * Start offset of line `i` in the store's text (for mapping block matches to lines). The
   * first line of a block costs no scan.
   */
  startOf(i: number): number {
    return this.startAbsolute(this.dropped + i)
  }

  // ---------------------------------------------------------------- internals

  /** Store offset of absolute line `a`. */
  private startAbsolute(a: number): number {
    if (a >= this.openLine) return this.openStart + this.openOffsets[a - this.openLine]
    const b = this.blockOfLine(a)
    if (this.blockLines[b] === a) return this.blockStarts[b]
    return this.blockStarts[b] + this.index(b).lines[a - this.blockLines[b]]
  }

  /**
   * Length of absolute line `a`. Lines lie back to back in the text, each followed by a `\n`
   * separator, so a line's length is where the next one starts, less one.
   */
  private lenAt(a: number): number {
    if (a >= this.openLine) {
      const j = a - this.openLine
      return (a + 1 < this.total ? this.openOffsets[j + 1] - 1 : this.openLen) - this.openOffsets[j]
    }
    const idx = this.indexOfLine(a)
    const j = a - idx.firstLine
    const end =
      j + 1 < idx.lines.length
        ? idx.lines[j + 1] - 1
        : this.blocks[idx.block - this.blockBase].length - 1
    return end - idx.lines[j]
  }

  /** Run (stream and time) of absolute line `a`. */
  private runOf(a: number): number {
    const r = this.runCursor
    if (r >= this.runHead && r < this.runEnd && this.runLine[r] <= a) {
      if (r + 1 === this.runEnd || this.runLine[r + 1] > a) return r
      if (r + 2 === this.runEnd || this.runLine[r + 2] > a) return (this.runCursor = r + 1)
    }
    let lo = this.runHead
    let hi = this.runEnd - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.runLine[mid] <= a) lo = mid
      else hi = mid - 1
    }
    return (this.runCursor = lo)
  }

  private openBlock(): string {
    if (this.parts.length === 0) {
      return this.src === null ? '' : piece(this.src, this.srcFrom, this.srcTo)
    }
    this.flushRange()
    if (this.parts.length > 1) this.parts = [this.parts.join('')]
    return this.parts[0]
  }

  /**
   * The open block's text to keep as a block: a range that is (nearly) all of its string is
   * kept as a slice of it, without a copy; any other block is a string of its own, since a
   * slice keeps all of the string it is cut from alive.
   */
  private sealedText(): string {
    if (this.parts.length > 0 || this.src === null) return this.openBlock()
    const len = this.srcTo - this.srcFrom
    if (this.src.length - len <= this.src.length / RANGE_SPARE_SHARE) {
      return piece(this.src, this.srcFrom, this.srcTo)
    }
    const mid = this.srcFrom + (len >> 1)
    return [this.src.slice(this.srcFrom, mid), this.src.slice(mid, this.srcTo)].join('')
  }

  private seal(): void {
    this.blocks.push(this.sealedText())
    this.blockStarts.push(this.openStart)
    this.blockLines.push(this.openLine)
    this.blockStyles.push(this.openStyle)
    this.blockChanges.push(encodeChanges(this.openChangePos, this.openChangeStyle))
    this.openStyle = this.lastStyle()
    this.openChangePos = []
    this.openChangeStyle = []
    this.openStart += this.openLen
    this.openLen = 0
    this.parts = []
    this.src = null
    this.straddling = false
    this.openLine = this.total
  }

  /** Sealed block holding absolute line `a` (which is before the open block). */
  private blockOfLine(a: number): number {
    let lo = this.blockHead
    let hi = this.blocks.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.blockLines[mid] <= a) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /** Sealed block holding store offset `offset` (which is before the open block). */
  private blockOfOffset(offset: number): number {
    let lo = this.blockHead
    let hi = this.blocks.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.blockStarts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /** Index of the sealed block holding absolute line `a`. */
  private indexOfLine(a: number): BlockIndex {
    const last = this.lastIndex
    if (last && a >= last.firstLine && a < last.firstLine + last.lines.length) return last
    return this.index(this.blockOfLine(a))
  }

  /** Index of sealed block `b`, from the cache or by scanning it. */
  private index(b: number): BlockIndex {
    let idx = this.indexes.get(this.blockBase + b)
    if (idx) touch(idx)
    else remember((idx = this.scan(b)))
    this.lastIndex = idx
    return idx
  }

  private forgetBlock(b: number): void {
    const idx = this.indexes.get(this.blockBase + b)
    if (idx) forget(idx)
  }

  /** Find the line starts of sealed block `b` (about 256 KiB of text) and decode its styles. */
  private scan(b: number): BlockIndex {
    const text = this.blocks[b]
    const firstLine = this.blockLines[b]
    const endLine = b + 1 < this.blocks.length ? this.blockLines[b + 1] : this.openLine
    const n = endLine - firstLine
    const lines = n > 0 ? [0] : []
    for (let j = 1, p = 0; j < n; j++) {
      p = text.indexOf('\n', p) + 1
      lines.push(p)
    }
    const [changePos, changeStyle] = decodeChanges(this.blockChanges[b])
    return {
      block: this.blockBase + b,
      firstLine,
      lines,
      changePos,
      changeStyle,
      entryStyle: this.blockStyles[b],
      home: this.indexes,
    }
  }

  private growRuns(): void {
    const live = this.runEnd - this.runHead
    if (this.runHead > 0 && live * 2 <= this.runLine.length) {
      this.runLine.copyWithin(0, this.runHead, this.runEnd)
      this.runKind.copyWithin(0, this.runHead, this.runEnd)
      this.runTime.copyWithin(0, this.runHead, this.runEnd)
    } else {
      const cap = Math.max(INITIAL_RUNS, live * 2)
      this.runLine = copyInto(new Float64Array(cap), this.runLine, this.runHead, this.runEnd)
      this.runKind = copyInto(new Uint8Array(cap), this.runKind, this.runHead, this.runEnd)
      this.runTime = copyInto(new Uint32Array(cap), this.runTime, this.runHead, this.runEnd)
    }
    this.runCursor = Math.max(0, this.runCursor - this.runHead)
    this.runEnd = live
    this.runHead = 0
  }
}

function clampTime(delta: number): number {
  return delta < 0 ? 0 : delta > MAX_TIME_DELTA ? MAX_TIME_DELTA : delta
}

function piece(text: string, from: number, to: number): string {
  return from === 0 && to === text.length ? text : text.slice(from, to)
}

/** Index of the first of `values[0, n)` (ascending) at or above `v`, or `n`. */
function lowerBound(values: ArrayLike<number>, n: number, v: number): number {
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (values[mid] < v) lo = mid + 1
    else hi = mid
  }
  return lo
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

/**
 * A block's style changes, encoded: their count, then per change the distance from the one
 * before (from the block's start for the first) and the style, each a base-128 varint, one
 * byte per character of a string (which V8 keeps at one byte per character, as compact as a
 * typed array, and in the JS heap: see {@link LineStore}). A change every few characters
 * costs about two bytes.
 */
function encodeChanges(pos: readonly number[], style: readonly number[]): string | null {
  const n = pos.length
  if (n === 0) return null
  const out: number[] = []
  putVarint(out, n)
  for (let i = 0, prev = 0; i < n; prev = pos[i], i++) {
    putVarint(out, pos[i] - prev)
    putVarint(out, style[i])
  }
  const pieces: string[] = []
  for (let i = 0; i < out.length; i += VARINT_PIECE) {
    pieces.push(String.fromCharCode(...out.slice(i, i + VARINT_PIECE)))
  }
  return pieces.join('')
}

/** Bytes turned into a string at a time (a spread argument list has a bounded length). */
const VARINT_PIECE = 8192

function decodeChanges(bytes: string | null): [number[], number[]] {
  if (!bytes) return [NO_CHANGES, NO_CHANGES]
  let at = 0
  const read = (): number => {
    let v = 0
    let scale = 1
    let b: number
    do {
      b = bytes.charCodeAt(at++)
      v += (b & 0x7f) * scale
      scale *= 128
    } while (b & 0x80)
    return v
  }
  const n = read()
  const pos: number[] = []
  const style: number[] = []
  for (let i = 0, p = 0; i < n; i++) {
    p += read()
    pos.push(p)
    style.push(read())
  }
  return [pos, style]
}

function putVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 128) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
}
