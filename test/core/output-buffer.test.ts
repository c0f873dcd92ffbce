import { describe, expect, it } from 'vitest'
import { OutputBuffer } from '../../src/main/core/output-buffer'
import {
  RetentionBudget,
  SEGMENT_BYTES,
  SharedRingReader,
  SharedRingWriter,
} from '../../src/main/core/shared-ring'
import type { OutputChunk } from '../../src/shared/contract'

/** A small deterministic random generator, so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff
  }
}

const sizeOf = (c: OutputChunk): number =>
  c.stream === 'system' ? c.data.length : Buffer.byteLength(c.data)

describe('OutputBuffer', () => {
  it('keeps exactly the newest chunks within its bound, byte for byte, as the ring wraps and grows', () => {
    const random = rng(42)
    const max = 10_000
    const buffer = new OutputBuffer('p', max)
    const all: OutputChunk[] = []
    for (let i = 0; i < 3000; i++) {
      const r = random()
      let chunk: OutputChunk
      if (r < 0.1) {
        chunk = buffer.push('system', `■ line ${i}\n`, i)
      } else {
        // Sizes from 1 byte to well past the ring's first size; some multibyte text.
        const n = 1 + Math.floor(random() ** 3 * 3000)
        const text = (r < 0.3 ? 'é€' : 'abc').repeat(n).slice(0, n) + '\n'
        const bytes = Buffer.from(text)
        const cut = Math.floor(random() * bytes.length)
        // Read in two pieces, as from a pipe (possibly inside a character).
        const parts = cut > 0 ? [bytes.subarray(0, cut), bytes.subarray(cut)] : [bytes]
        chunk = buffer.pushBytes(r < 0.6 ? 'stdout' : 'stderr', i, parts)
        expect(chunk.data).toBe(bytes.toString())
      }
      all.push({ ...chunk, data: chunk.data })
      if (i % 97 === 0 || i === 2999) {
        // Reference: newest chunks whose sizes fit in the bound.
        let total = 0
        let first = all.length
        while (first > 0 && total + sizeOf(all[first - 1]) <= max) total += sizeOf(all[--first])
        const snap = buffer.snapshot()
        expect(snap.chunks.map((c) => ({ ...c }))).toEqual(all.slice(first))
        expect(snap.firstSeq).toBe(all[first]?.seq ?? buffer.seq)
        expect(snap.droppedChars).toBe(all.slice(0, first).reduce((n, c) => n + sizeOf(c), 0))
        expect(buffer.size).toBe(total)
        // A tail after some seq, and a size-limited tail, agree with the same reference.
        const after = all[Math.max(first, all.length - 5)].seq
        expect(buffer.snapshot(after).chunks.map((c) => ({ ...c }))).toEqual(
          all.filter((c) => c.seq > after),
        )
      }
    }
  })

  it('gives a size-limited tail the program output before an exit line, within twice the limit', () => {
    const buffer = new OutputBuffer('p', 1 << 20)
    const block = 'y\n'.repeat(64 * 1024)
    buffer.pushBytes('stdout', 1, [Buffer.from(`${block.slice(2)}a\n`)])
    buffer.pushBytes('stdout', 2, [Buffer.from(`${block.slice(2)}b\n`)])
    buffer.push('system', '■ exited with code 0\n', 3)
    // The limit is one block: the newest block comes with the exit line, as one over.
    const tail = buffer.snapshot(-1, block.length)
    expect(tail.chunks.map((c) => c.seq)).toEqual([1, 2])
    expect(tail.chunks[0].data.endsWith('b\n')).toBe(true)
    expect(tail.firstSeq).toBe(1)
    expect(tail.droppedChars).toBe(block.length)
    // Within the limit, as before; and the newest chunk alone when it is program output.
    expect(buffer.snapshot(-1, 3 * block.length).chunks.map((c) => c.seq)).toEqual([0, 1, 2])
    // A small tail stays small: the program's chunk comes only within twice the limit.
    expect(buffer.snapshot(-1, block.length / 4).chunks.map((c) => c.seq)).toEqual([2])
    buffer.pushBytes('stderr', 4, [Buffer.from(block)])
    expect(buffer.snapshot(-1, 10).chunks.map((c) => c.seq)).toEqual([3])
  })

  it('keeps the tail of a chunk larger than the whole buffer, from a character boundary', () => {
    const buffer = new OutputBuffer('p', 1000)
    buffer.pushBytes('stdout', 1, [Buffer.from('x'.repeat(500))])
    const big = Buffer.from('€'.repeat(1000)) // 3000 bytes
    const chunk = buffer.pushBytes('stdout', 2, [big])
    expect(chunk.data).toBe('€'.repeat(1000))
    const snap = buffer.snapshot()
    expect(snap.chunks).toHaveLength(1)
    expect(snap.chunks[0].data).toBe('€'.repeat(333))
    expect(snap.droppedChars + Buffer.byteLength(snap.chunks[0].data)).toBe(500 + 3000)
  })

  it('keeps the tail of a chunk read in pieces when its ring may not grow', () => {
    // The budget is spent: the ring stays at its first 64 KiB.
    const buffer = new OutputBuffer('p', 1024 * 1024, new RetentionBudget(0))
    const text = '€'.repeat(40_000) // 120,000 bytes
    const all = Buffer.from(text)
    // Read in pieces cut inside characters.
    const parts = [all.subarray(0, 50_001), all.subarray(50_001, 90_002), all.subarray(90_002)]
    const chunk = buffer.pushBytes('stdout', 1, parts)
    expect(chunk.data).toBe(text)
    const snap = buffer.snapshot()
    expect(snap.chunks.map((c) => c.data)).toEqual(['€'.repeat(Math.floor((64 * 1024) / 3))])
    expect(snap.droppedChars).toBe(all.length - Math.floor((64 * 1024) / 3) * 3)
  })
})

describe('OutputBuffer with a shared retention budget', () => {
  it('keeps the newest output within what the budget grants, and gives it back when disposed', () => {
    const budget = new RetentionBudget(200 * 1024)
    const a = new OutputBuffer('a', 1024 * 1024, budget)
    const b = new OutputBuffer('b', 1024 * 1024, budget)
    const line = (i: number): Buffer =>
      Buffer.from(`${String(i).padStart(9, '0')} ${'y'.repeat(990)}\n`)
    const all: string[] = []
    for (let i = 0; i < 1000; i++) {
      all.push(a.pushBytes('stdout', i, [line(i)]).data)
    }
    expect(budget.available).toBe(0)
    const snap = a.snapshot()
    const kept = snap.chunks.map((c) => c.data)
    // The newest chunks, byte for byte, as much as the granted 200 KiB holds.
    expect(kept).toEqual(all.slice(all.length - kept.length))
    expect(kept.join('').length).toBeLessThanOrEqual(200 * 1024)
    expect(kept.join('').length).toBeGreaterThan(190 * 1024)
    expect(snap.droppedChars + kept.join('').length).toBe(all.join('').length)
    // A process started later still keeps its first 64 KiB.
    const allB: string[] = []
    for (let i = 0; i < 200; i++) allB.push(b.pushBytes('stdout', i, [line(i)]).data)
    const small = b
      .snapshot()
      .chunks.map((c) => c.data)
      .join('')
    expect(small.length).toBeGreaterThan(60 * 1024)
    expect(small.length).toBeLessThanOrEqual(64 * 1024)
    // Removing the first process frees its memory for the others.
    a.dispose()
    expect(budget.available).toBe(200 * 1024 - 64 * 1024)
    // Its ring, wrapped by then, grows into the room freed: the newest output, byte for byte.
    for (let i = 200; i < 210; i++) allB.push(b.pushBytes('stdout', i, [line(i)]).data)
    const grown = b.snapshot().chunks.map((c) => c.data)
    expect(grown.join('').length).toBeGreaterThan(64 * 1024)
    expect(grown).toEqual(allB.slice(allB.length - grown.length))
    for (let i = 210; i < 400; i++) allB.push(b.pushBytes('stdout', i, [line(i)]).data)
    const later = b.snapshot().chunks.map((c) => c.data)
    expect(later.join('').length).toBeGreaterThan(64 * 1024)
    expect(later).toEqual(allB.slice(allB.length - later.length))
  })
})

describe('OutputBuffer holding chunks of the output worker', () => {
  it('reads them from the shared ring, and counts those it no longer holds as dropped', () => {
    const reader = { current: null as SharedRingReader | null }
    const writer = new SharedRingWriter(2 * SEGMENT_BYTES, null, (block, memory) =>
      reader.current!.addSegment(block, memory),
    )
    reader.current = new SharedRingReader(writer.control)
    const buffer = new OutputBuffer('p', 1024 * 1024)
    buffer.push('system', 'started\n', 0)
    const line = (i: number): Buffer =>
      Buffer.from(`${String(i).padStart(9, '0')}${'x'.repeat(90)}\n`)
    const chunks: OutputChunk[] = []
    // Numbered by the worker from 1 on: its own line first, then program output.
    for (let i = 0; i < 3000; i++) {
      const bytes = line(i)
      const at = writer.append(bytes)
      chunks.push(buffer.adopt(reader.current, i + 1, 'stdout', i, at, bytes.length))
    }
    // The newest read back from the ring; the oldest were reused (the ring holds 128 KiB).
    expect(chunks[2999].data).toBe(line(2999).toString())
    expect(() => chunks[0].data).toThrow(/no longer kept/)
    const snap = buffer.snapshot()
    const kept = snap.chunks.filter((c) => c.stream === 'stdout')
    expect(kept.length).toBeGreaterThan(1000)
    expect(kept.length).toBeLessThan(1400)
    expect(kept.map((c) => c.data).join('')).toBe(
      Array.from({ length: kept.length }, (_, k) => line(3000 - kept.length + k)).join(''),
    )
    // Corral's own line is still held; the chunks after it that are gone leave a hole, which
    // a viewer shows as output not shown (loadable from the run log).
    expect(snap.chunks[0]).toMatchObject({ seq: 0, data: 'started\n' })
    expect(snap.chunks[1].seq).toBe(3001 - kept.length)
    expect(snap.droppedChars).toBe((3000 - kept.length) * 100)
    // Numbering comes back after the run.
    buffer.resume(3001)
    expect(buffer.push('system', 'exited\n', 1).seq).toBe(3001)
  })
})
