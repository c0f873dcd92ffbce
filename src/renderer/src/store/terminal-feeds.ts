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

/** The retained raw output of one terminal process, and whoever follows it. */
export class TerminalFeed {
  private chunks: OutputChunk[] = []
  private chars = 0
  private last = -1
  private trimmed = false
  private readonly listeners = new Set<FeedListener>()

  constructor(private readonly maxChars = TERMINAL_HISTORY_CHARS) {}

  /** Sequence number of the newest chunk taken; -1 before any. */
  get lastSeq(): number {
    return this.last
  }

  /** Whether older output is missing: dropped here, or before the first chunk arrived. */
  get startsMidStream(): boolean {
    return this.trimmed || (this.chunks.length > 0 && this.chunks[0].seq > 0)
  }

  /** Take chunks in sequence order; those already taken are skipped. */
  take(chunks: readonly OutputChunk[]): void {
    const fresh = chunks.filter((c) => c.seq > this.last)
    if (fresh.length === 0) return
    this.last = fresh[fresh.length - 1].seq
    for (const c of fresh) {
      this.chunks.push(c)
      this.chars += c.data.length
    }
    let drop = 0
    while (this.chars > this.maxChars && drop < this.chunks.length - 1) {
      this.chars -= this.chunks[drop++].data.length
    }
    if (drop > 0) {
      this.chunks = this.chunks.slice(drop)
      this.trimmed = true
    }
    for (const listener of this.listeners) listener(fresh)
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
