/**
 * Hands out turns of the event loop, one per loop iteration, in order, for work that would
 * stall everyone else's output and input if a burst of it ran in one turn. Spawning blocks the
 * loop (fork and exec of a large process take milliseconds), so each start waits for its turn;
 * the web server sends answers that carry output one per turn the same way.
 */
export class TurnPacer {
  private readonly waiting: (() => void)[] = []
  private scheduled = false

  /** Resolves on this caller's turn. */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.waiting.shift()?.()
      this.schedule()
    })
  }
}

/** The turns every process start takes before it spawns. */
export const spawnPacer = new TurnPacer()

/** Something that reads within a {@link ReadBudget}: it can stop reading until told to go on. */
export interface TurnReader {
  /** Stop reading (`true`) or go on (`false`). */
  hold(on: boolean): void
}

/**
 * A budget of bytes read per turn of the event loop, shared by every process. Once floods
 * together have read more than it in one turn, every process reading now pauses until the
 * next turn, not only the one that went over: a reader paused in the middle of the loop's
 * poll phase is not read again in that phase, so a turn's work (numbering, copying, logging
 * and sending what was read) stays near the budget however many processes flood at once.
 * Pausing only the reader that went over let each of 50 flooding processes still deliver a
 * read per turn (50 reads of up to 64 KiB: over 3 MiB in one turn). "Reading now" is every
 * reader that read in this turn or in the last turn anyone read: quiet processes are left
 * alone (pausing and resuming 200 idle pipes every turn would cost more than it saves); one
 * that wakes up to flood reads once more before it is paused too.
 */
export class ReadBudget {
  private used = 0
  private current = new Set<TurnReader>()
  private previous = new Set<TurnReader>()
  private held = new Set<TurnReader>()
  private reset: NodeJS.Immediate | null = null

  constructor(private readonly bytesPerTurn: number) {}

  /** Count `bytes` just read by `reader`; over this turn's budget, readers pause until the next. */
  spend(bytes: number, reader: TurnReader): void {
    this.used += bytes
    this.current.add(reader)
    // Reads happen in the loop's poll phase; this runs right after it, before the next one.
    this.reset ??= setImmediate(() => this.nextTurn())
    if (this.used <= this.bytesPerTurn) return
    if (this.held.size === 0) for (const r of this.previous) this.pause(r)
    for (const r of this.current) this.pause(r)
  }

  private pause(reader: TurnReader): void {
    if (this.held.has(reader)) return
    this.held.add(reader)
    reader.hold(true)
  }

  private nextTurn(): void {
    this.reset = null
    this.used = 0
    this.previous = this.current
    this.current = new Set()
    const held = this.held
    this.held = new Set()
    for (const reader of held) reader.hold(false)
  }
}

/** Bytes all processes together may read per turn of the event loop. */
export const READ_BYTES_PER_TURN = 1024 * 1024

/** The budget every process's pipes read within. */
export const readBudget = new ReadBudget(READ_BYTES_PER_TURN)
