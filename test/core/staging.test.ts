import { describe, expect, it } from 'vitest'
import { OutputBatcher, OutputBuffer } from '../../src/main/core/output-buffer'
import { Staging } from '../../src/main/core/staging'
import {
  byteChunk,
  bytesOf,
  byteSizeOf,
  keptChunks,
  sharedChunk,
  type SharedBytes,
} from '../../src/main/core/utf8'
import { encodeOutputFrame } from '../../src/main/core/web-server'
import { decodeOutputFrame, frameTextOf } from '../../src/shared/wire'
import type { OutputChunk } from '../../src/shared/contract'

const read = (text: string): Buffer => Buffer.from(text)

describe('Staging', () => {
  it('reuses memory only once every piece in it is released', () => {
    const staging = new Staging()
    const a = staging.copy(read('first read'), 10)
    const b = staging.copy(read('second'), 6)
    expect(a.toString()).toBe('first read')
    expect(b.buffer).toBe(a.buffer)
    staging.release(a)
    // `b` is still held: the next copy goes after it, and `b` keeps its bytes.
    const c = staging.copy(read('third'), 5)
    expect(b.toString()).toBe('second')
    expect(c.byteOffset).toBeGreaterThan(b.byteOffset)
    staging.release(b)
    staging.release(c)
    // All back: the block starts over from its beginning.
    const d = staging.copy(read('fourth'), 6)
    expect(d.buffer).toBe(a.buffer)
    expect(d.byteOffset).toBe(a.byteOffset)
    // Buffers that are not staged, and pieces released twice, change nothing.
    staging.release(read('elsewhere'))
    staging.release(d)
    staging.release(d)
    expect(staging.holds(d)).toBe(true)
    expect(staging.holds(read('x'))).toBe(false)
  })

  it('moves on to another block when one is full, and takes back blocks whose pieces are all released', () => {
    const staging = new Staging()
    const piece = Buffer.alloc(64 * 1024, 'y')
    const held: Buffer[] = []
    for (let i = 0; i < 40; i++) held.push(staging.copy(piece, piece.length))
    const blocks = new Set(held.map((p) => p.buffer))
    expect(blocks.size).toBeGreaterThan(1)
    expect(held.every((p) => p.equals(piece))).toBe(true)
    for (const p of held) staging.release(p)
    // The next reads land in memory that was used before, not in new blocks.
    const again = staging.copy(piece, piece.length)
    expect(blocks.has(again.buffer)).toBe(true)
  })
})

describe('OutputBatcher with staged reads', () => {
  it('gives the reads back after a flush; a chunk kept past its event reads its bytes from the ring', () => {
    const staging = new Staging()
    const buffer = new OutputBuffer('p', 1024 * 1024)
    const kept: OutputChunk[] = []
    const logged: string[] = []
    const batcher = new OutputBatcher(
      buffer,
      (chunks) => kept.push(...chunks),
      () => 0,
      (_chunk, raw) => logged.push(Buffer.concat(raw).toString()),
      staging,
    )
    const texts: string[] = []
    for (let i = 0; i < 50; i++) {
      const text = `line ${i} ${'z'.repeat(i * 97)}\n`
      texts.push(text)
      batcher.addBytes(i % 2 ? 'stderr' : 'stdout', staging.copy(read(text), text.length))
      batcher.flush()
    }
    // Later reads reused the memory of earlier ones, yet every kept chunk is intact.
    expect(kept.map((c) => c.data)).toEqual(texts)
    expect(kept.map((c) => Buffer.concat(bytesOf(c)).toString())).toEqual(texts)
    expect(logged).toEqual(texts)
  })

  it('a kept chunk whose bytes left the ring says so instead of showing other bytes', () => {
    const staging = new Staging()
    const buffer = new OutputBuffer('p', 100)
    const kept: OutputChunk[] = []
    const batcher = new OutputBatcher(
      buffer,
      (chunks) => kept.push(...chunks),
      () => 0,
      undefined,
      staging,
    )
    for (const text of ['a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60)]) {
      batcher.addBytes('stdout', staging.copy(read(text), text.length))
      batcher.flush()
    }
    expect(kept[2].data).toBe('c'.repeat(60))
    expect(() => kept[0].data).toThrow(/no longer kept in memory/)
  })

  it('a chunk larger than the ring is sent whole, then says it is no longer kept', () => {
    const staging = new Staging()
    const buffer = new OutputBuffer('p', 100)
    const seen: string[] = []
    const kept: OutputChunk[] = []
    const batcher = new OutputBatcher(
      buffer,
      (chunks) => {
        // What a transport does: send the bytes during the event.
        seen.push(...chunks.map((c) => Buffer.concat(bytesOf(c)).toString()))
        kept.push(...chunks)
      },
      () => 0,
      undefined,
      staging,
    )
    const text = 'q'.repeat(500)
    batcher.addBytes('stdout', staging.copy(read(text), text.length))
    batcher.flush()
    staging.copy(read('w'.repeat(500)), 500)
    expect(seen).toEqual([text])
    expect(() => kept[0].data).toThrow(/no longer kept in memory/)
  })
})

describe('output frames in reused memory', () => {
  it('a frame built in staging memory decodes to the batch it carries', () => {
    const staging = new Staging()
    const batch = {
      id: 'p',
      chunks: [
        byteChunk(7, 'stdout', 1, [read('héllo '), read('wörld\n')]),
        byteChunk(8, 'stderr', 2, [read('oops\n')]),
      ],
    }
    const frame = encodeOutputFrame(batch, (n) => staging.alloc(n))!
    expect(staging.holds(frame)).toBe(true)
    const decoded = decodeOutputFrame(new Uint8Array(frame))
    expect(decoded).toEqual({
      id: 'p',
      chunks: [
        { seq: 7, stream: 'stdout', time: 1, data: 'héllo wörld\n' },
        { seq: 8, stream: 'stderr', time: 2, data: 'oops\n' },
      ],
    })
    // Released once written: the next frame reuses the memory.
    staging.release(frame)
    const next = encodeOutputFrame(batch, (n) => staging.alloc(n))!
    expect(next.buffer).toBe(frame.buffer)
    expect(next.byteOffset).toBe(frame.byteOffset)
  })

  it('decodes the text of a frame at once, each chunk a slice of it, unless characters take several bytes', () => {
    // Built by hand, as shared/wire.ts lays it out, to hold any bytes at all.
    let n = 0
    const frameOf = (pieces: Buffer[]): Uint8Array => {
      const header = Buffer.from(
        JSON.stringify({
          // A process of its own: how its earlier frames were decoded tells how the next is.
          id: `case ${n++}`,
          chunks: pieces.map((b, i) => ({ seq: i, stream: 'stdout', time: i, bytes: b.length })),
        }),
      )
      const length = Buffer.alloc(4)
      length.writeUInt32LE(header.length)
      return new Uint8Array(Buffer.concat([length, header, ...pieces]))
    }
    const cases: { pieces: Buffer[]; sliced: boolean }[] = [
      { pieces: [read('first line\nsec'), read('ond\n'), read('third\n')], sliced: true },
      // A byte that is not UTF-8 is one U+FFFD either way.
      { pieces: [read('a'), Buffer.from([0xff, 0x41]), read('b\n')], sliced: true },
      { pieces: [read('héllo\n'), read('wörld\n')], sliced: false },
      // Cut inside a character (the host never cuts there): each decoded alone, as before.
      { pieces: [Buffer.from([0x61, 0xc3]), Buffer.from([0xa9, 0x0a])], sliced: false },
    ]
    for (const { pieces, sliced } of cases) {
      const decoded = decodeOutputFrame(frameOf(pieces))
      expect(decoded.chunks.map((c) => c.data)).toEqual(
        pieces.map((b) => new TextDecoder().decode(b)),
      )
      for (const chunk of decoded.chunks) {
        const frame = frameTextOf(chunk)
        expect(frame !== undefined, JSON.stringify(chunk.data)).toBe(sliced)
        if (frame) {
          expect(frame.text.slice(frame.offset, frame.offset + chunk.data.length)).toBe(chunk.data)
        }
      }
    }
  })

  it("decodes a process's frames chunk by chunk after one with multibyte characters, until one has none", () => {
    const frameOf = (id: string, texts: string[]): Uint8Array =>
      new Uint8Array(
        encodeOutputFrame(
          { id, chunks: texts.map((t, i) => byteChunk(i, 'stdout', i, [read(t)])) },
          (n) => Buffer.alloc(n),
        )!,
      )
    const sliced = (id: string, texts: string[]): boolean[] => {
      const decoded = decodeOutputFrame(frameOf(id, texts))
      expect(decoded.chunks.map((c) => c.data)).toEqual(texts)
      return decoded.chunks.map((c) => frameTextOf(c) !== undefined)
    }
    const ascii = ['plain line\n', 'another\n']
    const multibyte = ['é line\n', '€ and more\n']
    expect(sliced('m', ascii)).toEqual([true, true])
    expect(sliced('m', multibyte)).toEqual([false, false])
    // Decoded chunk by chunk (no whole text to slice), and still the same text.
    expect(sliced('m', multibyte)).toEqual([false, false])
    // Another process is not affected.
    expect(sliced('other', ascii)).toEqual([true, true])
    // The first frame with none is still decoded chunk by chunk; the one after it is whole again.
    expect(sliced('m', ascii)).toEqual([false, false])
    expect(sliced('m', ascii)).toEqual([true, true])
    // A frame of one chunk is decoded whole either way.
    expect(sliced('m', ['ü\n'])).toEqual([false])
    expect(sliced('m', ['ascii\n'])).toEqual([true])
    expect(sliced('m', ascii)).toEqual([true, true])
  })

  it('leaves out chunks whose bytes are no longer kept, and sends nothing when none is', () => {
    const elsewhere = (bytes: Buffer | null): SharedBytes => ({
      read: () => bytes && Buffer.from(bytes),
      copyInto: (target, offset) => (bytes ? (target.set(bytes, offset), true) : false),
      held: () => bytes !== null,
    })
    const gone = sharedChunk(3, 'stdout', 1, 5, elsewhere(null))
    const kept = sharedChunk(4, 'stdout', 2, 6, elsewhere(Buffer.from('still\n')))
    // Held when the frame began, gone by the time it was copied: the frame is built without.
    let copies = 0
    const raced = sharedChunk(5, 'stderr', 3, 4, {
      ...elsewhere(Buffer.from('lost')),
      copyInto: () => false,
      held: () => copies++ === 0,
    })
    const rebuilt = encodeOutputFrame({ id: 'p', chunks: [kept, raced] }, (n) => Buffer.alloc(n))!
    expect(decodeOutputFrame(new Uint8Array(rebuilt)).chunks.map((c) => c.seq)).toEqual([4])
    const frame = encodeOutputFrame({ id: 'p', chunks: [gone, kept] }, (n) => Buffer.alloc(n))!
    expect(decodeOutputFrame(new Uint8Array(frame))).toEqual({
      id: 'p',
      chunks: [{ seq: 4, stream: 'stdout', time: 2, data: 'still\n' }],
    })
    expect(encodeOutputFrame({ id: 'p', chunks: [gone] }, (n) => Buffer.alloc(n))).toBeNull()
    // Their sizes are known without reading them; text transports leave them out too.
    expect(byteSizeOf(gone)).toBe(5)
    expect(keptChunks([gone, kept])).toEqual([
      { seq: 4, stream: 'stdout', time: 2, data: 'still\n' },
    ])
  })
})
