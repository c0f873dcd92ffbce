/**
 * Which rows the view shows when a stream is filtered out. Building the index costs one pass
 * over the kept rows (when a filter changes); afterwards only new rows are looked at, so a
 * frame never pays for the length of the history.
 */
import type { ProcessOutput } from './output-buffers'
import { KIND_STDERR, KIND_STDOUT } from './line-store'

/** Streams shown; `system` lines and markers always show. */
export interface StreamFilter {
  stdout: boolean
  stderr: boolean
}

/** Key of the top marker row ("N earlier lines not kept"). */
export const TOP_MARKER_KEY = -1

/**
 * Maps view rows to buffer rows. View row 0 is the top marker when the buffer has one; the
 * others are identified by their stable row keys (`buffer.lineKey(index)`).
 */
export class RowIndex {
  private keys = new Float64Array(1024)
  private n = 0
  /** Index of the first key still kept by the buffer. */
  private lo = 0
  /** Row key up to which rows were examined (exclusive). */
  private scanned = 0
  private buffer: ProcessOutput | null = null
  private structure = -1
  private filterKey = ''
  private filtering = false
  private marker = 0

  /** Bring the index up to date with the buffer; O(new rows) unless something was rebuilt. */
  sync(buffer: ProcessOutput, filter: StreamFilter): void {
    this.marker = buffer.hasTopMarker ? 1 : 0
    const filtering = !filter.stdout || !filter.stderr
    const key = `${filter.stdout}|${filter.stderr}`
    if (buffer !== this.buffer || buffer.structure !== this.structure || key !== this.filterKey) {
      this.buffer = buffer
      this.structure = buffer.structure
      this.filterKey = key
      this.filtering = filtering
      this.n = 0
      this.lo = 0
      this.scanned = buffer.firstRowKey
    }
    if (!filtering) return
    const first = buffer.firstRowKey
    while (this.lo < this.n && this.keys[this.lo] < first) this.lo++
    const end = first + buffer.lineCount
    let from = Math.max(this.scanned, first)
    if (from >= end) return
    buffer.forEachSegment((seg, segRow) => {
      const segEnd = first + segRow + (seg.store ? seg.store.count : 1)
      if (segEnd <= from) return
      if (seg.gap) {
        this.push(first + segRow)
      } else if (seg.store) {
        const store = seg.store
        for (let i = from - first - segRow; i < store.count; i++) {
          const kind = store.kind(i)
          if ((kind === KIND_STDOUT && !filter.stdout) || (kind === KIND_STDERR && !filter.stderr))
            continue
          this.push(first + segRow + i)
        }
      }
      from = segEnd
    })
    this.scanned = end
  }

  private push(key: number): void {
    if (this.n === this.keys.length) {
      const live = this.n - this.lo
      const next = new Float64Array(Math.max(1024, live * 2))
      next.set(this.keys.subarray(this.lo, this.n))
      this.keys = next
      this.n = live
      this.lo = 0
    }
    this.keys[this.n++] = key
  }

  /** Rows the view shows. */
  get count(): number {
    const rows = this.filtering ? this.n - this.lo : (this.buffer?.lineCount ?? 0)
    return rows + this.marker
  }

  /** Row key of view row `v` ({@link TOP_MARKER_KEY} for the top marker). */
  keyAt(v: number): number {
    if (v < this.marker) return TOP_MARKER_KEY
    const r = v - this.marker
    return this.filtering ? this.keys[this.lo + r] : (this.buffer?.firstRowKey ?? 0) + r
  }

  /**
   * View row of row key `key`, or of the first shown row after it when it is filtered out;
   * clamped to the rows kept.
   */
  viewRowOf(key: number): number {
    if (key === TOP_MARKER_KEY) return 0
    if (!this.filtering) {
      const first = this.buffer?.firstRowKey ?? 0
      const rows = this.buffer?.lineCount ?? 0
      return this.marker + Math.min(Math.max(0, key - first), Math.max(0, rows - 1))
    }
    let lo = this.lo
    let hi = this.n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.keys[mid] < key) lo = mid + 1
      else hi = mid
    }
    return this.marker + Math.min(lo - this.lo, Math.max(0, this.n - this.lo - 1))
  }

  /** Whether row key `key` is shown. */
  shows(key: number): boolean {
    if (!this.filtering) return true
    const v = this.viewRowOf(key) - this.marker
    return this.keys[this.lo + v] === key
  }
}
