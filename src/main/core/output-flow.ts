import {
  isOwnStream,
  type OutputBatch,
  type OutputChunk,
  type OutputSnapshot,
  type ProcessId,
} from '../../shared/contract'
import { newestWithin } from './output-buffer'

/**
 * Unacknowledged output allowed in flight to a viewer that acknowledges. Small enough that
 * an echo behind a flood waits for little (output of a quiet process passes the window, but
 * not what is already on its way), large enough for a view to be fed faster than it can show.
 */
export const FLOW_WINDOW = 256 * 1024
/** Transport queue size above which floods are held back (viewers that do not acknowledge). */
export const FLOW_HIGH_WATER = 1024 * 1024
/** Transport queue size at or below which a held-back viewer is caught up. */
export const FLOW_LOW_WATER = 256 * 1024
/**
 * Most output sent to a held-back viewer when it is caught up, over all the held-back
 * processes it shows (every process, until it says which: see `OutputFlow.focus`); older
 * output is skipped. Shared among them, so that 50 floods do not send 50 times
 * this at once (a burst the viewer would take seconds to apply, and the host a long turn to
 * copy); the processes that get no share stay held back until the next catch-up, in turn.
 */
export const FLOW_CATCH_UP = 256 * 1024
/** Least output one held-back process is caught up with, however many are held back. */
export const FLOW_CATCH_UP_SHARE_MIN = 16 * 1024
/** Most output one catch-up sends of floods the viewer does not show, over all of them. */
export const FLOW_CATCH_UP_BACKGROUND = 64 * 1024
/**
 * A flood the viewer does not show is caught up (with its newest
 * {@link FLOW_CATCH_UP_SHARE_MIN}) once it has sent nothing for this long: its flood paused or
 * ended. While it floods on, it is not caught up at all: nothing shows it, catching it up as
 * it goes would cost the viewer time and leave one "output not shown" marker per catch-up in
 * its history, and it is caught up with a full share the moment the viewer shows it.
 */
export const FLOW_BACKGROUND_QUIET_MS = 100
/**
 * Longest pause asked of a background flood before it is caught up. A flood that resumes
 * right after being caught up (one that stutters, or a busy machine's scheduler pausing it)
 * must pause twice as long the next time, up to this, so that it leaves a few markers in its
 * history, not one per stutter. It asks {@link FLOW_BACKGROUND_QUIET_MS} again once it has
 * been quiet for longer than it would now have to pause.
 */
export const FLOW_BACKGROUND_QUIET_MAX_MS = 800
/**
 * Catch-up polls that must also have run since a background flood's latest output before it
 * counts as paused. When the host itself stalls (a long turn, a collection, a busy machine),
 * the first poll after the stall finds the flood's output old although the flood went on and
 * its output only waits to be read: that is not a pause, and catching it up then would leave
 * a marker per stall.
 */
export const FLOW_BACKGROUND_QUIET_POLLS = 3
/**
 * A process that sent less than this within the last {@link FLOW_RATE_WINDOW_MS} is quiet: its
 * output passes even when the window is full, so an echo typed into one process does not
 * wait behind (or get dropped with) another process's flood. A flood of small batches is
 * still a flood and is held back. Quiet output is held back too while the transport has more
 * than {@link FLOW_HIGH_WATER} queued, so that many quiet processes cannot fill its queue.
 */
export const FLOW_QUIET = 32 * 1024
/** The window over which a process's sending rate is judged. */
export const FLOW_RATE_WINDOW_MS = 100
const CATCH_UP_POLL_MS = 16

/** How one viewer's output leaves: the transport side of {@link OutputFlow}. */
export interface FlowTransport {
  /** Send a batch; returns its size in the unit the viewer acknowledges. */
  send(batch: OutputBatch): number
  /** Size of one chunk in that unit. */
  size(chunk: OutputChunk): number
  /** What the transport itself has queued and not yet sent (0 if it cannot tell). */
  queued(): number
}

/**
 * Output flow control for one viewer, the same for every transport: a viewer that falls
 * behind never makes the host queue without bound or the child wait. Once a viewer has more
 * than a window unacknowledged (or the transport more than a high-water mark queued), a
 * flooding process's output is held back; when the viewer has caught up it gets the newest
 * output only, and the jump in sequence numbers tells it what it missed (loadable from the
 * run log on disk). Quiet processes always pass.
 */
export class OutputFlow {
  private acking = false
  private unacked = 0
  /** Per held-back process: the last sequence number this viewer was sent. */
  private readonly heldBack = new Map<ProcessId, number>()
  /** Per process: what was sent in the current rate window. */
  private readonly recent = new Map<ProcessId, { since: number; size: number }>()
  /** The processes the viewer shows, once it said (see {@link OutputFlow.focus}). */
  private focused: ReadonlySet<ProcessId> | null = null
  /**
   * Per held-back process not shown: when its latest output came (and was held back), in
   * time and in catch-up polls.
   */
  private readonly heldOutputAt = new Map<ProcessId, { at: number; poll: number }>()
  private poll: NodeJS.Timeout | null = null
  /** Catch-up polls run so far. */
  private polls = 0
  /**
   * Per flood caught up in the background: the pause it must make before the next catch-up
   * (see {@link FLOW_BACKGROUND_QUIET_MAX_MS}) and when it was caught up.
   */
  private readonly backgroundPause = new Map<ProcessId, { ms: number; caughtUpAt: number }>()

  constructor(
    private readonly transport: FlowTransport,
    /**
     * Retained output after `afterSeq`, only the newest that fits in about `maxSize` (the
     * snapshot copies what it returns out of the process's ring: a catch-up copies what it
     * sends, not the whole backlog it skips).
     */
    private readonly outputSince: (
      id: ProcessId,
      afterSeq: number,
      maxSize: number,
    ) => OutputSnapshot | null,
    /** Told what the viewer shows whenever it says, and null once it is gone. */
    private readonly onFocus: (ids: readonly ProcessId[] | null) => void = () => {},
  ) {}

  /** A batch of new output for this viewer. */
  offer(batch: OutputBatch): void {
    // Only Corral's own lines (how a run began or ended, a line typed into stdin).
    const own = batch.chunks.every((c) => isOwnStream(c.stream))
    const held = this.heldBack.get(batch.id)
    if (held !== undefined) {
      if (!this.isFocused(batch.id)) this.noteHeldOutput(batch.id)
      else if (own) {
        // Only Corral's own lines: a run of a flood the viewer shows ended (or began) and
        // there is nothing more to hold back for now. Its newest output and those lines go at
        // once, past the window (once per such line, which is rare): the flood's last lines
        // and its exit line show as soon as it ended, not after the viewer has worked through
        // what is in flight, which that catch-up makes stale anyway.
        this.catchUpOne(batch.id, held, FLOW_CATCH_UP)
        this.stopPolling()
      }
      return
    }
    let size = 0
    for (const c of batch.chunks) size += this.transport.size(c)
    // Quiet output passes the window, but not a transport that is not draining (a stalled or
    // slow connection): dozens of quiet processes together would queue there without bound.
    // So do Corral's own lines, even those of a flood that filled the window: the exit line
    // of a flood the viewer kept up with shows when the run ends, not once the viewer has
    // acknowledged what was in flight.
    if ((this.quiet(batch.id, size) || own) && this.transport.queued() < FLOW_HIGH_WATER) {
      return this.send(batch)
    }
    // A flood: send what fits (at least one chunk while there is room), hold back the rest.
    // The window is for the processes the viewer shows: a flood it does not show is held
    // back at once, and catching up sends it only its newest output.
    let fits = 0
    const room = this.isFocused(batch.id) ? this.room() : 0
    for (let left = room; fits < batch.chunks.length && left > 0; fits++) {
      left -= this.transport.size(batch.chunks[fits])
    }
    if (fits > 0) {
      this.send(
        fits === batch.chunks.length
          ? batch
          : { id: batch.id, chunks: batch.chunks.slice(0, fits) },
      )
    }
    if (fits < batch.chunks.length) {
      this.heldBack.set(batch.id, batch.chunks[fits].seq - 1)
      if (!this.isFocused(batch.id)) {
        // Rested since its last catch-up: it asks the first pause again.
        if (this.pauseRanOut(batch.id, Date.now())) this.backgroundPause.delete(batch.id)
        this.noteHeldOutput(batch.id)
      }
      this.poll ??= setInterval(() => this.catchUp(), CATCH_UP_POLL_MS)
    }
  }

  /** The viewer took in `size` more of what it was sent; from now on it is held to the window. */
  ack(size: number): void {
    this.acking = true
    this.unacked = Math.max(0, this.unacked - size)
  }

  /**
   * The viewer shows only these processes now (the one selected in the UI). Their output
   * has the whole window; the others' output passes while they are quiet, and their floods
   * are held back until they pause and then caught up with a small share of their newest
   * output, so that a flood in the background takes neither the viewer's time nor the window
   * from what it shows.
   * Until a viewer says, every process is shown.
   */
  focus(ids: readonly ProcessId[]): void {
    this.focused = new Set(ids)
    this.onFocus(ids)
  }

  /** Unacknowledged output (for tests and diagnostics). */
  get inFlight(): number {
    return this.unacked
  }

  /** Stop (the viewer is gone). */
  dispose(): void {
    this.onFocus(null)
    if (this.poll) clearInterval(this.poll)
    this.poll = null
    this.heldBack.clear()
    this.recent.clear()
    this.heldOutputAt.clear()
    this.backgroundPause.clear()
  }

  private send(batch: OutputBatch): void {
    this.unacked += this.transport.send(batch)
  }

  /** What may still be sent before floods are held back. */
  private room(): number {
    return Math.min(
      FLOW_HIGH_WATER - this.transport.queued(),
      this.acking ? FLOW_WINDOW - this.unacked : Infinity,
    )
  }

  /** Little enough in flight to catch up. */
  private drained(): boolean {
    return (
      this.transport.queued() <= FLOW_LOW_WATER && (!this.acking || this.unacked <= FLOW_WINDOW / 2)
    )
  }

  private quiet(id: ProcessId, size: number): boolean {
    const now = Date.now()
    let r = this.recent.get(id)
    if (!r || now - r.since > FLOW_RATE_WINDOW_MS)
      this.recent.set(id, (r = { since: now, size: 0 }))
    r.size += size
    return r.size <= FLOW_QUIET
  }

  private isFocused(id: ProcessId): boolean {
    return this.focused === null || this.focused.has(id)
  }

  /** Held-back output of a flood the viewer does not show came now (once per batch). */
  private noteHeldOutput(id: ProcessId): void {
    const last = this.heldOutputAt.get(id)
    if (!last) this.heldOutputAt.set(id, { at: Date.now(), poll: this.polls })
    else {
      last.at = Date.now()
      last.poll = this.polls
    }
  }

  /** The pause a flood the viewer does not show must make before it is caught up. */
  private pauseOf(id: ProcessId): number {
    return this.backgroundPause.get(id)?.ms ?? FLOW_BACKGROUND_QUIET_MS
  }

  /** Whether `id` was caught up in the background longer ago than the pause it now asks. */
  private pauseRanOut(id: ProcessId, now: number): boolean {
    const pause = this.backgroundPause.get(id)
    return pause !== undefined && now - pause.caughtUpAt > pause.ms
  }

  /** A flood the viewer does not show has sent nothing for a while, as long as polls went on. */
  private pausedInBackground(id: ProcessId, now: number): boolean {
    const last = this.heldOutputAt.get(id)
    return (
      !last ||
      (now - last.at >= this.pauseOf(id) && this.polls - last.poll >= FLOW_BACKGROUND_QUIET_POLLS)
    )
  }

  private catchUp(): void {
    this.polls++
    if (!this.drained()) return
    const now = Date.now()
    const held = [...this.heldBack.keys()]
    const shown = held.filter((id) => this.isFocused(id)).length
    // What the viewer shows shares one catch-up; floods in the background have a small
    // budget of their own, so they neither wait behind it nor take from it.
    const budget = { shown: FLOW_CATCH_UP, background: FLOW_CATCH_UP_BACKGROUND }
    const share = Math.max(FLOW_CATCH_UP_SHARE_MIN, Math.floor(FLOW_CATCH_UP / (shown || 1)))
    // In the order they were held back: whoever is left over goes first next time.
    for (const id of held) {
      const afterSeq = this.heldBack.get(id)!
      const kind = this.isFocused(id) ? 'shown' : 'background'
      if (budget[kind] <= 0) continue
      // A flood in the background stays held back while it goes on.
      if (kind === 'background' && !this.pausedInBackground(id, now)) continue
      const max = Math.min(kind === 'shown' ? share : FLOW_CATCH_UP_SHARE_MIN, budget[kind])
      budget[kind] -= this.catchUpOne(id, afterSeq, max)
      if (kind === 'shown') this.backgroundPause.delete(id)
      else {
        const ms = Math.min(2 * this.pauseOf(id), FLOW_BACKGROUND_QUIET_MAX_MS)
        this.backgroundPause.set(id, { ms, caughtUpAt: now })
      }
    }
    this.stopPolling()
  }

  /** Send held-back process `id` its newest output, within about `max`; returns what was sent. */
  private catchUpOne(id: ProcessId, afterSeq: number, max: number): number {
    this.heldBack.delete(id)
    this.heldOutputAt.delete(id)
    const snap = this.outputSince(id, afterSeq, max)
    if (!snap || snap.chunks.length === 0) return 0
    // Skip ahead: only the newest output, up to a bound.
    const chunks = snap.chunks.slice(
      newestWithin(0, snap.chunks.length, max, (i) => ({
        size: this.transport.size(snap.chunks[i]),
        stream: snap.chunks[i].stream,
      })),
    )
    let size = 0
    for (const c of chunks) size += this.transport.size(c)
    this.send({ id, chunks })
    // A flood just caught up is not quiet: what follows does not pass as if it were.
    this.recent.set(id, { since: Date.now(), size: FLOW_QUIET })
    return size
  }

  private stopPolling(): void {
    if (this.heldBack.size > 0 || !this.poll) return
    clearInterval(this.poll)
    this.poll = null
    // Nothing is held back: forget the pauses that have run out.
    const now = Date.now()
    for (const id of [...this.backgroundPause.keys()]) {
      if (this.pauseRanOut(id, now)) this.backgroundPause.delete(id)
    }
  }
}
