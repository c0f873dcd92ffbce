import { describe, expect, it } from 'vitest'
import {
  byteChunk,
  bytesOf,
  completeLength,
  Utf8Splitter,
  utf8Tail,
} from '../../src/main/core/utf8'

/** A deterministic pseudo-random generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    return s / 0x7fffffff
  }
}

describe('Utf8Splitter', () => {
  it('never cuts a character: any split decodes like the whole', () => {
    const text = Buffer.from('plain, é, 日本語, 🎉, ∑ and more 😀😀\n'.repeat(20))
    const random = rng(7)
    for (let trial = 0; trial < 300; trial++) {
      const splitter = new Utf8Splitter()
      let out = ''
      for (let i = 0; i < text.length;) {
        const n = 1 + Math.floor(random() * 9)
        out += splitter.push(text.subarray(i, i + n)).toString('utf8')
        i += n
      }
      out += splitter.end().toString('utf8')
      expect(out).toBe(text.toString('utf8'))
    }
  })

  it('random bytes, including invalid ones, pass through unchanged and decode as the whole does', () => {
    const random = rng(42)
    for (let trial = 0; trial < 300; trial++) {
      const bytes = Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256)))
      const splitter = new Utf8Splitter()
      const parts: Buffer[] = []
      for (let i = 0; i < bytes.length;) {
        const n = 1 + Math.floor(random() * 6)
        parts.push(splitter.push(bytes.subarray(i, i + n)))
        i += n
      }
      parts.push(splitter.end())
      expect(Buffer.concat(parts).equals(bytes)).toBe(true)
      expect(parts.map((p) => p.toString('utf8')).join('')).toBe(bytes.toString('utf8'))
    }
  })

  it('completeLength excludes only an incomplete trailing sequence', () => {
    expect(completeLength(Buffer.from([0x61, 0xc3]))).toBe(1)
    expect(completeLength(Buffer.from([0xe6, 0x97]))).toBe(0)
    expect(completeLength(Buffer.from([0xe6, 0x97, 0xa5]))).toBe(3)
    expect(completeLength(Buffer.from([0x61, 0xff]))).toBe(2)
    expect(completeLength(Buffer.from([0xf0, 0x9f, 0x8e]))).toBe(0)
  })

  it('byteChunk decodes lazily and keeps bytes equal to the UTF-8 of its text', () => {
    const bad = byteChunk(1, 'stdout', 5, [Buffer.from([0x62, 0xff]), Buffer.from('c')])
    expect(bad.data).toBe('b\uFFFDc')
    expect(Buffer.concat(bytesOf(bad)).equals(Buffer.from('b\uFFFDc'))).toBe(true)
    const parts = [Buffer.from('ok '), Buffer.from('✓')]
    const good = byteChunk(2, 'stderr', 6, parts)
    expect(bytesOf(good)).toBe(parts)
    // The text is an ordinary enumerable field for JSON and structured clone.
    expect(JSON.parse(JSON.stringify(good))).toEqual({
      seq: 2,
      stream: 'stderr',
      time: 6,
      data: 'ok ✓',
    })
    expect(structuredClone(good)).toEqual({ seq: 2, stream: 'stderr', time: 6, data: 'ok ✓' })
  })
})

describe('utf8Tail', () => {
  it('keeps the last bytes from a character boundary, as views of the pieces', () => {
    const random = rng(7)
    for (let round = 0; round < 500; round++) {
      const text = Array.from(
        { length: 1 + Math.floor(random() * 40) },
        () => ['a', 'é', '€', '𝄞'][Math.floor(random() * 4)],
      ).join('')
      const all = Buffer.from(text)
      // The bytes in up to four pieces, cut anywhere (inside characters too).
      const cuts = Array.from({ length: Math.floor(random() * 4) }, () =>
        Math.floor(random() * all.length),
      ).sort((a, b) => a - b)
      const parts = [0, ...cuts, all.length]
        .slice(1)
        .map((end, i, ends) => all.subarray(i === 0 ? 0 : ends[i - 1], end))
      const max = Math.floor(random() * (all.length + 2))
      // Reference: the last `max` bytes, less the continuation bytes at their front.
      let from = Math.max(0, all.length - max)
      while (from < all.length && (all[from] & 0xc0) === 0x80) from++
      const tail = utf8Tail(parts, max)
      expect(Buffer.concat(tail).toString('latin1')).toBe(all.subarray(from).toString('latin1'))
      for (const piece of tail) expect(piece.buffer).toBe(all.buffer)
      expect(tail.every((piece) => piece.length > 0)).toBe(true)
    }
  })
})
