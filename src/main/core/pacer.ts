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
