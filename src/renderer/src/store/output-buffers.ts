/**
 * Output lives here, outside React state: a flood of output must cost O(chunk) to store and
 * O(visible rows) to show, never a copy of the whole history per update. The zustand store
 * only holds a revision number per process that says "this buffer changed".
 */
import type { OutputChunk, OutputSnapshot, OutputStream, ProcessId } from '../../../shared/contract'
import { createAnsiState, stripAnsi, type AnsiState } from './ansi'

/** Lines kept per process before the oldest are dropped. */
export const MAX_LINES = 100_000
/** Characters kept per process (UTF-16 code units) before the oldest lines are dropped. */
export const MAX_CHARS = 32 * 1024 * 1024
/** Longest text shown for one line; the rest is counted, not kept. */
export const MAX_LINE_CHARS = 64 * 1024

/** What a row shows: a line of a stream, or a marker where the host dropped output. */
export type RowKind = OutputStream | 'gap'

/** One displayed line. Mutable only while it is a stream's open (unterminated) line. */
export interface OutputLine {
  kind: RowKind
  text: string
  /** Characters beyond {@link MAX_LINE_CHARS} that were not kept. */
  cut: number
}

interface StreamState {
  /** The line this stream is still writing (no newline yet), if any. */
  open: OutputLine | null
  /** The last chunk ended in `\r`: a following `\n` ends the line, anything else overwrites it. */
  pendingCr: boolean
  ansi: AnsiState
}

const COMPACT_MIN = 4096

/** The displayable output of one process: bounded lines plus sequence bookkeeping. */
export class ProcessOutput {
  private lines: OutputLine[] = []
  /** Index of the oldest kept line in `lines`; dropping advances it instead of shifting. */
  private head = 0
  private chars = 0
  private readonly streams: Record<OutputStream, StreamState> = {
    stdout: newStreamState(),
    stderr: newStreamState(),
    system: newStreamState(),
  }
  /** Sequence number of the last applied chunk; -1 before any. */
  lastSeq = -1
  /** Lines this buffer dropped to stay within its bounds. */
  droppedLines = 0
  /** The host had already dropped output before the first chunk this buffer saw. */
  earlierOutputLost = false
  /** Longest kept line, for the horizontal scroll extent. Only grows. */
  maxLineChars = 0

  constructor(
    private readonly maxLines: number = MAX_LINES,
    private readonly maxChars: number = MAX_CHARS,
  ) {}

  /** Number of kept lines (the top marker not included). */
  get lineCount(): number {
    return this.lines.length - this.head
  }

  /** Whether row 0 is the "earlier output not kept" marker. */
  get hasTopMarker(): boolean {
    return this.droppedLines > 0 || this.earlierOutputLost
  }

  /** Rows to display: the top marker (if any) plus every kept line. */
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

  /** The kept line at `index` (0 = oldest kept). */
  line(index: number): OutputLine {
    return this.lines[this.head + index]
  }

  /** A stable key for the line at `index`, unaffected by dropping older lines. */
  lineKey(index: number): number {
    return this.droppedLines + index
  }

  /** Apply one chunk; chunks at or below {@link lastSeq} are skipped. Returns whether it applied. */
  apply(chunk: OutputChunk): boolean {
    if (chunk.seq <= this.lastSeq) return false
    this.lastSeq = chunk.seq
    const st = this.streams[chunk.stream]
    const text = stripAnsi(chunk.data, st.ansi)
    this.write(chunk.stream, st, text)
    // Corral's own lines are whole lines even if one lacks its newline.
    if (chunk.stream === 'system') st.open = null
    this.enforceBounds()
    return true
  }

  /**
   * Apply a snapshot from `output(id, afterSeq)`. A snapshot that starts after the next
   * expected chunk means the host dropped output in between, which gets a marker row.
   */
  applySnapshot(snapshot: OutputSnapshot): void {
    if (this.lastSeq < 0 && this.lineCount === 0) {
      if (snapshot.droppedChars > 0) this.earlierOutputLost = true
    } else if (snapshot.firstSeq > this.lastSeq + 1 && snapshot.chunks.length > 0) {
      const missed = snapshot.firstSeq - this.lastSeq - 1
      this.closeOpenLines()
      this.pushLine({
        kind: 'gap',
        text: `${missed} ${missed === 1 ? 'chunk' : 'chunks'} of output not kept`,
        cut: 0,
      })
    }
    for (const chunk of snapshot.chunks) this.apply(chunk)
  }

  private write(stream: OutputStream, st: StreamState, text: string): void {
    if (text.length === 0) return
    let start = 0
    if (st.pendingCr) {
      st.pendingCr = false
      if (text.charCodeAt(0) !== 0x0a && st.open && this.isLast(st.open)) this.reset(st.open)
    }
    for (;;) {
      const nl = text.indexOf('\n', start)
      if (nl < 0) {
        let seg = text.slice(start)
        if (seg.length === 0) return
        if (seg.endsWith('\r')) {
          st.pendingCr = true
          seg = seg.slice(0, -1)
        }
        this.writeSegment(stream, st, seg)
        return
      }
      let seg = text.slice(start, nl)
      if (seg.endsWith('\r')) seg = seg.slice(0, -1)
      this.writeSegment(stream, st, seg)
      st.open = null
      start = nl + 1
    }
  }

  /** Add text (no `\n`) to the stream's open line, starting a row if another stream wrote since. */
  private writeSegment(stream: OutputStream, st: StreamState, seg: string): void {
    let line = st.open && this.isLast(st.open) ? st.open : null
    if (!line) {
      line = { kind: stream, text: '', cut: 0 }
      this.pushLine(line)
    }
    const cr = seg.lastIndexOf('\r')
    if (cr >= 0) {
      // A lone carriage return redraws the line (progress bars): keep what follows the last one.
      this.reset(line)
      seg = seg.slice(cr + 1)
    }
    this.append(line, seg)
    st.open = line
  }

  private append(line: OutputLine, seg: string): void {
    const room = MAX_LINE_CHARS - line.text.length
    if (seg.length <= room) {
      line.text += seg
      this.chars += seg.length
    } else {
      if (room > 0) {
        line.text += seg.slice(0, room)
        this.chars += room
      }
      line.cut += seg.length - Math.max(0, room)
    }
    if (line.text.length > this.maxLineChars) this.maxLineChars = line.text.length
  }

  private reset(line: OutputLine): void {
    this.chars -= line.text.length
    line.text = ''
    line.cut = 0
  }

  private isLast(line: OutputLine): boolean {
    return this.lines.length > this.head && this.lines[this.lines.length - 1] === line
  }

  private closeOpenLines(): void {
    for (const st of Object.values(this.streams)) {
      st.open = null
      st.pendingCr = false
    }
  }

  private pushLine(line: OutputLine): void {
    this.lines.push(line)
    this.chars += line.text.length
  }

  private enforceBounds(): void {
    let drop = 0
    const count = this.lineCount
    while (drop < count - 1 && (count - drop > this.maxLines || this.chars > this.maxChars)) {
      this.chars -= this.lines[this.head + drop].text.length
      drop++
    }
    if (drop === 0) return
    this.head += drop
    this.droppedLines += drop
    // Compact once the dead prefix dominates, keeping appends amortised O(1).
    if (this.head > COMPACT_MIN && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head)
      this.head = 0
    }
  }
}

function newStreamState(): StreamState {
  return { open: null, pendingCr: false, ansi: createAnsiState() }
}

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
