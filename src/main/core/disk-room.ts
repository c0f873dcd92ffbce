import fs from 'node:fs'

/**
 * Free space on the disk that holds the run logs and spool files, and what it means for
 * spooled output. A spooled child writes its stdout and stderr straight into files (see
 * spool.ts): when that disk is full, the child's own writes fail (ENOSPC), and most programs
 * then exit (`seq`, `cat` and Python do). Output that goes through pipes never fails that
 * way: Corral reads it, shows it and keeps it in memory, and only the saving of its log
 * stops. So a run starts spooled only when the disk has {@link SPOOL_MIN_FREE_BYTES} free,
 * and a spooled run's output says so when the disk runs short or fills up while it runs.
 */

/** Free bytes below which a new run's output goes through pipes rather than spool files. */
export const SPOOL_MIN_FREE_BYTES = 256 * 1024 * 1024
/** Free bytes below which the disk counts as full. */
const FULL_BYTES = 1024 * 1024
/** How often the free space is looked at while spooled runs are under way, ms. */
const CHECK_MS = 1000

/** How much room the disk has: enough, short of {@link DiskRoom.minFree}, or full. */
export type RoomState = 'ok' | 'low' | 'full'

export interface RoomReading {
  state: RoomState
  /** Free bytes (for an unprivileged user, as `df` shows them). */
  free: number
}

export class DiskRoom {
  private reading: Promise<number | null> | null = null
  private readAt = -Infinity
  private readonly listeners = new Set<(r: RoomReading) => void>()
  private timer: NodeJS.Timeout | null = null

  /**
   * @param dir a directory on the disk looked at
   * @param minFree free bytes below which room is short (see {@link SPOOL_MIN_FREE_BYTES})
   */
  constructor(
    readonly dir: string,
    readonly minFree = SPOOL_MIN_FREE_BYTES,
  ) {}

  /**
   * Free bytes on the disk, or null when they cannot be known (no such directory, a file
   * system without statfs). Looked up at most once a second: 200 starts at once share one.
   */
  free(): Promise<number | null> {
    const now = performance.now()
    if (this.reading && now - this.readAt < CHECK_MS) return this.reading
    this.readAt = now
    this.reading = fs.promises.statfs(this.dir).then(
      (st) => st.bavail * st.bsize,
      () => null,
    )
    return this.reading
  }

  /** The state that `free` bytes mean. */
  stateOf(free: number): RoomState {
    return free < FULL_BYTES ? 'full' : free < this.minFree ? 'low' : 'ok'
  }

  /**
   * Call `listener` with a reading every second while anyone listens. Returns the way to
   * stop listening.
   */
  watch(listener: (r: RoomReading) => void): () => void {
    this.listeners.add(listener)
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), CHECK_MS)
      this.timer.unref()
    }
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer)
        this.timer = null
      }
    }
  }

  private async check(): Promise<void> {
    const free = await this.free()
    if (free === null) return
    const reading = { state: this.stateOf(free), free }
    for (const listener of this.listeners) listener(reading)
  }
}
