/**
 * Output lives here, outside React state: a flood of output must cost O(chunk) to store and
 * O(visible rows) to show, never a copy of the whole history per update. The zustand store
 * only holds a revision number per process that says "this buffer changed".
 *
 * A buffer is a list of segments: runs of lines (each a compact {@link LineStore}) and gap
 * markers where output was skipped (a slow view the host caught up, or output the host had
 * already dropped). Loading a gap from the run's log on disk splices a new run of lines in
 * its place. New output always goes to the last segment.
 */
import {
  isOwnStream,
  type OutputChunk,
  type OutputSnapshot,
  type OutputStream,
  type ProcessId,
} from '../../../shared/contract'
import { frameTextOf } from '../../../shared/wire'
import { createAnsiState, parseAnsi, PLAIN_STYLE, type AnsiState } from './ansi'
import { formatBytes } from '../../../shared/describe'
import {
  KIND_STDERR,
  KIND_STDIN,
  KIND_STDOUT,
  KIND_SYSTEM,
  LineStore,
  type CutInfo,
} from './line-store'

/** Lines kept per process before the oldest are dropped. */
export const MAX_LINES = 10_000_000
/** Characters kept per process (UTF-16 code units) before the oldest lines are dropped. */
export const MAX_CHARS = 64 * 1024 * 1024
/** Longest text shown for one line; the rest is counted, not kept. */
export const MAX_LINE_CHARS = 64 * 1024

/** What a row shows: a line of a stream, or a marker where output was skipped. */
export type RowKind = OutputStream | 'gap'

/** Stream names by stored kind. */
export const KIND_NAMES: readonly OutputStream[] = ['stdout', 'stderr', 'system', 'stdin']

/** One displayed line (a copy; reading it does not keep the buffer's text alive). */
export interface OutputLine {
  kind: RowKind
  text: string
  /** Characters beyond {@link MAX_LINE_CHARS} that were not kept. */
  cut: number
}

/** A place where output was skipped; the chunks with `afterSeq < seq < beforeSeq` are missing. */
export interface GapMarker {
  afterSeq: number
  beforeSeq: number
  /** Characters skipped, when the host's counters allow knowing it. */
  chars: number | null
  /** At the very start of the buffer (output before the first chunk this page saw). */
  leading: boolean
  /**
   * Kind of the line before the marker when that line was still open (no newline yet) as the
   * output was skipped: what is loaded for the marker continues it. -1 (or absent) if none.
   */
  openKind?: number
  loading: boolean
  error: string | null
}

/** Output still missing before chunks read back for a gap (the read was limited). */
export interface GapRemaining {
  beforeSeq: number
  chars: number | null
}

/** A gap being replaced by chunks read back from disk, a step at a time. */
export interface GapSplice {
  /**
   * Lay out more of the chunks, until `deadline` on the clock `now` (`performance.now` unless
   * given) and at least one piece. Returns true once everything is spliced in.
   */
  step(deadline: number, now?: () => number): boolean
}

/** Largest piece of a chunk laid out at once when splicing a gap a step at a time. */
export const SPLICE_PIECE_CHARS = 16 * 1024

/** Where a row is: line `index` of `store`, or a gap marker. */
export type RowRef =
  { store: LineStore; index: number; gap?: undefined } | { gap: GapMarker; store?: undefined }

type Segment = { store: LineStore; gap?: undefined } | { gap: GapMarker; store?: undefined }

interface StreamState {
  /** Absolute line number (in the writer's store) this stream is still writing, or -1. */
  open: number
  /** The last chunk ended in `\r`: a following `\n` ends the line, anything else overwrites it. */
  pendingCr: boolean
  ansi: AnsiState
  /** Style in effect at the stream's current write position. */
  style: number
}

const KIND_OF: Record<OutputStream, number> = {
  stdout: KIND_STDOUT,
  stderr: KIND_STDERR,
  system: KIND_SYSTEM,
  stdin: KIND_STDIN,
}

/**
 * Turns one process's chunks into lines of a store: per-stream ANSI state, `\r` redraws, a
 * stream's unterminated line continuing across chunks, and the line cap.
 */
export class LineWriter {
  private readonly streams: Record<OutputStream, StreamState> = {
    stdout: newStreamState(),
    stderr: newStreamState(),
    system: newStreamState(),
    stdin: newStreamState(),
  }

  constructor(public store: LineStore) {}

  /** Continue in another store (after a gap): open lines end, styles carry on. */
  retarget(store: LineStore): void {
    this.store = store
    this.closeLines()
  }

  closeLines(): void {
    for (const st of Object.values(this.streams)) {
      st.open = -1
      st.pendingCr = false
    }
  }

  /**
   * Write a chunk, or a piece of one (its characters `[from, to)`; the piece that ends the
   * chunk is its last). Pieces continue exactly where the one before stopped, as consecutive
   * chunks of a stream do, so writing a chunk in pieces gives the same lines.
   */
  write(chunk: OutputChunk, from = 0, to = chunk.data.length): void {
    const data = from === 0 && to === chunk.data.length ? chunk.data : chunk.data.slice(from, to)
    const last = to === chunk.data.length
    const st = this.streams[chunk.stream]
    const { text, changes } = parseAnsi(data, st.ansi)
    // Text kept as written (no escapes) is a slice of the chunk's text, or of its frame's:
    // the store keeps consecutive pieces of it as one slice (see LineStore.useSource).
    if (text === data) {
      const frame = frameTextOf(chunk)
      if (frame) this.store.useSource(text, frame.text, frame.offset + from)
      else this.store.useSource(text, chunk.data, from)
    }
    this.writeText(KIND_OF[chunk.stream], st, text, changes, chunk.time, chunk.seq)
    this.store.useSource(null)
    // Corral's own lines (and what was typed) are whole lines even if one lacks its newline.
    if (isOwnStream(chunk.stream) && last) st.open = -1
  }

  private writeText(
    kind: number,
    st: StreamState,
    text: string,
    changes: number[] | null,
    time: number,
    seq: number,
  ): void {
    const n = text.length
    let ci = 0
    /** Apply every style change at or before `pos`. */
    const stylesUpTo = (pos: number): void => {
      if (!changes) return
      while (ci < changes.length && changes[ci] <= pos) {
        st.style = changes[ci + 1]
        ci += 2
      }
    }
    if (n === 0) {
      // Nothing but escape sequences: their style still applies to what follows.
      stylesUpTo(0)
      return
    }
    if (st.pendingCr) {
      st.pendingCr = false
      if (text.charCodeAt(0) !== 0x0a && this.isOpen(st)) this.store.resetLast(time, seq)
    }
    let nextCr = text.indexOf('\r')
    let i = 0
    while (i < n) {
      if (changes === null && st.style === PLAIN_STYLE && !this.isOpen(st)) {
        // Whole plain lines up to the next `\r` go in at once (the usual case by far).
        const last = text.lastIndexOf('\n', (nextCr < 0 ? n : nextCr) - 1)
        if (last >= i) {
          this.store.pushLines(text, i, last + 1, kind, time, seq)
          st.open = -1
          i = last + 1
          continue
        }
      }
      const nl = text.indexOf('\n', i)
      const end = nl < 0 ? n : nl
      let segEnd = end
      if (nl >= 0) {
        if (segEnd > i && text.charCodeAt(segEnd - 1) === 0x0d) segEnd--
      } else if (text.charCodeAt(n - 1) === 0x0d) {
        st.pendingCr = true
        segEnd = n - 1
      }
      // A lone carriage return redraws the line (progress bars): keep what follows the last one.
      let segStart = i
      let redraw = false
      while (nextCr >= 0 && nextCr < segEnd) {
        redraw = true
        segStart = nextCr + 1
        nextCr = text.indexOf('\r', nextCr + 1)
      }
      if (nextCr >= 0 && nextCr <= end) nextCr = text.indexOf('\r', end + 1)
      if (nl >= 0 || segEnd > i || redraw) {
        this.ensureLine(kind, st, time, seq)
        if (redraw) this.store.resetLast(time, seq)
        stylesUpTo(segStart)
        let pos = segStart
        while (pos < segEnd) {
          let next = segEnd
          if (changes && ci < changes.length && changes[ci] < segEnd) next = changes[ci]
          this.store.append(text, pos, next, st.style, seq)
          pos = next
          stylesUpTo(pos)
        }
      }
      if (nl >= 0) st.open = -1
      i = end + 1
    }
    stylesUpTo(n)
  }

  /**
   * Kind of the stream still writing the store's last line (no newline yet, no `\r` pending),
   * or -1: text that follows on that stream continues that line.
   */
  openLastKind(): number {
    for (const stream of KIND_NAMES) {
      const st = this.streams[stream]
      if (this.isOpen(st) && !st.pendingCr) return KIND_OF[stream]
    }
    return -1
  }

  /** Whether a stream is still writing absolute line `line` of the store. */
  writesLine(line: number): boolean {
    return Object.values(this.streams).some((st) => st.open === line && this.isOpen(st))
  }

  /**
   * Go on in `store`, whose last line now holds the line a stream was still writing here (a
   * loaded gap was joined to it): that stream continues it, styles and a pending `\r` carry on.
   */
  continueIn(store: LineStore): void {
    // The line moved was this store's last (or, the store now empty, the one it had).
    const last = this.store.dropped + this.store.count - 1
    for (const st of Object.values(this.streams)) {
      st.open = st.open === last ? store.dropped + store.count - 1 : -1
    }
    this.store = store
  }

  private isOpen(st: StreamState): boolean {
    const s = this.store
    return st.open >= 0 && st.open === s.dropped + s.count - 1
  }

  private ensureLine(kind: number, st: StreamState, time: number, seq: number): void {
    if (this.isOpen(st)) return
    this.store.pushLine(kind, time, seq)
    st.open = this.store.dropped + this.store.count - 1
  }
}

function newStreamState(): StreamState {
  return { open: -1, pendingCr: false, ansi: createAnsiState(), style: PLAIN_STYLE }
}

/** The displayable output of one process: bounded lines plus sequence bookkeeping. */
export class ProcessOutput {
  private segs: Segment[]
  private readonly writer: LineWriter
  /** Rows dropped or cleared before row 0, so row keys stay stable. */
  private rowBase = 0
  /** Characters the host had produced through {@link lastSeq}; -1 while unknown. */
  private seenChars = -1
  /** The chunk applied last when only part of it has been applied so far, else null. */
  private partOf: OutputChunk | null = null
  /** End of the part of {@link partOf} applied so far. */
  private partEnd = 0
  /** Sequence number of the last applied chunk; -1 before any. */
  lastSeq = -1
  /** Lines this buffer dropped to stay within its bounds. */
  droppedLines = 0
  /** Earlier output is missing and cannot be loaded from here. */
  earlierOutputLost = false
  /** Longest kept line, for the horizontal scroll extent. Only grows (until cleared). */
  maxLineChars = 0
  /**
   * Bumped whenever rows change other than by appending at the end or dropping from the
   * front (a gap loaded, the view cleared): indexes built over rows must be rebuilt.
   */
  structure = 0

  constructor(
    private readonly maxLines: number = MAX_LINES,
    private readonly maxChars: number = MAX_CHARS,
    private readonly lineCap: number = MAX_LINE_CHARS,
  ) {
    const store = new LineStore(lineCap)
    this.segs = [{ store }]
    this.writer = new LineWriter(store)
  }

  /** Number of rows below the top marker: lines and gap markers. */
  get lineCount(): number {
    let n = 0
    for (const s of this.segs) n += s.store ? s.store.count : 1
    return n
  }

  /** Whether row 0 is the "earlier output not kept" marker. */
  get hasTopMarker(): boolean {
    return this.droppedLines > 0 || this.earlierOutputLost
  }

  /** Rows to display: the top marker (if any) plus every kept line and gap marker. */
  get rowCount(): number {
    return this.lineCount + (this.hasTopMarker ? 1 : 0)
  }

  /** Text of the top marker row. */
  topMarkerText(): string {
    if (this.droppedLines > 0) {
      const n = this.droppedLines
      return `${n.toLocaleString('en-US')} earlier ${n === 1 ? 'line' : 'lines'} not kept`
    }
    return 'Earlier output not kept'
  }

  /** Where row `index` (0 = oldest, top marker not counted) is. */
  locate(index: number): RowRef {
    for (const s of this.segs) {
      if (s.gap) {
        if (index === 0) return { gap: s.gap }
        index--
      } else {
        if (index < s.store.count) return { store: s.store, index }
        index -= s.store.count
      }
    }
    throw new RangeError(`No row ${index}`)
  }

  /** Call `fn` for every segment with the row index it starts at. */
  forEachSegment(
    fn: (ref: { store?: LineStore; gap?: GapMarker }, firstRow: number) => boolean | void,
  ): void {
    let row = 0
    for (const s of this.segs) {
      if (fn(s, row) === false) return
      row += s.store ? s.store.count : 1
    }
  }

  /** The row at `index` as a plain object (tests, exports, compatibility). */
  line(index: number): OutputLine {
    const ref = this.locate(index)
    if (ref.gap) return { kind: 'gap', text: gapText(ref.gap), cut: 0 }
    const { store, index: i } = ref
    return { kind: KIND_NAMES[store.kind(i)], text: store.text(i), cut: store.cut(i) }
  }

  /** A stable key for the row at `index`, unaffected by dropping older rows. */
  lineKey(index: number): number {
    return this.rowBase + index
  }

  /** Absolute number of row 0 (keys and indexes over rows use `rowBase + index`). */
  get firstRowKey(): number {
    return this.rowBase
  }

  /** Apply one chunk; chunks at or below {@link lastSeq} are skipped. Returns whether it applied. */
  apply(chunk: OutputChunk): boolean {
    return this.applyPart(chunk, 0, chunk.data.length)
  }

  /**
   * Apply the characters `[from, to)` of a chunk, so that a large chunk can be taken in
   * several steps. The first piece (`from` 0) is skipped like {@link apply} skips a chunk at
   * or below {@link lastSeq}; a later piece continues the chunk applied last and is skipped
   * unless that chunk is this one. Returns whether the piece applied.
   */
  applyPart(chunk: OutputChunk, from: number, to: number): boolean {
    if (from === 0) {
      if (chunk.seq <= this.lastSeq) return false
      if (this.lastSeq < 0 && chunk.seq === 0) this.seenChars = 0
      this.lastSeq = chunk.seq
    } else if (chunk.seq !== this.lastSeq || this.partOf !== chunk || from !== this.partEnd) {
      return false
    }
    const end = Math.min(to, chunk.data.length)
    this.partOf = end < chunk.data.length ? chunk : null
    this.partEnd = end
    if (this.seenChars >= 0) this.seenChars += end - from
    this.writer.write(chunk, from, end)
    const max = this.writer.store.maxLen
    if (max > this.maxLineChars) this.maxLineChars = max
    this.enforceBounds()
    return true
  }

  /**
   * Apply a snapshot from `output(id, afterSeq)`. A snapshot that starts after the next
   * expected chunk means output was skipped in between, which gets a gap marker that can load
   * it from disk.
   */
  applySnapshot(snapshot: OutputSnapshot): void {
    this.beginSnapshot(snapshot)
    for (const chunk of snapshot.chunks) this.apply(chunk)
  }

  /**
   * The first half of {@link applySnapshot}: mark the output missing before the snapshot's
   * chunks (if any), which then apply in order like live chunks (possibly a few at a time).
   */
  beginSnapshot(snapshot: OutputSnapshot): void {
    this.partOf = null
    if (this.lastSeq < 0 && this.lineCount === 0) {
      if (snapshot.droppedChars > 0 && snapshot.firstSeq > 0) {
        this.insertGap(-1, snapshot.firstSeq, snapshot.droppedChars, true)
      }
      this.seenChars = snapshot.droppedChars
    } else if (snapshot.firstSeq > this.lastSeq + 1 && snapshot.chunks.length > 0) {
      const missed = this.seenChars >= 0 ? snapshot.droppedChars - this.seenChars : -1
      this.insertGap(this.lastSeq, snapshot.firstSeq, missed > 0 ? missed : null, false)
      this.seenChars = snapshot.droppedChars
    }
  }

  /**
   * Output before `beforeSeq` (after {@link lastSeq}) was skipped and its size is not known:
   * a gap marker takes its place, loadable from disk like any other.
   */
  markSkipped(beforeSeq: number): void {
    if (beforeSeq <= this.lastSeq + 1) return
    this.partOf = null
    this.insertGap(this.lastSeq, beforeSeq, null, this.lastSeq < 0 && this.lineCount === 0)
    this.seenChars = -1
  }

  /** Characters of text kept (line separators included), for memory diagnostics. */
  get keptChars(): number {
    let chars = 0
    for (const s of this.segs) if (s.store) chars += s.store.chars
    return chars
  }

  /** Record skipped output before everything that follows. */
  private insertGap(
    afterSeq: number,
    beforeSeq: number,
    chars: number | null,
    leading: boolean,
  ): void {
    const openKind = this.writer.openLastKind()
    let gap: GapMarker = {
      afterSeq,
      beforeSeq,
      chars,
      leading,
      openKind,
      loading: false,
      error: null,
    }
    const store = new LineStore(this.lineCap)
    const live = this.segs[this.segs.length - 1]
    if (live.store && live.store.count === 0) {
      this.segs.pop()
      // Nothing came since the marker before (its output was skipped in turn): one marker
      // for both stretches, so that what is loaded for it joins the lines cut at both edges.
      // Two markers side by side each closed the line they cut, and it came back in two.
      const before = this.segs[this.segs.length - 1]?.gap
      if (before && !before.loading && before.beforeSeq - 1 === afterSeq) {
        this.segs.pop()
        gap = {
          ...before,
          beforeSeq,
          chars: before.chars !== null && chars !== null ? before.chars + chars : null,
        }
      }
    }
    // Only new output is written from here on, to the new store (a line left open there is
    // reopened if what is loaded for the marker continues it).
    else live.store?.close()
    this.segs.push({ gap }, { store })
    this.writer.retarget(store)
    this.lastSeq = Math.max(this.lastSeq, beforeSeq - 1)
  }

  /** The newest gap marker and the number of rows after it; null when there is none. */
  newestGap(): { gap: GapMarker; rowsAfter: number } | null {
    let rowsAfter = 0
    for (let i = this.segs.length - 1; i >= 0; i--) {
      const s = this.segs[i]
      if (s.gap) return { gap: s.gap, rowsAfter }
      rowsAfter += s.store.count
    }
    return null
  }

  /** The gap markers in row order. */
  gaps(): GapMarker[] {
    const out: GapMarker[] = []
    for (const s of this.segs) if (s.gap) out.push(s.gap)
    return out
  }

  /**
   * Replace `gap` with the chunks read back for it. `remaining` describes output still
   * missing before them (the read was limited), which keeps a smaller marker.
   */
  spliceGap(gap: GapMarker, chunks: readonly OutputChunk[], remaining: GapRemaining | null): void {
    this.beginSplice(gap, chunks, remaining, Infinity).step(Infinity)
  }

  /**
   * {@link spliceGap} a step at a time: megabytes read back from disk take a good part of a
   * second to lay out as lines, which as one task would freeze the page. The lines are built
   * aside, in pieces of `pieceChars` of a chunk (with the same result as whole chunks), and
   * put in place of the marker in the last step; output arriving meanwhile goes on as usual.
   * Should the marker be gone by then (dropped to stay within bounds, or cleared), nothing is
   * spliced.
   */
  beginSplice(
    gap: GapMarker,
    chunks: readonly OutputChunk[],
    remaining: GapRemaining | null,
    pieceChars = SPLICE_PIECE_CHARS,
  ): GapSplice {
    if (!this.segs.some((s) => s.gap === gap)) return { step: () => true }
    const { afterSeq, beforeSeq } = gap
    const store = new LineStore(this.lineCap)
    const writer = new LineWriter(store)
    let next = 0
    let offset = 0
    let done = false
    const step = (deadline: number, now: () => number = () => performance.now()): boolean => {
      if (done) return true
      while (next < chunks.length) {
        const c = chunks[next]
        if (c.seq > afterSeq && c.seq < beforeSeq) {
          const end = Math.min(c.data.length, offset + pieceChars)
          writer.write(c, offset, end)
          if (end < c.data.length) offset = end
          else {
            next++
            offset = 0
          }
        } else next++
        if (next < chunks.length && deadline !== Infinity && now() >= deadline) return false
      }
      done = true
      this.finishSplice(gap, store, writer, remaining)
      return true
    }
    return { step }
  }

  private finishSplice(
    gap: GapMarker,
    store: LineStore,
    writer: LineWriter,
    remaining: GapRemaining | null,
  ): void {
    const at = this.segs.findIndex((s) => s.gap === gap)
    if (at < 0) return
    // Output is skipped at chunk boundaries, which fall mid-line: a line cut by the marker is
    // joined back together at both edges of what was loaded, so it reads (and is found by a
    // search) as the program wrote it.
    const next = this.segs[at + 1]?.store
    const openKind = writer.openLastKind()
    /** The loaded store now holds the line still being written: it is the live one now. */
    let live = false
    if (
      openKind >= 0 &&
      next &&
      next.dropped === 0 &&
      next.count > 0 &&
      next.kind(0) === openKind
    ) {
      live = next === this.writer.store && this.writer.writesLine(0)
      appendLine(store, next, 0, gap.beforeSeq)
      next.dropFront(1)
      if (live) {
        this.segs.splice(at + 1, 1)
        this.writer.continueIn(store)
      } else if (next.count === 0 && next !== this.writer.store) this.segs.splice(at + 1, 1)
    }
    const prev = this.segs[at - 1]?.store
    if (
      !remaining &&
      (gap.openKind ?? -1) >= 0 &&
      prev &&
      prev.count > 0 &&
      store.count > 0 &&
      store.kind(0) === gap.openKind
    ) {
      prev.reopenLast()
      appendLine(prev, store, 0, gap.afterSeq + 1)
      store.dropFront(1)
      if (prev.maxLen > this.maxLineChars) this.maxLineChars = prev.maxLen
      if (live && store.count === 0) {
        // The loaded store was only that line: the one still being written is prev's now.
        this.writer.continueIn(prev)
      } else prev.close()
    }
    if (!live) store.close()
    const replacement: Segment[] = []
    if (remaining) {
      replacement.push({
        gap: {
          ...gap,
          beforeSeq: remaining.beforeSeq,
          chars: remaining.chars,
          loading: false,
          error: null,
        },
      })
    }
    if (store.count > 0) replacement.push({ store })
    this.segs.splice(at, 1, ...replacement)
    if (this.segs.length === 0 || !this.segs[this.segs.length - 1].store) {
      // The writer's store was the one after the gap; keep it last.
      this.segs.push({ store: this.writer.store })
    }
    if (store.maxLen > this.maxLineChars) this.maxLineChars = store.maxLen
    this.structure++
    this.enforceBounds()
  }

  /** Empty the view; output that arrives later is shown as usual. */
  clear(): void {
    this.rowBase += this.lineCount
    const store = new LineStore(this.lineCap)
    this.segs = [{ store }]
    this.writer.retarget(store)
    this.droppedLines = 0
    this.earlierOutputLost = false
    this.maxLineChars = 0
    this.structure++
  }

  private enforceBounds(): void {
    let lines = 0
    let chars = 0
    for (const s of this.segs) {
      if (s.store) {
        lines += s.store.count
        chars += s.store.chars
      }
    }
    if (lines <= this.maxLines && chars <= this.maxChars) return
    while ((lines > this.maxLines || chars > this.maxChars) && lines > 1) {
      const first = this.segs[0]
      const last = this.segs.length === 1
      if (first.gap) {
        // Older than anything kept: it goes first, and what it stood for is lost here.
        this.segs.shift()
        this.rowBase++
        this.earlierOutputLost = true
        continue
      }
      const store = first.store
      // The fewest oldest lines that bring both counts within bounds (the last store keeps one).
      let drop = Math.max(0, lines - this.maxLines)
      if (chars > this.maxChars) drop = Math.max(drop, store.linesHolding(chars - this.maxChars))
      drop = Math.max(0, Math.min(drop, store.count - (last ? 1 : 0)))
      const before = store.chars
      store.dropFront(drop)
      const freed = before - store.chars
      lines -= drop
      chars -= freed
      this.rowBase += drop
      this.droppedLines += drop
      if (store.count === 0 && !last) this.segs.shift()
      else if (drop === 0) break
    }
  }
}

/**
 * Append the text of line `i` of `src`, with its styles, to the last line of `dst` (which is
 * still open). `seq` is where the text came from, for a line cut at the cap.
 */
function appendLine(dst: LineStore, src: LineStore, i: number, seq: number): void {
  const text = src.text(i)
  const runs = src.runs(i)
  let pos = 0
  let style = PLAIN_STYLE
  for (let r = 0; r <= runs.length; r += 2) {
    const end = r < runs.length ? runs[r] : text.length
    if (end > pos) dst.append(text, pos, end, style, seq)
    if (r < runs.length) {
      pos = Math.max(pos, end)
      style = runs[r + 1]
    }
  }
}

/** What a gap marker row says. */
export function gapText(gap: GapMarker): string {
  const size = gap.chars === null ? null : formatSize(gap.chars)
  if (gap.leading) return size ? `${size} of earlier output not shown` : 'Earlier output not shown'
  return size ? `${size} of output not shown` : 'Some output not shown'
}

/** Sizes for people (characters of mostly ASCII text are about bytes): `812 bytes`, `4.2 KB`. */
export function formatSize(n: number): string {
  if (n < 1024) return `${n.toLocaleString('en-US')} ${n === 1 ? 'byte' : 'bytes'}`
  return formatBytes(n)
}

export type { CutInfo }

/** The per-process buffers of this page. */
export class OutputBuffers {
  private readonly map = new Map<ProcessId, ProcessOutput>()

  /** The buffer of `id`, created empty on first use. */
  get(id: ProcessId): ProcessOutput {
    let buf = this.map.get(id)
    if (!buf) {
      buf = new ProcessOutput()
      this.map.set(id, buf)
    }
    return buf
  }

  /** The buffer of `id` if one exists. */
  peek(id: ProcessId): ProcessOutput | undefined {
    return this.map.get(id)
  }

  delete(id: ProcessId): void {
    this.map.delete(id)
  }

  ids(): ProcessId[] {
    return [...this.map.keys()]
  }
}

/** The buffers behind this page's UI. */
export const outputBuffers = new OutputBuffers()
