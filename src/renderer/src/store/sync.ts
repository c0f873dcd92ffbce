/**
 * Keeps the store and output buffers in step with the host. Events are subscribed to before
 * anything is fetched, and live output is held back while snapshots are in flight; sequence
 * numbers then make the merge exact (no duplicate, no gap) at startup and after a reconnect.
 *
 * Output is not applied on arrival: it is queued and applied in animation frames within a
 * time budget, so the page's frames stay short however much arrives.
 */
import type {
  CorralBridge,
  OutputBatch,
  OutputChunk,
  OutputSnapshot,
  ProcessId,
} from '../../../shared/contract'
import { outputChars } from '../../../shared/contract'
import type { ConnectionState } from '../bridge'
import {
  bumpRevisions,
  bumpRunsRevision,
  removeProcess,
  setConnection,
  setHostInfo,
  setOrphans,
  setProcessList,
  upsertProcess,
  type AppStore,
} from './app-store'
import { nextFrame } from './frames'
import type { GapMarker, OutputBuffers, ProcessOutput } from './output-buffers'
import { fillGapFromMemory } from './range-loader'
import { canSignal } from './process-helpers'
import { feedTerminal, pruneTerminalFeeds, terminalFeeds } from './terminal-feeds'

/** The parts of the renderer bridge the sync needs. */
export interface SyncBridge extends Pick<
  CorralBridge,
  'on' | 'list' | 'output' | 'hostInfo' | 'orphans'
> {
  connectionState(): ConnectionState
  onConnection(listener: (state: ConnectionState) => void): () => void
  /**
   * Acknowledge output (flow control) only when {@link SyncBridge.ackOutput} says so, not on
   * arrival. A transport without flow control leaves both out.
   */
  deferOutputAcks?(): void
  /** A batch received through `on('output')` has been taken in (applied, dropped, or queued). */
  ackOutput?(batch: OutputBatch): void
  /** The page shows only these processes now (flow control). */
  focusOutput?(ids: ProcessId[]): void
}

export interface SyncOptions {
  bridge: SyncBridge
  store: AppStore
  buffers: OutputBuffers
  /** Runs a callback before the next paint; `requestAnimationFrame` in the page. */
  scheduleFrame?: (callback: () => void) => void
  /** Called when a fetch fails (the next reconnect retries). */
  onError?: (err: unknown) => void
  /** Milliseconds of some monotonic clock; `performance.now` in the page. */
  now?: () => number
  /** Time per frame spent applying output; {@link APPLY_BUDGET_MS} unless given. */
  applyBudgetMs?: number
  /**
   * Runs a callback when the page is idle between frames, with the milliseconds left until
   * the next one; `requestIdleCallback` in the page. Without it output applies in frames only.
   */
  scheduleIdle?: ((callback: (timeLeft: () => number) => void) => void) | null
}

export interface Sync {
  /** Resolves when the current synchronisation has been applied. */
  ready(): Promise<void>
  /**
   * Apply all queued output and pending revision bumps now (tests, and before reading state
   * synchronously); output of a process whose catch-up fetch is in flight still waits.
   */
  flush(): void
  /** Characters received and not yet applied. */
  queuedChars(): number
  dispose(): void
}

/**
 * Time per frame spent applying output (line indexing, terminal feeds). The rest of the frame
 * is left to rendering, so a flood never makes frames long: what does not fit waits, and since
 * output is acknowledged only once applied (see {@link ACK_AHEAD_CHARS}), a host
 * that produces more than the page applies holds output back and skips ahead.
 */
export const APPLY_BUDGET_MS = 4
/**
 * Time per frame for applying the output of the process on screen once it is no longer
 * running: its last output is all that is left to show, and no child wants the CPU the
 * budgets above leave it. A flood's last 256 KiB of 9-byte lines took 8 frames at those.
 */
export const ENDED_APPLY_BUDGET_MS = 12
/**
 * A process with output still waiting to be applied (a flood the page is behind), and the
 * process on screen while it floods (see {@link FLOOD_FRAME_CHARS}), are redrawn at most this
 * often, not every frame: a flood scrolls too fast to read either way, and each
 * redraw (React, layout, paint) cost the page more than applying the output did, CPU the
 * flooding program and the host did not get. Any other process (an echo) is redrawn at once,
 * and so is the end of a flood.
 * Every 50 ms rather than every frame, on 300 MB of 9-byte lines followed in the UI: the
 * page's CPU 365 → 300 ms, end-to-end 0.66 → 0.73 of the transport alone (medians of 6
 * interleaved runs). Every 100 ms rather than 50, on 300 MB of 99-byte lines: the renderer
 * process's CPU (read from /proc, all its threads) 280 → 240 ms, click to exit line shown
 * 318 → 281 ms (medians of 10 interleaved runs); every 200 ms saved nothing more.
 */
export const FLOOD_REDRAW_MS = 100
/**
 * Output of the process on screen applied in one frame from which on it counts as flooding
 * for {@link FLOOD_REDRAW_MS} (as does output the host skipped), and is redrawn at most that
 * often even when nothing is left waiting: a page that keeps up with the share of a flood the
 * host sends it empties its queue every frame or two, and was redrawn each time (every 30 ms
 * in B1, not every 100). Only the process on screen: the others' views are not drawn, and an
 * echo typed into it is far less than this.
 */
export const FLOOD_FRAME_CHARS = 16 * 1024
/**
 * More time for applying output when the page is idle after a frame (at most this much, and
 * never past the start of the next frame); 0 turns it off. Off: a page that is idle is not a
 * machine that is idle, and CPU the view takes for output nobody can read at that speed is
 * CPU the flooding program (and the host reading it) does not get. What the frames' budget
 * does not apply is skipped by the host and loadable from disk.
 */
export const IDLE_APPLY_BUDGET_MS = 0
/**
 * A frame that comes this long after the one before was late (at 60 Hz they come every
 * 16.7 ms): the page, or the machine, is busy. The budgets then shrink (to half, down to
 * {@link MIN_BUDGET_SHARE} of them) and grow back by {@link BUDGET_SHARE_STEP} with each
 * frame on time, so a page short of CPU applies less and lets the host skip more.
 */
export const LATE_FRAME_MS = 25
export const MIN_BUDGET_SHARE = 0.25
export const BUDGET_SHARE_STEP = 0.1
/** Largest piece of a chunk applied in one step, so one step never takes long. */
export const APPLY_PIECE_CHARS = 16 * 1024
/** Most output fetched when live output skipped some: the newest, the rest becomes a gap. */
export const CATCH_UP_BYTES = 256 * 1024
/**
 * Output (in characters) after a jump in sequence numbers that covers the screen and more
 * (660 lines of 99 bytes): when at least this much follows output the host skipped, the
 * skipped output becomes a gap marker that far up instead of being fetched, and output
 * queued before the jump is dropped unapplied (it would show only above that marker).
 */
export const COVERED_CHARS = CATCH_UP_BYTES / 4
/**
 * When a process comes on screen with a gap marker among its last this many rows (output
 * skipped while it was in the background, say its last lines before it exited), the newest
 * {@link CATCH_UP_BYTES} of what the marker stands for are fetched from the host's memory
 * into it, so that the screen shows the process's last lines rather than a marker.
 */
export const FILL_GAP_ROWS = 200
/**
 * Most output fetched for the process on screen when (re)synchronising; older output becomes
 * a gap. The others get {@link BACKGROUND_SNAPSHOT_BYTES} until they come on screen.
 */
export const SNAPSHOT_BYTES = 2 * 1024 * 1024
/**
 * Most output fetched when (re)synchronising for a process not on screen (unless it runs in a
 * terminal). A page that loads
 * while many processes hold megabytes each would otherwise wait for all of it (the host
 * encodes it and the page parses it, 7–20 ms per MB); when such a process comes on screen,
 * the gap before its snapshot is filled from the host's memory up to {@link SNAPSHOT_BYTES}.
 */
export const BACKGROUND_SNAPSHOT_BYTES = 64 * 1024
/**
 * Queued characters per process beyond which the oldest queued batches are dropped (a gap
 * marker takes their place). A transport with flow control never gets near it; one without
 * (Electron's IPC) cannot make the page queue without bound.
 */
export const MAX_QUEUED_CHARS = 8 * 1024 * 1024
/**
 * Output waiting to be applied, over all processes, up to which a batch is acknowledged on
 * arrival rather than once applied: one flow-control window of the host, so a burst the page
 * applies within a frame or two does not make the host skip, while sustained output faster
 * than the page applies does.
 */
export const ACK_AHEAD_CHARS = 256 * 1024

/** Whether output ends with a line of Corral's own: a run's start, its end, a stop's signals. */
const endsWithOwnLine = (chunks: readonly OutputChunk[]): boolean =>
  chunks.at(-1)?.stream === 'system'

function defaultScheduleIdle(): SyncOptions['scheduleIdle'] {
  if (typeof requestIdleCallback !== 'function') return null
  return (callback) => requestIdleCallback((deadline) => callback(() => deadline.timeRemaining()))
}

/** Output waiting to be applied: a live batch, or the chunks of a snapshot. */
interface Pending {
  chunks: readonly OutputChunk[]
  /** Index of the next chunk to apply, and how much of it was applied. */
  next: number
  offset: number
  /** The live batch to acknowledge once applied; null for a snapshot. */
  batch: OutputBatch | null
  /** The snapshot these chunks are from, until what it skipped has been marked. */
  snapshot: OutputSnapshot | null
  /** A live batch that skipped output, for which missed output was fetched already. */
  caughtUp: boolean
  /** Acknowledged already (on arrival, while little was waiting). */
  acked: boolean
  chars: number
}

interface ProcessQueue {
  items: Pending[]
  chars: number
  /**
   * Fetches of this process's output in flight (its snapshot, or output it missed): nothing
   * of it applies meanwhile.
   */
  fetching: number
}

export function startSync(options: SyncOptions): Sync {
  const { bridge, store, buffers, onError } = options
  // A hidden page gets no animation frames: the fallback timer still lands output (cheaply,
  // since nothing renders), so the view is current the moment the page shows again.
  const scheduleFrame = options.scheduleFrame ?? nextFrame
  const now = options.now ?? (() => performance.now())
  const budgetMs = options.applyBudgetMs ?? APPLY_BUDGET_MS
  const scheduleIdle =
    options.scheduleIdle === undefined ? defaultScheduleIdle() : options.scheduleIdle
  bridge.deferOutputAcks?.()

  const dirty = new Set<ProcessId>()
  const queues = new Map<ProcessId, ProcessQueue>()
  /**
   * Processes whose snapshot was the small one of a process not on screen, and left output
   * out: the sequence number it began at, where its gap marker ends.
   */
  const trimmed = new Map<ProcessId, number>()
  /** The process list is being fetched: live output waits in the queues. */
  let synchronising = false
  let frameScheduled = false
  let idleScheduled = false

  /** Redraw the views of processes with new output (those `due` allows; the rest wait). */
  const bumpDirty = (due: (id: ProcessId) => boolean = () => true): void => {
    if (dirty.size === 0) return
    const known = store.getState().processes
    const ids: ProcessId[] = []
    for (const id of dirty) {
      if (!due(id)) continue
      dirty.delete(id)
      if (id in known) ids.push(id)
    }
    if (ids.length > 0) bumpRevisions(store, ids)
  }
  /** Share of the budgets in use, adapted to how late frames come while output waits. */
  let share = 1
  let lastFloodRedraw = -Infinity
  /** The process on screen when it last flooded (see {@link FLOOD_FRAME_CHARS}), and when. */
  let flood: { id: ProcessId; at: number } | null = null
  /** When the last frame that left output waiting ran; -1 when the one before drained it. */
  let lastBusyFrame = -1
  const frame = (): void => {
    frameScheduled = false
    const start = now()
    if (lastBusyFrame >= 0) {
      share =
        start - lastBusyFrame > LATE_FRAME_MS
          ? Math.max(MIN_BUDGET_SHARE, share / 2)
          : Math.min(1, share + BUDGET_SHARE_STEP)
    }
    const drained = pump(start + budgetMs * share, start + ENDED_APPLY_BUDGET_MS)
    // A process with output still waiting (a flood the page is behind), and the process on
    // screen while it floods even with nothing waiting, are redrawn at most every
    // FLOOD_REDRAW_MS; the others (an echo) and the end of a flood, at once. A redraw held
    // for the process on screen asks for frames until it is due.
    const held = flood !== null && start - flood.at < FLOOD_REDRAW_MS ? flood.id : null
    if (start - lastFloodRedraw >= FLOOD_REDRAW_MS) {
      lastFloodRedraw = start
      bumpDirty()
    } else bumpDirty((id) => id !== held && (queues.get(id)?.items.length ?? 0) === 0)
    lastBusyFrame = drained ? -1 : start
    if (!drained) {
      requestFrame()
      requestIdle()
    } else if (held !== null && dirty.has(held)) requestFrame()
  }
  /**
   * Apply the output of the process on screen at once, outside a frame, within the longer
   * budget of one that ended: its run's last output and exit line just came. Applied and
   * rendered here, they show in the next frame; left for that frame, they cost it the time
   * to apply and render them first (10 ms here), on top of waiting for it (8 ms by the
   * median). Other processes' output waits for the frames as before.
   */
  const applyEnd = (id: ProcessId): void => {
    const start = now()
    // What is left of it, and the other processes' output, waits for the frame requested.
    pump(start, start + ENDED_APPLY_BUDGET_MS, id)
    bumpDirty((d) => d === id)
  }
  const idle = (timeLeft: () => number): void => {
    idleScheduled = false
    const start = now()
    const deadline = start + Math.min(IDLE_APPLY_BUDGET_MS * share, timeLeft() - 1)
    pump(deadline, deadline)
    // What applied shows in the next frame, which is already requested while output waits.
    if (dirty.size > 0) requestFrame()
  }
  const requestIdle = (): void => {
    if (scheduleIdle && IDLE_APPLY_BUDGET_MS > 0 && !idleScheduled) {
      idleScheduled = true
      scheduleIdle(idle)
    }
  }
  const requestFrame = (): void => {
    if (!frameScheduled) {
      frameScheduled = true
      scheduleFrame(frame)
    }
  }

  const queueOf = (id: ProcessId): ProcessQueue => {
    let q = queues.get(id)
    if (!q) queues.set(id, (q = { items: [], chars: 0, fetching: 0 }))
    return q
  }
  /** Characters waiting in all queues. */
  let queuedChars = 0
  const done = (q: ProcessQueue, item: Pending): void => {
    q.chars -= item.chars
    queuedChars -= item.chars
    if (item.batch && !item.acked) bridge.ackOutput?.(item.batch)
  }
  /** A chunk of `item` is applied in full: feed the terminal, move on, finish the item. */
  const chunkApplied = (
    id: ProcessId,
    q: ProcessQueue,
    item: Pending,
    chunk: OutputChunk,
  ): void => {
    feedTerminal(store, id, [chunk])
    item.next++
    item.offset = 0
    if (item.next === item.chunks.length) {
      q.items.shift()
      done(q, item)
    }
  }
  const discard = (id: ProcessId): void => {
    const q = queues.get(id)
    if (!q) return
    queues.delete(id)
    for (const item of q.items) done(q, item)
    q.items = []
  }

  const enqueue = (batch: OutputBatch): void => {
    const q = queueOf(batch.id)
    const chars = outputChars(batch.chunks)
    const prev = q.items.at(-1)
    const before = prev ? prev.chunks.at(-1)?.seq : buffers.peek(batch.id)?.lastSeq
    if (before !== undefined && chars >= COVERED_CHARS && batch.chunks[0].seq > before + 1) {
      // The host skipped ahead and sent as much of its newest output as a screen and more:
      // what waits before it would show only above this batch's rows, with a marker after
      // it. Dropped unapplied (acknowledged, so the host sends on) instead of making this
      // batch wait behind it; the jump marks it as a gap, loadable like any other.
      while (q.items.length > 0) {
        const last = q.items[q.items.length - 1]
        if (!last.batch || last.snapshot || last.next > 0 || last.offset > 0) break
        q.items.pop()
        done(q, last)
      }
    }
    const acked = queuedChars < ACK_AHEAD_CHARS
    if (acked) bridge.ackOutput?.(batch)
    q.items.push({
      chunks: batch.chunks,
      next: 0,
      offset: 0,
      batch,
      snapshot: null,
      caughtUp: false,
      acked,
      chars,
    })
    q.chars += chars
    queuedChars += chars
    // Too much waiting: drop the oldest (never one partly applied). The sequence jump this
    // leaves fetches the newest missed output and marks the rest as a gap.
    while (q.chars > MAX_QUEUED_CHARS && q.items.length > 1) {
      const first = q.items[0]
      if (first.next > 0 || first.offset > 0) break
      q.items.shift()
      done(q, first)
    }
    requestFrame()
    if (endsWithOwnLine(batch.chunks) && batch.id === store.getState().selectedId && !synchronising)
      applyEnd(batch.id)
  }

  /**
   * Apply queued output until `deadline`; returns whether everything applicable was applied.
   * Small backlogs go first, so an echo never waits behind a flood; then the process on
   * screen, so that what the page shows is current before output nobody looks at (megabytes
   * of every process when the page loads); then the rest, least waiting first. With `only`,
   * only that process's output.
   */
  const pump = (deadline: number, endedDeadline: number, only?: ProcessId): boolean => {
    if (synchronising) return true
    const { selectedId: selected, processes } = store.getState()
    // No longer running, or its run ended and the status saying so is still on its way: the
    // host sends a flood's last output with its exit line, a line of Corral's own, just
    // before that status. (Corral's other lines, a stop's signals or a run's start, are rare
    // enough that the longer budget they also get now and then costs nothing.)
    const ended = (id: ProcessId, q: ProcessQueue): boolean => {
      const info = processes[id]
      if (info !== undefined && !canSignal(info)) return true
      return endsWithOwnLine(q.items.at(-1)?.chunks ?? [])
    }
    const rank = (id: ProcessId, q: ProcessQueue): number =>
      q.chars <= APPLY_PIECE_CHARS ? 0 : id === selected ? 1 : 2
    const order = [...queues].filter(
      ([id, q]) => q.items.length > 0 && q.fetching === 0 && (only === undefined || id === only),
    )
    order.sort(([a, qa], [b, qb]) => rank(a, qa) - rank(b, qb) || qa.chars - qb.chars)
    let drained = true
    for (const [id, q] of order) {
      const until = id === selected && ended(id, q) ? Math.max(deadline, endedDeadline) : deadline
      // Time ran out: only the process on screen, with its later deadline, goes on.
      if (!drained && now() >= until) continue
      drained = applyQueue(id, q, until) && drained
    }
    return drained
  }

  /** Apply one process's queue until `deadline`; returns false when time ran out first. */
  const applyQueue = (id: ProcessId, q: ProcessQueue, deadline: number): boolean => {
    // Output of a process the page does not know is from one just removed. (Were it from one
    // not yet announced, the next batch's sequence jump would fetch it.)
    if (!(id in store.getState().processes)) {
      discard(id)
      return true
    }
    const buf = buffers.get(id)
    let changed = false
    let inTime = true
    let applied = 0
    let skipped = false
    let ownLine = false
    while (q.items.length > 0) {
      const item = q.items[0]
      if (item.snapshot) {
        buf.beginSnapshot(item.snapshot)
        item.snapshot = null
        changed = true
        // Selected before its (small) snapshot came: fill in the rest now.
        if (id === store.getState().selectedId) fillTrimmed(id)
      } else if (item.batch && item.next === 0 && item.offset === 0) {
        const first = item.chunks[0]
        if (first && first.seq > buf.lastSeq + 1) {
          // Chunks are numbered densely, so a jump means output was missed (the host skips
          // ahead for a page that falls behind). For the process on screen, fetch the newest
          // of it first, unless what is queued from here on covers the screen and more (see
          // COVERED_CHARS): then the rows on screen and a good stretch above them are this
          // output, and a marker that far up is all the missed output needs. A flood skips
          // with nearly every batch; fetching for each doubled the page's work and put a
          // round trip before its last lines showed. For the others it becomes a gap at once
          // (loadable from the run log when wanted): fetching 256 KiB for each of many floods
          // in the background would spend the page's and the host's time on output nobody is
          // looking at, and come back as more output than the page could apply.
          if (!item.caughtUp && store.getState().selectedId === id && q.chars < COVERED_CHARS) {
            item.caughtUp = true
            catchUp(id, q)
            break
          }
          // Not on screen, or fetched and still missing (the host no longer had it): mark it
          // skipped.
          buf.markSkipped(first.seq)
          changed = true
          // The host skips only output that came faster than the page took it: a flood.
          skipped = true
        }
      }
      if (item.next === item.chunks.length) {
        q.items.shift()
        done(q, item)
        continue
      }
      if (now() >= deadline) {
        inTime = false
        break
      }
      const chunk = item.chunks[item.next]
      const end = Math.min(chunk.data.length, item.offset + APPLY_PIECE_CHARS)
      changed = buf.applyPart(chunk, item.offset, end) || changed
      // Live output only: a snapshot (or missed output fetched) is history, not a flood.
      if (item.batch) applied += end - item.offset
      if (chunk.stream === 'system') ownLine = true
      if (end < chunk.data.length) {
        item.offset = end
        continue
      }
      chunkApplied(id, q, item, chunk)
    }
    if (changed) dirty.add(id)
    // A line of Corral's own (how a run began or ended, a stop's signals) shows at once.
    if (ownLine && flood?.id === id) flood = null
    else if ((skipped || applied >= FLOOD_FRAME_CHARS) && id === store.getState().selectedId)
      flood = { id, at: now() }
    return inTime
  }

  /** Finish a chunk applied only in part (before a snapshot asks for what follows it). */
  const finishPart = (id: ProcessId, q: ProcessQueue): void => {
    const item = q.items[0]
    if (!item || item.offset === 0) return
    const chunk = item.chunks[item.next]
    if (buffers.get(id).applyPart(chunk, item.offset, chunk.data.length)) dirty.add(id)
    chunkApplied(id, q, item, chunk)
  }

  /**
   * Queue a snapshot before any live output (which it covers or precedes). What it skipped is
   * marked when it is reached, against what was applied then: nothing of the process applies
   * between asking for a snapshot and taking it, so that is what the snapshot follows.
   */
  const takeSnapshot = (snap: OutputSnapshot): void => {
    const q = queueOf(snap.id)
    const chars = outputChars(snap.chunks)
    q.items.unshift({
      chunks: snap.chunks,
      next: 0,
      offset: 0,
      batch: null,
      snapshot: snap,
      caughtUp: false,
      acked: true,
      chars,
    })
    q.chars += chars
    queuedChars += chars
    requestFrame()
  }

  const catchUp = (id: ProcessId, q: ProcessQueue): void => {
    q.fetching++
    const last = buffers.get(id).lastSeq
    bridge
      .output(id, last, CATCH_UP_BYTES)
      .then((snap) => {
        if (queues.get(id) === q && id in store.getState().processes) takeSnapshot(snap)
      })
      .catch(() => {
        // Safe to ignore: the process is gone, or the connection dropped and a reconnect
        // resynchronises. The batch that skipped is marked caught up, so the skipped output
        // becomes a gap marker when it applies.
      })
      .finally(() => {
        q.fetching--
        requestFrame()
      })
  }

  let generation = 0
  let needResync = false
  /** The connection closed since the last synchronisation started. */
  let dropped = false
  let current: Promise<void> = Promise.resolve()

  const synchronise = async (): Promise<void> => {
    const gen = ++generation
    synchronising = true
    if (!store.getState().hostInfo) {
      bridge
        .hostInfo()
        .then((info) => setHostInfo(store, info))
        .catch((err: unknown) => onError?.(err))
    }
    // Orphans can only disappear (ended elsewhere) while the page was away; ask again.
    bridge
      .orphans()
      .then((orphans) => {
        if (gen === generation) setOrphans(store, orphans)
      })
      .catch((err: unknown) => onError?.(err))
    try {
      const list = await bridge.list()
      if (gen !== generation) return
      setProcessList(store, list)
      const known = new Set(list.map((p) => p.id))
      for (const id of buffers.ids()) if (!known.has(id)) buffers.delete(id)
      for (const id of [...trimmed.keys()]) if (!known.has(id)) trimmed.delete(id)
      for (const id of [...queues.keys()]) if (!known.has(id)) discard(id)
      pruneTerminalFeeds(known)
      // The snapshots cover all output queued so far (or mark what they leave out): finish a
      // chunk applied in part, and drop the rest.
      for (const [id, q] of queues) {
        finishPart(id, q)
        for (const item of q.items.splice(0)) done(q, item)
      }
      // From here, each process's output waits only for its own snapshot, and the one on
      // screen is asked for first: with many processes holding megabytes each, it shows as
      // soon as its own output has come, not once everyone's has.
      synchronising = false
      const selected = store.getState().selectedId
      const ordered = [
        ...list.filter((p) => p.id === selected),
        ...list.filter((p) => p.id !== selected),
      ]
      await Promise.all(
        ordered.map((p) => {
          const q = queueOf(p.id)
          q.fetching++
          const after = buffers.peek(p.id)?.lastSeq ?? -1
          // A terminal replays its output into its emulator, which a later fill does not
          // reach: it gets all of it now.
          const full = p.id === selected || p.terminal !== undefined
          const limit = full ? SNAPSHOT_BYTES : BACKGROUND_SNAPSHOT_BYTES
          return bridge
            .output(p.id, after, limit)
            .then((snap) => {
              if (
                gen !== generation ||
                queues.get(p.id) !== q ||
                !(p.id in store.getState().processes)
              )
                return
              if (limit < SNAPSHOT_BYTES && snap.chunks.length > 0 && snap.firstSeq > after + 1)
                trimmed.set(p.id, snap.firstSeq)
              takeSnapshot(snap)
            })
            .catch(() => {
              // Safe to ignore: the process was removed after the list was taken (its
              // `removed` event follows), or the connection dropped and a reconnect
              // resynchronises.
            })
            .finally(() => {
              q.fetching--
              requestFrame()
            })
        }),
      )
      if (gen !== generation) return
      needResync = false
    } catch (err) {
      if (gen !== generation) return
      // Calls fail when the connection drops; apply what is queued and retry on reconnect.
      needResync = true
      onError?.(err)
    } finally {
      if (gen === generation) {
        synchronising = false
        requestFrame()
      }
    }
  }

  const unsubscribers = [
    bridge.on('status', (info) => upsertProcess(store, info)),
    bridge.on('removed', ({ id }) => {
      removeProcess(store, id)
      discard(id)
      trimmed.delete(id)
      buffers.delete(id)
      terminalFeeds.delete(id)
    }),
    bridge.on('runs', ({ id }) => bumpRunsRevision(store, id)),
    bridge.on('orphans', (orphans) => setOrphans(store, orphans)),
    bridge.on('output', enqueue),
    bridge.onConnection((state) => {
      setConnection(store, state)
      if (state === 'closed') dropped = true
      else if (state === 'open' && (dropped || needResync)) {
        // Events sent while the connection was down are not replayed: fetch what was missed.
        dropped = false
        current = synchronise()
      }
    }),
  ]

  /** Fill `gap` with the newest `limitBytes` of it the host keeps in memory. */
  const fillFromMemory = (
    id: ProcessId,
    buf: ProcessOutput,
    gap: GapMarker,
    limitBytes: number,
  ): void => {
    const options = { scheduleFrame, now }
    void fillGapFromMemory(bridge, id, buf, gap, limitBytes, options).then((filled) => {
      if (!filled) return
      dirty.add(id)
      requestFrame()
    })
  }

  /** A process came on screen: fill a gap marker near its end (see {@link FILL_GAP_ROWS}). */
  const fillNewestGap = (id: ProcessId): void => {
    const buf = buffers.peek(id)
    const newest = buf?.newestGap()
    if (buf && newest && newest.rowsAfter <= FILL_GAP_ROWS)
      fillFromMemory(id, buf, newest.gap, CATCH_UP_BYTES)
  }

  /**
   * A process whose snapshot was the small one came on screen: fill the gap before it, so
   * that it keeps as much as if it had been on screen when the page loaded. Once its snapshot
   * has applied (it is asked again when it does).
   */
  const fillTrimmed = (id: ProcessId): void => {
    const before = trimmed.get(id)
    const buf = buffers.peek(id)
    const gap = buf?.gaps().find((g) => g.beforeSeq === before)
    if (!buf || !gap) return
    trimmed.delete(id)
    fillFromMemory(id, buf, gap, SNAPSHOT_BYTES)
  }

  // The host gives the window to the process on screen; floods elsewhere are held back.
  let focused: ProcessId | null | undefined
  const focus = (): void => {
    const id = store.getState().selectedId
    if (id === focused) return
    focused = id
    bridge.focusOutput?.(id === null ? [] : [id])
    if (id === null) return
    // The larger fill first: a gap both would fill is taken by one (the other sees it loading).
    fillTrimmed(id)
    fillNewestGap(id)
  }
  unsubscribers.push(store.subscribe(focus))
  focus()

  setConnection(store, bridge.connectionState())
  current = synchronise()

  return {
    ready: () => current,
    flush: () => {
      pump(Infinity, Infinity)
      bumpDirty()
    },
    queuedChars: () => queuedChars,
    dispose: () => {
      for (const off of unsubscribers) off()
      for (const id of [...queues.keys()]) discard(id)
    },
  }
}
