/**
 * Raw output of processes that run in a terminal, kept for their terminal views. A terminal
 * emulator needs the bytes as the program wrote them (escape sequences, carriage returns),
 * not lines, so the sync hands each terminal process's chunks here as well as to its line
 * buffer. A view replays the retained tail into a fresh emulator when it opens (switching
 * processes, reloading the page) and then follows new chunks; sequence numbers make sure
 * nothing is written twice. Like the line buffers, this lives outside reactive state.
 */
import type { OutputChunk, ProcessId } from '../../../shared/contract'
import type { AppStore } from './app-store'

/**
 * Retained characters per terminal. Enough for the emulator's 10,000 lines of scrollback at
 * typical widths; older output is dropped a whole chunk at a time, so a replay after a long
 * run starts mid-stream (the screen then shows what the later output draws).
 */
export const TERMINAL_HISTORY_CHARS = 2 * 1024 * 1024

type FeedListener = (chunks: readonly OutputChunk[]) => void

/**
 * Least time between two refills of a terminal's history while its view is open (see
 * {@link TerminalFeed.refill}): a flood the host keeps skipping through is re-fetched a few
 * times a second at most, not once per batch.
 */
export const TERMINAL_REFILL_INTERVAL_MS = 250

/** The retained raw output of one terminal process, and whoever follows it. */
export class TerminalFeed {
  private chunks: OutputChunk[] = []
  private chars = 0
  private last = -1
  private trimmed = false
  private gap = false
  private readonly listeners = new Set<FeedListener>()
  private readonly resetListeners = new Set<() => void>()

  constructor(private readonly maxChars = TERMINAL_HISTORY_CHARS) {}

  /** Sequence number of the newest chunk taken; -1 before any. */
  get lastSeq(): number {
    return this.last
  }

  /** Whether older output is missing: dropped here, or before the first chunk arrived. */
  get startsMidStream(): boolean {
    return this.trimmed || (this.chunks.length > 0 && this.chunks[0].seq > 0)
  }

  /**
   * Whether output is missing between chunks taken: the host skipped part of a flood this page
   * did not take in time (a process in the background). An emulator replaying around the
   * hole would show the wrong state (colours, cursor, screen) until the program redraws, so
   * the view asks the host for its contiguous output again (see {@link refill}).
   */
  get hasGap(): boolean {
    return this.gap
  }

  /** Take chunks in sequence order; those already taken are skipped. */
  take(chunks: readonly OutputChunk[]): void {
    const fresh = chunks.filter((c) => c.seq > this.last)
    if (fresh.length === 0) return
    for (const c of fresh) {
      // Sequence numbers are dense: a jump is output the host skipped.
      if (this.last >= 0 && c.seq !== this.last + 1) this.gap = true
      this.last = c.seq
      this.chunks.push(c)
      this.chars += c.data.length
    }
    this.trim()
    for (const listener of this.listeners) listener(fresh)
  }

  /**
   * Replace the history with `chunks`, the host's newest retained output without holes (an
   * `output` call's snapshot), followed by whatever was taken after them. Views reset their
   * emulator and replay (see {@link onReset}). The feed has a gap afterwards only if output
   * was skipped again after the snapshot.
   */
  refill(chunks: readonly OutputChunk[]): void {
    if (chunks.length === 0) return
    const snapLast = chunks[chunks.length - 1].seq
    const newer = this.chunks.filter((c) => c.seq > snapLast)
    this.chunks = []
    this.chars = 0
    this.trimmed = false
    this.gap = false
    let prev = -1
    for (const c of [...chunks, ...newer]) {
      if (prev >= 0 && c.seq !== prev + 1) this.gap = true
      prev = c.seq
      this.chunks.push(c)
      this.chars += c.data.length
    }
    this.last = Math.max(this.last, prev)
    this.trim()
    for (const listener of this.resetListeners) listener()
  }

  /** Drop the oldest chunks beyond the bound (always keeping the newest). */
  private trim(): void {
    let drop = 0
    while (this.chars > this.maxChars && drop < this.chunks.length - 1) {
      this.chars -= this.chunks[drop++].data.length
    }
    if (drop > 0) {
      this.chunks = this.chunks.slice(drop)
      this.trimmed = true
    }
  }

  /** Everything retained, oldest first. */
  history(): readonly OutputChunk[] {
    return this.chunks
  }

  /** Follow chunks taken from now on; returns the function that stops following. */
  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Be told when the history was replaced ({@link refill}); returns the function that stops. */
  onReset(listener: () => void): () => void {
    this.resetListeners.add(listener)
    return () => this.resetListeners.delete(listener)
  }
}

/** The feeds of every terminal process on the page. */
export class TerminalFeeds {
  private readonly feeds = new Map<ProcessId, TerminalFeed>()

  /** The feed of `id`, created empty on first use. */
  get(id: ProcessId): TerminalFeed {
    let feed = this.feeds.get(id)
    if (!feed) this.feeds.set(id, (feed = new TerminalFeed()))
    return feed
  }

  /** Forget a process (removed, or unknown after a resynchronisation). */
  delete(id: ProcessId): void {
    this.feeds.delete(id)
  }

  /** Ids that have a feed. */
  ids(): ProcessId[] {
    return [...this.feeds.keys()]
  }
}

/** The feeds behind this page's terminal views. */
export const terminalFeeds = new TerminalFeeds()

/**
 * Hand output of `id` to its terminal feed if the process runs in a terminal (the store knows
 * it from the process's status, which the host always sends before the run's output).
 */
export function feedTerminal(
  store: AppStore,
  id: ProcessId,
  chunks: readonly OutputChunk[],
  feeds: TerminalFeeds = terminalFeeds,
): void {
  if (chunks.length === 0 || !store.getState().processes[id]?.terminal) return
  feeds.get(id).take(chunks)
}

/** Drop the feeds of processes the page no longer knows. */
export function pruneTerminalFeeds(
  known: ReadonlySet<ProcessId>,
  feeds: TerminalFeeds = terminalFeeds,
): void {
  for (const id of feeds.ids()) if (!known.has(id)) feeds.delete(id)
}

/**
 * While a terminal view is open, keep its feed without holes: whenever the feed has a gap,
 * fetch the host's newest contiguous output (`fetch`, an `output` call) and refill the feed
 * with it. One fetch at a time, at most one per {@link TERMINAL_REFILL_INTERVAL_MS}. Returns
 * the function that stops (the view closed); a fetch still on its way is then ignored.
 */
export function keepTerminalWhole(
  feed: TerminalFeed,
  fetch: () => Promise<readonly OutputChunk[] | null>,
): () => void {
  let stopped = false
  let busy = false
  let lastAt = -Infinity
  let timer: ReturnType<typeof setTimeout> | null = null
  const check = (): void => {
    if (stopped || busy || !feed.hasGap) return
    busy = true
    const wait = Math.max(0, lastAt + TERMINAL_REFILL_INTERVAL_MS - Date.now())
    timer = setTimeout(() => {
      timer = null
      fetch()
        .then((chunks) => {
          if (!stopped && chunks) feed.refill(chunks)
        })
        .catch(() => {
          // The process was removed or the host is unreachable: the view keeps what it has,
          // and the next chunk with a gap tries again.
        })
        .finally(() => {
          busy = false
          lastAt = Date.now()
          check()
        })
    }, wait)
  }
  const unfollow = feed.subscribe(check)
  check()
  return () => {
    stopped = true
    unfollow()
    if (timer !== null) clearTimeout(timer)
  }
}
