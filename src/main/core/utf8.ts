import { isUtf8 } from 'node:buffer'
import type { OutputChunk, OutputStream } from '../../shared/contract'

/**
 * Splits a byte stream at UTF-8 character boundaries: each call returns the bytes up to the
 * last complete character and keeps an incomplete trailing sequence for the next call, so a
 * character split between two reads is never cut in two. Invalid bytes are passed through
 * (they decode to U+FFFD later).
 */
export class Utf8Splitter {
  private tail: Buffer | null = null

  /** Bytes ready to decode, possibly empty. */
  push(buf: Buffer): Buffer {
    const data = this.tail ? Buffer.concat([this.tail, buf]) : buf
    this.tail = null
    const cut = completeLength(data)
    if (cut < data.length) this.tail = Buffer.from(data.subarray(cut))
    return cut === data.length ? data : data.subarray(0, cut)
  }

  /** At end of stream: whatever incomplete bytes are left. */
  end(): Buffer {
    const rest = this.tail ?? Buffer.alloc(0)
    this.tail = null
    return rest
  }
}

/**
 * How many UTF-8 continuation bytes (of a character begun before) `data` starts with, among
 * its first `length` bytes: where to move a cut so that it falls between characters.
 */
export function leadingContinuationBytes(data: Buffer, length = data.length): number {
  let k = 0
  while (k < length && (data[k] & 0xc0) === 0x80) k++
  return k
}

/**
 * Length of the prefix of `data` that ends on a character boundary: an incomplete multibyte
 * sequence at the very end (at most 3 bytes) is excluded.
 */
export function completeLength(data: Buffer): number {
  const n = data.length
  // Look back over up to 3 continuation bytes for the lead byte of the last character.
  for (let back = 1; back <= Math.min(4, n); back++) {
    const b = data[n - back]
    if ((b & 0xc0) === 0x80) continue // continuation byte: keep looking
    const need = b >= 0xf5 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 1
    return need > back ? n - back : n
  }
  return n
}

/**
 * The UTF-8 of a chunk's text: the pieces it was read in, or (once those may be reused, see
 * {@link rebindChunkBytes}) a way to read a copy back; and its text once decoded.
 */
interface ChunkBytes {
  bytes: readonly Buffer[] | null
  reread: (() => Buffer | null) | null
  text: string | undefined
  /** Length of the UTF-8. */
  size: number
  /** Where the bytes are kept when another thread keeps them (see {@link sharedChunk}). */
  shared: SharedBytes | null
}

/** Bytes of a chunk kept in the output worker's shared ring. */
export interface SharedBytes {
  /** A copy, or null when they are no longer kept. */
  read(): Buffer | null
  /** Copy them into `target` at `offset`; false when they are no longer kept. */
  copyInto(target: Uint8Array, offset: number): boolean
  /** Whether they are still kept (they may go any moment). */
  held(): boolean
}
const chunkBytes = new WeakMap<OutputChunk, ChunkBytes>()

/**
 * Make a chunk of program output from bytes that end on character boundaries. The text is
 * decoded only when something reads `data` (Electron IPC, JSON, snapshots): the headless
 * host sends the bytes themselves, and decoding megabytes per second nobody reads is the
 * single largest cost of a flood. Invalid sequences are replaced (U+FFFD) up front so the
 * bytes always equal the UTF-8 of the text.
 */
export function byteChunk(
  seq: number,
  stream: OutputStream,
  time: number,
  parts: readonly Buffer[],
): OutputChunk {
  const valid = parts.every((p) => isUtf8(p))
  const state: ChunkBytes = {
    bytes: parts,
    reread: null,
    text: undefined,
    size: 0,
    shared: null,
  }
  if (!valid) {
    state.text = Buffer.concat(parts).toString('utf8')
    state.bytes = [Buffer.from(state.text, 'utf8')]
  }
  state.size = byteLength(state.bytes!)
  return withBytes({ seq, stream, time } as OutputChunk, state)
}

/**
 * A chunk of program output whose `size` bytes (valid UTF-8) are kept elsewhere (the output
 * worker's shared ring), copied out when a transport or a snapshot needs them, as long as
 * they are kept. See {@link keptBytesOf} and {@link copyBytesInto}.
 */
export function sharedChunk(
  seq: number,
  stream: OutputStream,
  time: number,
  size: number,
  shared: SharedBytes,
): OutputChunk {
  return withBytes({ seq, stream, time } as OutputChunk, {
    bytes: null,
    reread: () => shared.read(),
    text: undefined,
    size,
    shared,
  })
}

/** Whether a chunk's bytes can still be had (see {@link keptBytesOf}). */
export function stillKept(chunk: OutputChunk): boolean {
  const state = chunkBytes.get(chunk)
  if (state?.shared && !state.bytes) return state.shared.held()
  return keptBytesOf(chunk) !== null
}

/**
 * Copy a chunk's UTF-8 into `target` at `offset` (room for {@link byteSizeOf} bytes); bytes
 * kept in shared memory go straight there, with no copy in between. False when they are no
 * longer kept.
 */
export function copyBytesInto(chunk: OutputChunk, target: Buffer, offset: number): boolean {
  const state = chunkBytes.get(chunk)
  if (state?.shared && !state.bytes) return state.shared.copyInto(target, offset)
  const parts = keptBytesOf(chunk)
  if (!parts) return false
  let at = offset
  for (const part of parts) at += part.copy(target, at)
  return true
}

function withBytes(chunk: OutputChunk, state: ChunkBytes): OutputChunk {
  Object.defineProperty(chunk, 'data', {
    enumerable: true,
    get: () => {
      if (state.text !== undefined) return state.text
      const bytes = bytesOf(chunk)
      return (state.text =
        bytes.length === 1 ? bytes[0].toString('utf8') : Buffer.concat(bytes).toString('utf8'))
    },
  })
  chunkBytes.set(chunk, state)
  return chunk
}

/**
 * The pieces `chunk` was made from are about to be reused (see `Staging`): from now on its
 * bytes are a copy read back by `reread` (from the process's retained output) when asked for.
 */
export function rebindChunkBytes(chunk: OutputChunk, reread: () => Buffer | null): void {
  const state = chunkBytes.get(chunk)
  if (!state || state.bytes === null) return
  state.bytes = null
  state.reread = reread
}

/** The UTF-8 of a chunk's text, in pieces. */
export function bytesOf(chunk: OutputChunk): readonly Buffer[] {
  const bytes = keptBytesOf(chunk)
  if (bytes) return bytes
  throw new Error(
    `output ${chunk.seq} is no longer kept in memory: keep its text or bytes while the output event is handled`,
  )
}

/**
 * The UTF-8 of a chunk's text, or null when its bytes are no longer kept: a chunk of the
 * output worker whose memory was reused before anything read it. A transport leaves such a
 * chunk out; the viewer sees the jump in sequence numbers and offers to load it from disk.
 */
export function keptBytesOf(chunk: OutputChunk): readonly Buffer[] | null {
  const state = chunkBytes.get(chunk)
  if (!state) return [Buffer.from(chunk.data, 'utf8')]
  if (state.bytes) return state.bytes
  const copy = state.reread?.() ?? null
  if (copy) return (state.bytes = [copy])
  if (state.text !== undefined) return (state.bytes = [Buffer.from(state.text, 'utf8')])
  return null
}

/** A chunk's text, or null when its bytes are no longer kept (see {@link keptBytesOf}). */
export function keptTextOf(chunk: OutputChunk): string | null {
  const state = chunkBytes.get(chunk)
  if (!state || state.text !== undefined || keptBytesOf(chunk)) return chunk.data
  return null
}

/**
 * The chunks whose bytes are still kept, as plain objects with their text (what a transport
 * that sends text, such as Electron IPC, sends); the others are left out (see
 * {@link keptBytesOf}).
 */
export function keptChunks(chunks: readonly OutputChunk[]): OutputChunk[] {
  const kept: OutputChunk[] = []
  for (const chunk of chunks) {
    const data = keptTextOf(chunk)
    if (data !== null) kept.push({ seq: chunk.seq, stream: chunk.stream, data, time: chunk.time })
  }
  return kept
}

/** Length of a chunk's UTF-8, without reading it where it is kept elsewhere. */
export function byteSizeOf(chunk: OutputChunk): number {
  return chunkBytes.get(chunk)?.size ?? Buffer.byteLength(chunk.data, 'utf8')
}

/** Total length of some buffers. */
export function byteLength(parts: readonly Buffer[]): number {
  let n = 0
  for (const p of parts) n += p.length
  return n
}

/**
 * The last `max` bytes or fewer of `parts`, starting at a character boundary (continuation
 * bytes at the front are left out), as views of the pieces: nothing is copied.
 */
export function utf8Tail(parts: readonly Buffer[], max: number): Buffer[] {
  const tail: Buffer[] = []
  let left = max
  for (let i = parts.length - 1; i >= 0 && left > 0; i--) {
    const part = parts[i]
    if (part.length === 0) continue
    const piece = part.length <= left ? part : part.subarray(part.length - left)
    tail.push(piece)
    left -= piece.length
  }
  tail.reverse()
  while (tail.length > 0) {
    const first = tail[0]
    let skip = 0
    while (skip < first.length && (first[skip] & 0xc0) === 0x80) skip++
    if (skip < first.length) {
      if (skip > 0) tail[0] = first.subarray(skip)
      break
    }
    tail.shift()
  }
  return tail
}
