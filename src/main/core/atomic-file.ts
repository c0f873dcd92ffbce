import fs from 'node:fs'
import path from 'node:path'
import type { IoLane } from './io-lane'

/**
 * Replace `file` with `data` so that a crash at any moment leaves either the old or the new
 * content, never a mix: write a temporary file beside it, then rename it over the target, on
 * libuv's thread pool. The directory must exist.
 *
 * `durable` also fsyncs the temporary file before the rename and the directory after it, so
 * that the rename itself survives a power loss. Without it, still atomic against a crash of
 * Corral: used for files rewritten often (run indexes) where that trade is right. An fsync
 * while a flood is written back to disk can take hundreds of milliseconds, which is why this
 * never runs on the event loop.
 */
async function writeFileAtomicAsync(file: string, data: string, durable: boolean): Promise<void> {
  const tmp = tempPath(file)
  const handle = await fs.promises.open(tmp, 'w', 0o600)
  try {
    await handle.writeFile(data)
    if (durable) await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.promises.rename(tmp, file)
  if (durable && process.platform !== 'win32') {
    const dir = await fs.promises.open(path.dirname(file), 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }
}

/** The temporary file a write of `file` goes through (see {@link removeStaleTemps}). */
function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
}

/** Remove temporary files an interrupted {@link writeFileAtomic} left beside `file`. */
export function removeStaleTemps(file: string): void {
  const dir = path.dirname(file)
  const prefix = `.${path.basename(file)}.`
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) {
      fs.rmSync(path.join(dir, name), { force: true })
    }
  }
}

/** How an {@link AtomicFileWriter} writes; every part is optional. */
export interface AtomicFileWriterOptions {
  /** Resolves once the file's directory exists. */
  dirReady?: Promise<unknown>
  /** fsync the file and its directory (see {@link writeFileAtomicAsync}). */
  durable?: boolean
  /** Each write waits for room in this lane, if given. */
  lane?: IoLane
  /**
   * A write that follows another at once waits this long after it, so that a burst of
   * changes (200 processes started at once) makes a few writes rather than one per change;
   * the first of a burst goes at once, and whoever waits for the file cuts the wait.
   */
  spacingMs?: number
}

/**
 * Keeps one file replaced atomically (see {@link writeFileAtomicAsync}) with writes on
 * libuv's thread pool, for files rewritten while output flows: an open, write and rename on
 * a disk busy with logs can take milliseconds that the event loop cannot spare. Writes never
 * overlap; asked for while one is in flight, they collapse into one write of the newest
 * content, rendered when it is written.
 */
export class AtomicFileWriter {
  private inFlight: Promise<void> | null = null
  private next: (() => string) | null = null
  /** Callers of {@link writeAndWait} whose content the next write carries. */
  private waiting: { resolve: () => void; reject: (err: Error) => void }[] = []
  private cancelled = false
  /** Ends the wait between two writes (see `spacingMs`), when one is under way. */
  private wake: (() => void) | null = null
  /** Someone waits for what is asked for to be written: no waits between writes. */
  private hurried = false

  constructor(
    readonly file: string,
    /** Told of failed writes that no one waits for. */
    private readonly onError: (err: Error) => void,
    private readonly options: AtomicFileWriterOptions = {},
  ) {}

  /** Write what `render` returns, after the write in flight (if any). */
  write(render: () => string): void {
    if (this.cancelled) return
    this.next = render
    this.inFlight ??= this.drain()
  }

  /** {@link write}, resolving once a write that carries it is done; rejects if it failed. */
  writeAndWait(render: () => string): Promise<void> {
    if (this.cancelled) return Promise.reject(new Error(`${this.file}: no more writes`))
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      this.write(render)
      this.hurry()
    })
  }

  /** Resolves once everything asked for is written (or failed). */
  settled(): Promise<void> {
    this.hurry()
    return this.inFlight ?? Promise.resolve()
  }

  /** Someone waits for the file: the writes under way go without waits between them. */
  private hurry(): void {
    if (!this.inFlight) return
    this.hurried = true
    this.wake?.()
  }

  /** Write nothing more; resolves once the write in flight is over. */
  cancel(): Promise<void> {
    this.cancelled = true
    this.next = null
    const err = new Error(`${this.file}: cancelled`)
    for (const w of this.waiting.splice(0)) w.reject(err)
    return this.settled()
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), this.options.spacingMs)
      this.wake = () => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
    })
  }

  private async drain(): Promise<void> {
    await this.options.dirReady?.catch(() => {})
    while (this.next) {
      const render = this.next
      const waiting = this.waiting.splice(0)
      this.next = null
      try {
        const write = (): Promise<void> =>
          writeFileAtomicAsync(this.file, render(), this.options.durable ?? false)
        const { lane } = this.options
        await (lane ? lane.run(write) : write())
        for (const w of waiting) w.resolve()
      } catch (err) {
        for (const w of waiting) w.reject(err as Error)
        if (!this.cancelled && waiting.length === 0) this.onError(err as Error)
      }
      if (this.next && (this.options.spacingMs ?? 0) > 0 && !this.hurried) await this.pause()
    }
    this.hurried = false
    this.inFlight = null
  }
}
