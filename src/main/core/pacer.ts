/**
 * Hands out turns of the event loop, one per loop iteration, in order. Spawning blocks the
 * loop (fork and exec of a large process take milliseconds); starting 50 processes at once
 * in one turn would stall everyone else's output and input for the whole burst, so each start
 * waits for its turn and the loop handles I/O in between.
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

/**
 * A budget of bytes read per turn of the event loop, shared by every process. When floods
 * together have read more than it in one turn, the process that went over pauses until the
 * next turn: a turn's work (numbering, copying, logging and sending what was read) stays
 * short however many processes flood at once, and each gets its share in turn.
 */
export class ReadBudget {
  private used = 0
  private waiting: (() => void)[] = []
  private reset: NodeJS.Immediate | null = null

  constructor(private readonly bytesPerTurn: number) {}

  /**
   * Count `bytes` just read. Returns false when this turn's budget is spent: the reader
   * should pause, and `resume` is called on the next turn.
   */
  spend(bytes: number, resume: () => void): boolean {
    this.used += bytes
    // Reads happen in the loop's poll phase; this runs right after it, before the next one.
    this.reset ??= setImmediate(() => {
      this.reset = null
      this.used = 0
      for (const fn of this.waiting.splice(0)) fn()
    })
    if (this.used <= this.bytesPerTurn) return true
    this.waiting.push(resume)
    return false
  }
}

/** Bytes all processes together may read per turn of the event loop. */
export const READ_BYTES_PER_TURN = 1024 * 1024

/** The budget every process's pipes read within. */
export const readBudget = new ReadBudget(READ_BYTES_PER_TURN)
