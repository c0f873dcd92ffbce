/**
 * Export formats for a run's output. Built as lists of string parts (a Blob takes them as they
 * are), so a large export is never joined into one giant string.
 */
import { isOwnStream, type OutputChunk, type OutputStream } from '../../../shared/contract'
import { createAnsiState, PLAIN_STYLE, sgrFor, stripAnsi, type AnsiState } from './ansi'
import { KIND_NAMES, gapText, type ProcessOutput } from './output-buffers'

/** Plain text (escapes removed), text with its ANSI escapes, or one JSON object per line. */
export type ExportFormat = 'text' | 'ansi' | 'jsonl'

/** File name suffix and MIME type per format. */
export const EXPORT_FORMATS: Record<ExportFormat, { label: string; ext: string; mime: string }> = {
  text: { label: 'Plain text', ext: 'log', mime: 'text/plain;charset=utf-8' },
  ansi: { label: 'Text with ANSI colours', ext: 'ansi.log', mime: 'text/plain;charset=utf-8' },
  jsonl: { label: 'JSON lines', ext: 'jsonl', mime: 'application/x-ndjson;charset=utf-8' },
}

/** Parts are merged up to about this size so a Blob does not get millions of tiny parts. */
const PART_CHARS = 1024 * 1024

class PartWriter {
  readonly parts: string[] = []
  private pending: string[] = []
  private size = 0
  add(s: string): void {
    this.pending.push(s)
    this.size += s.length
    if (this.size >= PART_CHARS) this.flush()
  }
  flush(): string[] {
    if (this.pending.length > 0) this.parts.push(this.pending.join(''))
    this.pending = []
    this.size = 0
    return this.parts
  }
}

/**
 * Export chunks read back from a run's log. Text and ANSI are the program's output exactly as
 * written (escapes removed for text), without Corral's own lines or what was typed; JSON lines
 * are one `{seq, stream, time, text}` per chunk, with `text` as written (escapes included),
 * Corral's lines ("started", how the run ended) among them as stream `system` and lines typed
 * into standard input as stream `stdin`.
 */
export function exportChunks(chunks: readonly OutputChunk[], format: ExportFormat): string[] {
  const w = new PartWriter()
  const states: Partial<Record<OutputStream, AnsiState>> = {}
  for (const c of chunks) {
    if (isOwnStream(c.stream) && format !== 'jsonl') continue
    if (format === 'ansi') w.add(c.data)
    else if (format === 'text') w.add(stripAnsi(c.data, (states[c.stream] ??= createAnsiState())))
    else w.add(JSON.stringify({ seq: c.seq, stream: c.stream, time: c.time, text: c.data }) + '\n')
  }
  return w.flush()
}

/**
 * Export what a buffer holds (when the run's log cannot be read): one line per row. ANSI
 * output is rebuilt from the kept styles; JSON lines are `{line, stream, time, text}`, and a
 * marker where output was skipped is `{marker}`.
 */
export function exportBuffer(buffer: ProcessOutput, format: ExportFormat): string[] {
  const w = new PartWriter()
  if (buffer.hasTopMarker) {
    const text = buffer.topMarkerText()
    w.add(format === 'jsonl' ? JSON.stringify({ marker: text }) + '\n' : `[${text}]\n`)
  }
  buffer.forEachSegment((seg, firstRow) => {
    if (seg.gap) {
      const text = gapText(seg.gap)
      w.add(format === 'jsonl' ? JSON.stringify({ marker: text }) + '\n' : `[${text}]\n`)
      return
    }
    const store = seg.store
    if (!store) return
    for (let i = 0; i < store.count; i++) {
      const text = store.text(i)
      if (format === 'text') w.add(text + '\n')
      else if (format === 'jsonl') {
        w.add(
          JSON.stringify({
            line: buffer.lineKey(firstRow + i),
            stream: KIND_NAMES[store.kind(i)],
            time: store.time(i),
            text,
          }) + '\n',
        )
      } else {
        const runs = store.runs(i)
        if (runs.length === 0) {
          w.add(text + '\n')
          continue
        }
        let at = 0
        let styled = false
        for (let r = 0; r < runs.length; r += 2) {
          w.add(text.slice(at, runs[r]))
          w.add(sgrFor(runs[r + 1]))
          styled = runs[r + 1] !== PLAIN_STYLE
          at = runs[r]
        }
        w.add(text.slice(at))
        w.add(styled ? '\x1b[0m\n' : '\n')
      }
    }
  })
  return w.flush()
}

/** A file name for an export: `name-run3.log`, characters unsafe in file names replaced. */
export function exportFileName(
  name: string,
  runNumber: number | null,
  format: ExportFormat,
): string {
  const base = name.replace(/[^\w.-]+/g, '_').replace(/^[._]+|_+$/g, '') || 'output'
  return `${base}${runNumber === null ? '' : `-run${runNumber}`}.${EXPORT_FORMATS[format].ext}`
}
