/**
 * Reads ranges of sequence numbers back from a process's run logs on disk: output a slow view
 * skipped, output the host had already dropped, the full text of a line cut at the display
 * cap. A range may span runs (a restart inside it), so runs are read newest first until the
 * range is covered.
 */
import type { CorralBridge, OutputChunk, ProcessId, RunOutput } from '../../../shared/contract'
import { nextFrame } from './frames'
import { ProcessOutput, type GapMarker, type GapSplice } from './output-buffers'

/** The bridge calls the loader needs. */
export type RangeBridge = Pick<CorralBridge, 'runs' | 'runOutput'>

/** Most text one "Load" adds; a larger gap keeps a (smaller) marker for the rest. */
export const LOAD_LIMIT_BYTES = 16 * 1024 * 1024
/** Most text read back for one cut line. */
export const FULL_LINE_LIMIT_BYTES = 64 * 1024 * 1024
/** Runs looked at for one range. */
const MAX_RUNS = 20
/**
 * Time per animation frame spent laying out a loaded range as lines. Next to the time live
 * output takes (sync.ts) and rendering, frames stay short; 16 MB of short lines take a few
 * dozen frames.
 */
export const LOAD_STEP_MS = 8

/** How {@link loadGap} spreads its work over frames (tests inject their own). */
export interface LoadOptions {
  /** Runs a callback before the next paint; {@link nextFrame} unless given. */
  scheduleFrame?: (callback: () => void) => void
  /** Milliseconds of some monotonic clock; `performance.now` unless given. */
  now?: () => number
  /** Time per frame; {@link LOAD_STEP_MS} unless given. */
  stepMs?: number
}

export interface RangeRead {
  chunks: OutputChunk[]
  /** The oldest part of the range is not included (size limit); bytes known to be left out. */
  incomplete: boolean
  skippedBytes: number
}

/**
 * Most text asked for at once. An answer arrives as one message that the page takes in
 * (decodes and parses) in one task, 7–20 ms per MB depending on the machine, while the host
 * reads and encodes the next: a large range is read newest first in steps of this size. With
 * 2 MB steps, loading frames of 50–120 ms were measured on a busy 2-core machine (B4 in
 * `npm run bench`); with 512 KiB, 33 ms at most, in about the same total time.
 */
export const READ_STEP_BYTES = 512 * 1024

/** Chunks with `afterSeq < seq < beforeSeq`, newest kept within `limitBytes`. */
export async function readRange(
  bridge: RangeBridge,
  id: ProcessId,
  afterSeq: number,
  beforeSeq: number,
  limitBytes: number,
  stepBytes = READ_STEP_BYTES,
): Promise<RangeRead> {
  const runs = await bridge.runs(id)
  const parts: OutputChunk[][] = []
  let budget = limitBytes
  let before = beforeSeq
  let incomplete = false
  let skippedBytes = 0
  const read = (runId: string, limit: number): Promise<RunOutput> =>
    bridge.runOutput(id, runId, {
      afterSeq,
      beforeSeq: before,
      limitBytes: Math.max(1, Math.floor(limit)),
    })
  runs: for (const run of runs.slice(0, MAX_RUNS)) {
    /** Bytes of this run older than what was read of it so far. */
    let older = 0
    let found = false
    for (;;) {
      if (before <= afterSeq + 1) break runs
      if (budget <= 0) {
        incomplete = true
        skippedBytes = older
        break runs
      }
      let step = Math.min(budget, stepBytes)
      let out = await read(run.runId, step)
      while (out.chunks.length === 0 && out.skippedBytes > 0 && step < budget) {
        // The newest chunk left is larger than a step: ask for more until it comes.
        step = Math.min(budget, step * 2)
        out = await read(run.runId, step)
      }
      if (out.chunks.length === 0) {
        if (out.skippedBytes > 0) {
          // What is left does not fit in the budget.
          incomplete = true
          skippedBytes = out.skippedBytes
          break runs
        }
        // Runs are contiguous in sequence numbers: an empty run after one with output means
        // the range is covered.
        if (parts.length > 0 && !found) break runs
        break
      }
      found = true
      parts.unshift(out.chunks)
      for (const c of out.chunks) budget -= c.data.length
      before = out.chunks[0].seq
      older = out.skippedBytes
      // Nothing older in this run: on to the one before it.
      if (older === 0) break
    }
  }
  return { chunks: parts.flat(), incomplete, skippedBytes }
}

/**
 * Load a gap marker's range and splice it into the buffer, laid out a slice per frame (the
 * marker says it is loading until then); errors stay on the marker.
 */
export async function loadGap(
  bridge: RangeBridge,
  id: ProcessId,
  buffer: ProcessOutput,
  gap: GapMarker,
  options: LoadOptions = {},
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
    await inFrames(buffer.beginSplice(gap, read.chunks, remaining), options)
  } catch (err) {
    gap.error = err instanceof Error ? err.message : String(err)
  } finally {
    gap.loading = false
  }
}

/**
 * Fill the newest part of a gap marker from what the host still keeps in memory of the
 * process's output (its newest `limitBytes` after the marker), laid out a slice per frame.
 * Quicker than reading the run log, and enough for the lines just before what follows the
 * marker; a smaller marker stays for the rest. Resolves to whether anything was filled in:
 * nothing is when the host no longer keeps any of it (the marker's "Load" reads it from disk).
 */
export async function fillGapFromMemory(
  bridge: Pick<CorralBridge, 'output'>,
  id: ProcessId,
  buffer: ProcessOutput,
  gap: GapMarker,
  limitBytes: number,
  options: LoadOptions = {},
): Promise<boolean> {
  if (gap.loading) return false
  gap.loading = true
  try {
    const snap = await bridge.output(id, gap.afterSeq, limitBytes)
    const chunks = snap.chunks.filter((c) => c.seq < gap.beforeSeq)
    if (chunks.length === 0) return false
    const first = chunks[0].seq
    // Before the process's first output, the host's count of what it left out is exact.
    const chars =
      gap.leading && first === snap.firstSeq && snap.droppedChars > 0 ? snap.droppedChars : null
    const remaining = first > gap.afterSeq + 1 ? { beforeSeq: first, chars } : null
    await inFrames(buffer.beginSplice(gap, chunks, remaining), options)
    return true
  } catch {
    // Safe to ignore: the process is gone, or the connection dropped; the marker stays and
    // can still load from disk.
    return false
  } finally {
    gap.loading = false
  }
}

/** Run `splice` a step per frame until it is done. */
function inFrames(splice: GapSplice, options: LoadOptions): Promise<void> {
  const schedule = options.scheduleFrame ?? nextFrame
  const now = options.now ?? (() => performance.now())
  const stepMs = options.stepMs ?? LOAD_STEP_MS
  return new Promise((resolve, reject) => {
    const frame = (): void => {
      try {
        if (splice.step(now() + stepMs, now)) resolve()
        else schedule(frame)
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    }
    schedule(frame)
  })
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
