/**
 * Reads ranges of sequence numbers back from a process's run logs on disk: output a slow view
 * skipped, output the host had already dropped, the full text of a line cut at the display
 * cap. A range may span runs (a restart inside it), so runs are read newest first until the
 * range is covered.
 */
import type { CorralBridge, OutputChunk, ProcessId } from '../../../shared/contract'
import { ProcessOutput, type GapMarker } from './output-buffers'

/** The bridge calls the loader needs. */
export type RangeBridge = Pick<CorralBridge, 'runs' | 'runOutput'>

/** Most text one "Load" adds; a larger gap keeps a (smaller) marker for the rest. */
export const LOAD_LIMIT_BYTES = 16 * 1024 * 1024
/** Most text read back for one cut line. */
export const FULL_LINE_LIMIT_BYTES = 64 * 1024 * 1024
/** Runs looked at for one range. */
const MAX_RUNS = 20

export interface RangeRead {
  chunks: OutputChunk[]
  /** The oldest part of the range is not included (size limit); bytes known to be left out. */
  incomplete: boolean
  skippedBytes: number
}

/** Chunks with `afterSeq < seq < beforeSeq`, newest kept within `limitBytes`. */
export async function readRange(
  bridge: RangeBridge,
  id: ProcessId,
  afterSeq: number,
  beforeSeq: number,
  limitBytes: number,
): Promise<RangeRead> {
  const runs = await bridge.runs(id)
  const parts: OutputChunk[][] = []
  let budget = limitBytes
  let before = beforeSeq
  let incomplete = false
  let skippedBytes = 0
  for (const run of runs.slice(0, MAX_RUNS)) {
    if (before <= afterSeq + 1) break
    if (budget <= 0) {
      incomplete = true
      break
    }
    const out = await bridge.runOutput(id, run.runId, {
      afterSeq,
      beforeSeq: before,
      limitBytes: Math.max(1, Math.floor(budget)),
    })
    if (out.chunks.length === 0) {
      // Runs are contiguous in sequence numbers: an empty run after one with output means the
      // range is covered.
      if (parts.length > 0) break
      continue
    }
    parts.unshift(out.chunks)
    for (const c of out.chunks) budget -= c.data.length
    before = out.chunks[0].seq
    if (out.skippedBytes > 0) {
      incomplete = true
      skippedBytes = out.skippedBytes
      break
    }
  }
  return { chunks: parts.flat(), incomplete, skippedBytes }
}

/** Load a gap marker's range and splice it into the buffer; errors stay on the marker. */
export async function loadGap(
  bridge: RangeBridge,
  id: ProcessId,
  buffer: ProcessOutput,
  gap: GapMarker,
): Promise<void> {
  gap.loading = true
  gap.error = null
  try {
    const read = await readRange(bridge, id, gap.afterSeq, gap.beforeSeq, LOAD_LIMIT_BYTES)
    if (read.chunks.length === 0) {
      gap.error = 'the run logs on disk no longer have this output'
      return
    }
    const remaining = read.incomplete
      ? { beforeSeq: read.chunks[0].seq, chars: read.skippedBytes > 0 ? read.skippedBytes : null }
      : null
    buffer.spliceGap(gap, read.chunks, remaining)
  } catch (err) {
    gap.error = err instanceof Error ? err.message : String(err)
  } finally {
    gap.loading = false
  }
}

/**
 * The full text of a line cut at the display cap, read back from the run logs: the chunks it
 * spans are laid out again without a cap and the line that begins like the kept text is
 * taken. Null when the logs no longer have it.
 */
export async function readFullLine(
  bridge: RangeBridge,
  id: ProcessId,
  line: { kind: number; prefix: string; firstSeq: number; lastSeq: number },
  limitBytes = FULL_LINE_LIMIT_BYTES,
): Promise<string | null> {
  const read = await readRange(bridge, id, line.firstSeq - 1, line.lastSeq + 1, limitBytes)
  if (read.chunks.length === 0) return null
  const buf = new ProcessOutput(Infinity, Infinity, limitBytes)
  for (const c of read.chunks) buf.apply(c)
  const probe = line.prefix.slice(0, 256)
  let best: string | null = null
  buf.forEachSegment((seg) => {
    const store = seg.store
    if (!store) return
    for (let i = 0; i < store.count; i++) {
      if (store.kind(i) !== line.kind || store.len(i) < probe.length) continue
      const text = store.text(i)
      if (text.startsWith(probe) && (best === null || text.length > best.length)) best = text
    }
  })
  return best
}
