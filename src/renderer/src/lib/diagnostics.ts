/**
 * A read-only summary of what the page keeps, for benchmarks and bug reports
 * (`corralDiagnostics()` in the page's console). Sizes and counts only, never output text.
 */
import type { ProcessId } from '../../../shared/contract'
import type { OutputBuffers } from '../store/output-buffers'

export interface ProcessDiagnostics {
  id: ProcessId
  name: string | null
  /** Rows the view has: lines, gap markers and the top marker. */
  rows: number
  /** Lines kept. */
  lines: number
  /** Gap markers (output skipped, loadable from disk). */
  gaps: number
  /**
   * The first few gap markers: their row (counting the top marker, as the view does without
   * a stream filter), the sequence numbers they stand for, and their size.
   */
  firstGaps: { row: number; afterSeq: number; beforeSeq: number; chars: number | null }[]
  /** Sequence number of the last chunk applied. */
  lastSeq: number
  /** Characters of kept text, line separators included. */
  keptChars: number
  /** Lines dropped to stay within the buffer's bounds. */
  droppedLines: number
}

export interface Diagnostics {
  processes: ProcessDiagnostics[]
  /** Totals over every process. */
  lines: number
  keptChars: number
  /** Characters received but not yet applied. */
  queuedChars: number
  /** `performance.memory.usedJSHeapSize` where the browser reports it. */
  heapBytes: number | null
}

/** Collect the summary. */
export function collectDiagnostics(
  buffers: OutputBuffers,
  queuedChars: number,
  nameOf: (id: ProcessId) => string | null = () => null,
): Diagnostics {
  const processes = buffers.ids().map((id): ProcessDiagnostics => {
    const buf = buffers.get(id)
    const firstGaps: ProcessDiagnostics['firstGaps'] = []
    let gaps = 0
    const top = buf.hasTopMarker ? 1 : 0
    buf.forEachSegment(({ gap }, row) => {
      if (!gap) return
      gaps++
      if (firstGaps.length < 5) {
        const { afterSeq, beforeSeq, chars } = gap
        firstGaps.push({ row: row + top, afterSeq, beforeSeq, chars })
      }
    })
    return {
      id,
      name: nameOf(id),
      rows: buf.rowCount,
      lines: buf.lineCount - gaps,
      gaps,
      firstGaps,
      lastSeq: buf.lastSeq,
      keptChars: buf.keptChars,
      droppedLines: buf.droppedLines,
    }
  })
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory
  return {
    processes,
    lines: processes.reduce((n, p) => n + p.lines, 0),
    keptChars: processes.reduce((n, p) => n + p.keptChars, 0),
    queuedChars,
    heapBytes: memory ? memory.usedJSHeapSize : null,
  }
}

declare global {
  interface Window {
    corralDiagnostics?: () => Diagnostics
  }
}

/** Expose {@link collectDiagnostics} as `window.corralDiagnostics`. */
export function installDiagnostics(
  buffers: OutputBuffers,
  queuedChars: () => number,
  nameOf: (id: ProcessId) => string | null,
  win: Window = window,
): void {
  win.corralDiagnostics = () => collectDiagnostics(buffers, queuedChars(), nameOf)
}
