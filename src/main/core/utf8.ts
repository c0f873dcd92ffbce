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

/** The UTF-8 of each chunk's text, as the pieces it was read in. */
const chunkBytes = new WeakMap<OutputChunk, readonly Buffer[]>()

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
  let text: string | undefined
  const utf8 = valid ? parts : [Buffer.from((text = Buffer.concat(parts).toString('utf8')), 'utf8')]
  const chunk = { seq, stream, time } as OutputChunk
  Object.defineProperty(chunk, 'data', {
    enumerable: true,
    get: () =>
      (text ??=
        utf8.length === 1 ? utf8[0].toString('utf8') : Buffer.concat(utf8).toString('utf8')),
  })
  chunkBytes.set(chunk, utf8)
  return chunk
}

/** The UTF-8 of a chunk's text, in pieces. */
export function bytesOf(chunk: OutputChunk): readonly Buffer[] {
  return chunkBytes.get(chunk) ?? [Buffer.from(chunk.data, 'utf8')]
}

/** Total length of some buffers. */
export function byteLength(parts: readonly Buffer[]): number {
  let n = 0
  for (const p of parts) n += p.length
  return n
}
