import fs from 'node:fs'
import path from 'node:path'

/**
 * Replace `file` with `data` so that a crash at any moment leaves either the old or the new
 * content, never a mix: write a temporary file beside it, fsync it, rename it over the
 * target, then fsync the directory so the rename itself is durable.
 *
 * `durable: false` skips both fsyncs: still atomic against a crash of Corral, not against a
 * power loss. Used for files rewritten often (run indexes) where that trade is right.
 */
export function writeFileAtomic(file: string, data: string, durable = true): void {
  const dir = path.dirname(file)
  fs.mkdirSync(dir, { recursive: true })
  const tmp = tempPath(file)
  const fd = fs.openSync(tmp, 'w', 0o600)
  try {
    fs.writeSync(fd, data)
    if (durable) fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  if (durable && process.platform !== 'win32') {
    const dirFd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(dirFd)
    } finally {
      fs.closeSync(dirFd)
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

/** {@link writeFileAtomic} without fsyncs, off the event loop; the directory must exist. */
async function writeFileAtomicAsync(file: string, data: string): Promise<void> {
  const tmp = tempPath(file)
  await fs.promises.writeFile(tmp, data, { mode: 0o600 })
  await fs.promises.rename(tmp, file)
}

/**
 * Keeps one file replaced atomically (as {@link writeFileAtomic} without fsyncs) with writes
 * on libuv's thread pool, for files rewritten often while output flows: an open, write and
 * rename on a disk busy with logs can take milliseconds that the event loop cannot spare.
 * Writes never overlap; asked for while one is in flight, they collapse into one write of
 * the newest content, rendered when it is written.
 */
export class AtomicFileWriter {
  private inFlight: Promise<void> | null = null
  private next: (() => string) | null = null
  private cancelled = false

  constructor(
    readonly file: string,
    private readonly onError: (err: Error) => void,
    /** Resolves once the file's directory exists. */
    private readonly dirReady: Promise<unknown> = Promise.resolve(),
  ) {}

  /** Write what `render` returns, after the write in flight (if any). */
  write(render: () => string): void {
    if (this.cancelled) return
    this.next = render
    this.inFlight ??= this.drain()
  }

  /** Resolves once everything asked for is written (or failed). */
  settled(): Promise<void> {
    return this.inFlight ?? Promise.resolve()
  }

  /** Write nothing more; resolves once the write in flight is over. */
  cancel(): Promise<void> {
    this.cancelled = true
    this.next = null
    return this.settled()
  }

  private async drain(): Promise<void> {
    await this.dirReady.catch(() => {})
    while (this.next) {
      const render = this.next
      this.next = null
      try {
        await writeFileAtomicAsync(this.file, render())
      } catch (err) {
        if (!this.cancelled) this.onError(err as Error)
      }
    }
    this.inFlight = null
  }
}
