import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'
import {
  SEGMENT_BYTES,
  RetentionBudget,
  SharedRingReader,
  SharedRingWriter,
} from '../../src/main/core/shared-ring'

/**
 * The byte at running offset `p` in every ring these tests write: it differs between two
 * offsets a whole number of segments apart, so memory reused for a newer segment never
 * passes for the older one.
 */
const patternAt = (p: number): number => ((p & 255) + 7 * Math.floor(p / SEGMENT_BYTES)) & 255

function pattern(from: number, n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = patternAt(from + i)
  return out
}

/** The index of the first byte of `buf` that is not the pattern from `from`, or -1. */
function mismatch(buf: Uint8Array, from: number): number {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== patternAt(from + i)) return i
  return -1
}

/** A writer and a reader on this thread, the reader told of every segment at once. */
function ring(maxBytes: number, budget: RetentionBudget | null = null) {
  let reader: SharedRingReader | null = null
  const early: [number, SharedArrayBuffer][] = []
  const writer = new SharedRingWriter(maxBytes, budget, (block, memory) => {
    if (reader) reader.addSegment(block, memory)
    else early.push([block, memory])
  })
  reader = new SharedRingReader(writer.control)
  for (const [block, memory] of early) reader.addSegment(block, memory)
  return { writer, reader }
}

describe('RetentionBudget', () => {
  it('grants what is left, can be forced below zero, and is the same counter on both sides', () => {
    const a = new RetentionBudget(100)
    const b = new RetentionBudget(a.memory)
    expect(a.take(60)).toBe(60)
    expect(b.take(60)).toBe(40)
    expect(a.take(1)).toBe(0)
    b.force(10)
    expect(a.available).toBe(-10)
    a.give(110)
    expect(b.available).toBe(100)
  })
})

describe('SharedRingWriter and SharedRingReader', () => {
  it('reads back exactly what was written, across segment boundaries', () => {
    const { writer, reader } = ring(8 * SEGMENT_BYTES)
    let at = 0
    for (const n of [10, SEGMENT_BYTES - 10, 1, 3 * SEGMENT_BYTES + 5, 777]) {
      expect(writer.append(pattern(at, n))).toBe(at)
      at += n
    }
    expect(reader.end).toBe(at)
    expect(reader.validFrom).toBe(0)
    for (const [from, n] of [
      [0, 10],
      [5, SEGMENT_BYTES],
      [SEGMENT_BYTES - 1, 2],
      [at - 777, 777],
    ]) {
      const got = reader.read(from, n)
      expect(got).not.toBeNull()
      expect(mismatch(got!, from)).toBe(-1)
    }
    // Not written yet.
    expect(reader.read(at - 1, 2)).toBeNull()
  })

  it('makes room by dropping the oldest bytes, and says they are gone', () => {
    const { writer, reader } = ring(4 * SEGMENT_BYTES)
    let at = 0
    for (let i = 0; i < 20; i++) {
      writer.append(pattern(at, 50_000))
      at += 50_000
    }
    const from = reader.validFrom
    // Full, it holds exactly its capacity of the newest bytes.
    expect(at - from).toBe(4 * SEGMENT_BYTES)
    expect(reader.read(from - 1, 10)).toBeNull()
    expect(mismatch(reader.read(from, at - from)!, from)).toBe(-1)
  })

  it('keeps nothing of a chunk larger than all its room, and goes on after it', () => {
    const { writer, reader } = ring(2 * SEGMENT_BYTES)
    writer.append(pattern(0, 1000))
    const big = 3 * SEGMENT_BYTES
    expect(writer.append(pattern(1000, big))).toBe(1000)
    expect(reader.validFrom).toBe(1000 + big)
    expect(reader.read(0, 10)).toBeNull()
    expect(reader.read(1000, 10)).toBeNull()
    const at = writer.append(pattern(1000 + big, 500))
    expect(mismatch(reader.read(at, 500)!, at)).toBe(-1)
  })

  it('grows only as far as the shared budget grants, keeps its first segment, gives all back', () => {
    const budget = new RetentionBudget(3 * SEGMENT_BYTES)
    const a = ring(8 * SEGMENT_BYTES, budget)
    const b = ring(8 * SEGMENT_BYTES, budget)
    let at = 0
    for (let i = 0; i < 10; i++) {
      a.writer.append(pattern(at, SEGMENT_BYTES))
      at += SEGMENT_BYTES
    }
    expect(budget.available).toBe(0)
    expect(at - a.reader.validFrom).toBeLessThanOrEqual(3 * SEGMENT_BYTES)
    // The other ring still gets one segment, beyond the budget.
    b.writer.append(pattern(0, 100))
    expect(budget.available).toBe(-SEGMENT_BYTES)
    expect(mismatch(b.reader.read(0, 100)!, 0)).toBe(-1)
    a.writer.dispose()
    b.writer.dispose()
    expect(budget.available).toBe(3 * SEGMENT_BYTES)
  })

  describe('with the writer on another thread', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-ring-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('never hands out bytes that were overwritten while they were copied', async () => {
      // The module under test, as the worker thread loads it (it cannot load TypeScript).
      const source = readFileSync(
        path.join(import.meta.dirname, '../../src/main/core/shared-ring.ts'),
        'utf8',
      )
      const js = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText
      writeFileSync(path.join(dir, 'shared-ring.mjs'), js)
      writeFileSync(
        path.join(dir, 'writer.mjs'),
        `
import { parentPort, workerData } from 'node:worker_threads'
import { SharedRingWriter } from './shared-ring.mjs'
const SEG = 65536
// Any stretch of the pattern within a segment is a view of one of these (by the segment's
// shift), copied at memory speed, so segments are reused as fast as the machine can write.
const shifted = []
for (let s = 0; s < 256; s++) {
  const b = new Uint8Array(256 + 20000)
  for (let i = 0; i < b.length; i++) b[i] = (i + s) & 255
  shifted.push(b)
}
const writer = new SharedRingWriter(4 * SEG, null, (block, memory) =>
  parentPort.postMessage({ t: 'segment', block, memory }))
parentPort.postMessage({ t: 'control', control: writer.control })
const chunk = new Uint8Array(20000)
let at = 0
let n = 1
const until = Date.now() + workerData.ms
while (Date.now() < until) {
  n = (n * 7919 + 13) % 20000 + 1
  for (let done = 0; done < n; ) {
    const pos = at + done
    const len = Math.min(n - done, SEG - (pos % SEG))
    const from = pos & 255
    chunk.set(shifted[(7 * Math.floor(pos / SEG)) & 255].subarray(from, from + len), done)
    done += len
  }
  writer.append(chunk.subarray(0, n))
  at += n
}
parentPort.postMessage({ t: 'done', written: at })
`,
      )
      const worker = new Worker(path.join(dir, 'writer.mjs'), { workerData: { ms: 1000 } })
      let reader: SharedRingReader | null = null
      let done = false
      worker.on(
        'message',
        (m: {
          t: string
          control: SharedArrayBuffer
          block: number
          memory: SharedArrayBuffer
        }) => {
          if (m.t === 'control') reader = new SharedRingReader(m.control)
          else if (m.t === 'segment') reader?.addSegment(m.block, m.memory)
          else if (m.t === 'done') done = true
        },
      )
      let exact = 0
      let gone = 0
      const bad: string[] = []
      let r = 1
      while (!done) {
        // Let the writer's announcements in, then read as it writes.
        await new Promise((resolve) => setImmediate(resolve))
        if (!reader) continue
        const rd: SharedRingReader = reader
        for (let i = 0; i < 200; i++) {
          const from = rd.validFrom
          const end = rd.end
          if (end <= from) continue
          r = (r * 48271) % 2147483647
          // Half the reads copy everything held, from the oldest bytes (the ones the writer frees
          // next) on, which takes long enough for the writer to come round; half are short.
          const oldest = i % 2 === 0
          const at = from + (oldest ? r % 1024 : r % (end - from))
          const size = oldest ? end - at : Math.min(end - at, 1 + (r % SEGMENT_BYTES))
          const got = rd.read(at, size)
          if (got === null) {
            gone++
            continue
          }
          const wrong = mismatch(got, at)
          if (wrong >= 0) bad.push(`${size} bytes at ${at}: byte ${wrong} wrong`)
          else exact++
        }
      }
      await worker.terminate()
      expect(bad).toEqual([])
      // Both outcomes happened: exact copies, and copies that raced the writer and were refused.
      expect(exact).toBeGreaterThan(10)
      expect(gone).toBeGreaterThan(0)
    }, 20_000)
  })
})
