import net, { type Socket } from 'node:net'
import type { Readable } from 'node:stream'

/** Bytes one read of a child's output can bring (a pipe's capacity on Linux). */
const READ_BYTES = 64 * 1024
/** Size of a block: many reads, records or frames each, and more than any one read. */
const BLOCK_BYTES = 1024 * 1024
/** Free blocks kept for reuse; beyond this they are left to the garbage collector. */
const MAX_FREE_BLOCKS = 4

interface Block {
  buf: Buffer
  /** Bytes of the block handed out. */
  used: number
  /** Handed-out pieces not yet released, and extra holds on them (see {@link retainStaged}). */
  refs: number
  /** The staging the block belongs to, which reuses it once every piece is back. */
  owner: Staging
}

/** Every staging block, by the memory it is made of. */
const blocks = new WeakMap<ArrayBufferLike, Block>()

/**
 * Reused memory for output on its way: reads from children (until their batch has been
 * numbered, copied into the ring and sent, see `OutputBatcher`, and the run log has written
 * them), run-log record headers until written, WebSocket frames until the socket has written
 * them. Node gives every socket read a fresh 64 KiB buffer; at hundreds of MB/s those
 * allocations make V8 count hundreds of MB of external memory a second and run a full
 * mark-compact every 20 MB or so (measured: a third of the host's busy time in a flood). With
 * reads landing in one buffer and everything after it in reused blocks here, nothing is
 * allocated while output flows.
 *
 * Every piece handed out must be given back with {@link release} once nothing refers to it any
 * more; a block is reused when all of its pieces are back. A piece never given back only
 * keeps its block from being reused (the garbage collector takes it): never wrong, only
 * slower.
 */
export class Staging {
  private current: Block | null = null
  private readonly free: Block[] = []

  /** A copy of `src[0, n)` in staging memory, valid until it is released. */
  copy(src: Buffer, n: number): Buffer {
    const piece = this.alloc(n)
    src.copy(piece, 0, 0, n)
    return piece
  }

  /** `n` bytes of staging memory to fill, valid until released. */
  alloc(n: number): Buffer {
    let block = this.current
    if (block && block.refs === 0) block.used = 0
    if (!block || block.used + n > block.buf.length) {
      block = this.take(n)
      this.current = block
    }
    const piece = block.buf.subarray(block.used, block.used + n)
    block.used += n
    block.refs++
    return piece
  }

  /**
   * Keep only the first `n` bytes of `piece`, the latest piece handed out, and give the rest
   * back for the next {@link alloc} (a read into staging that brought less than it asked
   * for). Returns the shortened piece.
   */
  trim(piece: Buffer, n: number): Buffer {
    const block = this.current
    if (block && block.buf.buffer === piece.buffer) {
      const end = piece.byteOffset - block.buf.byteOffset + piece.length
      if (end === block.used) block.used -= piece.length - n
    }
    return piece.subarray(0, n)
  }

  /** `piece` (or a part of one) is no longer referred to. Other buffers are ignored. */
  release(piece: Buffer): void {
    releaseStaged(piece)
  }

  /** Whether `piece` lives in this staging's memory (and must be copied to be kept). */
  holds(piece: Buffer): boolean {
    return blocks.get(piece.buffer)?.owner === this
  }

  /**
   * A block whose every piece is back: reuse it, unless it is the one being handed out.
   * @internal Called by {@link releaseStaged}.
   */
  reusable(block: Block): void {
    if (block !== this.current) this.keep(block)
  }

  /** Keep a free block for reuse, unless enough are kept or it is an oversized one. */
  private keep(block: Block): void {
    if (this.free.length >= MAX_FREE_BLOCKS || block.buf.length !== BLOCK_BYTES) return
    block.used = 0
    this.free.push(block)
  }

  private take(n: number): Block {
    const old = this.current
    // The block being left is free already: keep it for reuse.
    if (old && old.refs === 0) this.keep(old)
    const reused = n <= BLOCK_BYTES ? this.free.pop() : undefined
    if (reused) {
      reused.used = 0
      return reused
    }
    const block: Block = {
      buf: Buffer.allocUnsafeSlow(Math.max(BLOCK_BYTES, n)),
      used: 0,
      refs: 0,
      owner: this,
    }
    blocks.set(block.buf.buffer, block)
    return block
  }
}

/**
 * Hold on to `piece` beyond its first release, if it lives in staging memory: its block is
 * not reused until {@link releaseStaged} was called once more for it. Returns false (and holds
 * nothing) for any other buffer, which the caller must copy to keep.
 */
export function retainStaged(piece: Buffer): boolean {
  const block = blocks.get(piece.buffer)
  if (!block || block.refs === 0) return false
  block.refs++
  return true
}

/** Give back a piece handed out by a staging, or held with {@link retainStaged}. */
export function releaseStaged(piece: Buffer): void {
  const block = blocks.get(piece.buffer)
  if (!block || block.refs === 0) return
  block.refs--
  if (block.refs === 0) block.owner.reusable(block)
}

/** The staging every child's output is read into. */
export const readStaging = new Staging()

/** The one buffer socket reads land in; each read is copied out before the next one. */
const readBuffer = Buffer.allocUnsafeSlow(READ_BYTES)

interface StreamHandle {
  reading?: boolean
  readStop?: () => number
  useUserBuffer?: (buf: Uint8Array) => void
}

/**
 * Let `socket` (a child's stdout or stderr, not yet read from) read into {@link readStaging}
 * instead of a fresh buffer per read. Returns the socket to use from now on: it emits 'data'
 * with staged pieces (released by whoever consumes them), 'end' and 'close' as before, and
 * pauses and resumes as before; it reads nothing until {@link startReading}. If this Node
 * cannot do that, `socket` itself is returned and reads allocate as usual.
 */
export function readIntoStaging(socket: Socket): Socket {
  const owner = socket as unknown as { _handle: StreamHandle | null }
  const handle = owner._handle
  if (
    !handle ||
    typeof handle.readStop !== 'function' ||
    typeof handle.useUserBuffer !== 'function' ||
    socket.readableLength > 0
  ) {
    return socket
  }
  // Nothing has been read yet (the loop has not polled since the socket arrived): stop the
  // old socket's reading and give its handle to one that reads into the shared buffer.
  handle.reading = false
  handle.readStop()
  owner._handle = null
  const staged: Socket & { [STAGED]?: true } = new net.Socket({
    handle,
    readable: true,
    writable: false,
    manualStart: true,
    onread: {
      buffer: readBuffer,
      callback: (n: number, buf: Uint8Array) => {
        staged.emit('data', readStaging.copy(buf as Buffer, n))
      },
    },
  } as net.SocketConstructorOpts)
  staged[STAGED] = true
  return staged
}

const STAGED = Symbol('staged')

/**
 * Start reading a socket made by {@link readIntoStaging} (others are left alone). Its reads are
 * not buffered: whatever consumes its 'data' must be listening by the next turn of the loop.
 */
export function startReading(socket: Readable): void {
  if ((socket as { [STAGED]?: true })[STAGED]) socket.resume()
}
