/**
 * A lane for file work that nothing urgent waits for, run at most `limit` jobs at a time.
 *
 * libuv's thread pool (4 threads) takes file operations first come, first served. A start
 * waits for its run's directory and spool files; its run index and its log file's opening
 * it does not wait for, yet they came first: 200 processes started at once queued some
 * 1,400 such operations ahead of the spool files of most of them, and the last child was
 * forked about 0.4 s later than the files it needed allowed. Work put in this lane takes
 * one thread at most, so the others stay free for what a start waits for.
 */
export class IoLane {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly limit: number) {}

  /** Run `job` once the lane has room; settles as it does. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((r) => this.waiting.push(r))
    else this.running++
    try {
      return await job()
    } finally {
      // The slot passes straight to the next job, if any.
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }

  /** Jobs running or waiting. */
  get size(): number {
    return this.running + this.waiting.length
  }
}

/** The lane for run indexes, lists and the opening of run logs (see {@link IoLane}). */
export const backgroundIo = new IoLane(1)
