import { appendFileSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RunInfo } from '../../src/shared/contract'
import {
  LOG_HIGH_WATER_BYTES,
  LogIndex,
  readLog,
  RECORD_HEADER_BYTES,
  RunLog,
} from '../../src/main/core/run-store'
import { Staging } from '../../src/main/core/staging'

const info = (): RunInfo => ({
  runId: 'r',
  processId: 'p',
  number: 1,
  startedAt: 0,
  endedAt: null,
  exit: null,
  startReason: 'user',
  endReason: null,
  bytes: 0,
})

describe('RunLog', () => {
  it('writes records in order off the event loop, asks its writer to pause, and closes after the last write', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'corral-log-')), 'run.log')
    let ended = 0
    let closed = 0
    const log = new RunLog(
      info(),
      file,
      () => ended++,
      () => closed++,
    )
    const piece = Buffer.alloc(256 * 1024, 'x')
    const pieces = Math.ceil((2 * LOG_HIGH_WATER_BYTES) / piece.length)
    const answers: boolean[] = []
    for (let i = 0; i < pieces; i++) {
      piece[0] = 48 + (i % 10)
      answers.push(log.append(i % 2 ? 'stderr' : 'stdout', i, 1000 + i, [Buffer.from(piece)]))
    }
    // Appends return at once; past the high-water mark they ask the writer to pause.
    expect(answers[0]).toBe(true)
    expect(answers.at(-1)).toBe(false)
    expect(log.pending).toBeGreaterThan(LOG_HIGH_WATER_BYTES)
    await new Promise<void>((resolve) => log.whenWritable(resolve))
    log.end({ kind: 'code', code: 0 }, 'exit', 2000)
    expect(ended).toBe(1)
    await log.settled()
    await new Promise((r) => setImmediate(r))
    expect(closed).toBe(1)
    expect(log.info.bytes).toBe(pieces * piece.length)
    const { records } = await readLog(file)
    expect(records.map((r) => r.seq)).toEqual([...Array(pieces).keys()])
    expect(records.map((r) => r.stream)).toEqual(
      records.map((_, i) => (i % 2 ? 'stderr' : 'stdout')),
    )
    expect(records.every((r, i) => r.data[0] === 48 + (i % 10) && r.time === 1000 + i)).toBe(true)
  })

  it('copies buffers that are not in staging memory: their owner may reuse them at once', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'corral-log-')), 'run.log')
    const log = new RunLog(info(), file, () => {})
    const reused = Buffer.alloc(100 * 1024)
    const expected: string[] = []
    // Records small and large, many to a write buffer and one past its size.
    for (const [i, size] of [10, 300, 70_000, 5, 300_000, 200_000, 1].entries()) {
      const view = size <= reused.length ? reused.subarray(0, size) : Buffer.alloc(size)
      view.fill(97 + i)
      expected.push(view.toString())
      log.append('stdout', i, i, [view])
      view.fill(0)
    }
    await log.settled()
    const { records } = await readLog(file)
    expect(records.map((r) => r.data.toString())).toEqual(expected)
  })

  it('holds output read into staging until it is written instead of copying it, then lets it be reused', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'corral-log-')), 'run.log')
    const log = new RunLog(info(), file, () => {})
    const staging = new Staging()
    const piece = staging.alloc(1000).fill('a')
    log.append('stdout', 0, 0, [piece])
    // The batcher is done with the piece at once; were the log not holding it, the next
    // output would be read into the same memory.
    staging.release(piece)
    const next = staging.alloc(1000).fill('b')
    staging.release(next)
    await log.settled()
    const { records } = await readLog(file)
    expect(records.map((r) => r.data.toString())).toEqual(['a'.repeat(1000)])
    // Written: every piece of the block is back, so its memory is handed out again.
    const again = staging.alloc(1000)
    expect(again.buffer).toBe(piece.buffer)
    expect(again.byteOffset).toBe(piece.byteOffset)
  })

  it('reports a failed write (a full disk) once and keeps accepting output', async () => {
    const errors: Error[] = []
    let closed = 0
    const log = new RunLog(
      info(),
      '/dev/full',
      () => {},
      () => closed++,
      (err) => errors.push(err),
    )
    expect(log.append('stdout', 0, 1, [Buffer.from('hello\n')])).toBe(true)
    await log.settled()
    expect(errors).toHaveLength(1)
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOSPC')
    expect(log.error).toBe(errors[0])
    expect(closed).toBe(1)
    // Later output is not logged, without throwing or piling up.
    expect(log.append('stdout', 1, 2, [Buffer.from('more\n')])).toBe(true)
    expect(log.pending).toBe(0)
    log.end({ kind: 'code', code: 0 }, 'exit', 3)
    expect(errors).toHaveLength(1)
  })
})

describe('readLog with a kept LogIndex', () => {
  it('reads what a fresh scan reads, then only scans what was appended (a torn tail waits)', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'corral-log-')), 'run.log')
    const log = new RunLog(info(), file, () => {})
    for (let i = 0; i < 200; i++)
      log.append(i % 3 ? 'stdout' : 'stderr', i, i, [Buffer.from(`r${i}\n`)])
    await log.settled()
    const index = new LogIndex()
    const ranges = [{}, { afterSeq: 50, beforeSeq: 120 }, { limitBytes: 40 }, { afterSeq: 190 }]
    for (const range of ranges) {
      expect(await readLog(file, range, index)).toEqual(await readLog(file, range))
    }
    expect(index.count).toBe(200)
    const scanned = index.scanned
    // A record torn in half (its write still in flight) is not indexed until it is whole.
    const whole = Buffer.concat([Buffer.alloc(RECORD_HEADER_BYTES), Buffer.from('late\n')])
    whole.writeUInt32LE(5, 4)
    whole.writeDoubleLE(200, 16)
    appendFileSync(file, whole.subarray(0, 10))
    expect((await readLog(file, { afterSeq: 199 }, index)).records).toEqual([])
    expect(index.scanned).toBe(scanned)
    appendFileSync(file, whole.subarray(10))
    const tail = (await readLog(file, { afterSeq: 199 }, index)).records
    expect(tail.map((r) => [r.seq, r.data.toString()])).toEqual([[200, 'late\n']])
    expect(index.count).toBe(201)
    expect(await readLog(file, {}, index)).toEqual(await readLog(file))
  })

  it('finds a range by sequence number with gaps between them, and reads a file out of order too', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-log-'))
    // Corral's own lines take sequence numbers the log never sees: gaps. The second file is
    // out of order (edited by hand), which must still read right, only slower.
    const orders = { gaps: [0, 2, 4, 6, 8, 10, 12], shuffled: [5, 3, 9, 1, 12, 7, 7] }
    for (const [name, seqs] of Object.entries(orders)) {
      const file = path.join(dir, `${name}.log`)
      const log = new RunLog(info(), file, () => {})
      seqs.forEach((seq, i) => log.append('stdout', seq, i, [Buffer.from(`${name}-${i}\n`)]))
      await log.settled()
      const index = new LogIndex()
      const ranges = [
        {},
        { afterSeq: 4, beforeSeq: 10 },
        { afterSeq: 3, beforeSeq: 11 },
        { afterSeq: 12 },
        { beforeSeq: 0 },
        { afterSeq: 6, beforeSeq: 6 },
        { afterSeq: 9, beforeSeq: 2 },
        { afterSeq: 1, limitBytes: 20 },
      ]
      for (const range of ranges) {
        const { afterSeq = -1, beforeSeq = Infinity, limitBytes = Infinity } = range
        const wanted = seqs
          .map((seq, i) => ({ seq, text: `${name}-${i}\n` }))
          .filter((r) => r.seq > afterSeq && r.seq < beforeSeq)
        let first = wanted.length
        for (let total = 0; first > 0 && total + wanted[first - 1].text.length <= limitBytes;)
          total += wanted[--first].text.length
        const got = await readLog(file, range, index)
        expect(got.records.map((r) => ({ seq: r.seq, text: r.data.toString() }))).toEqual(
          wanted.slice(first),
        )
      }
      expect(index.ascending).toBe(name === 'gaps')
    }
  })

  it('reads records of every size, across scan blocks and read spans, against what was written', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'corral-log-')), 'run.log')
    const log = new RunLog(info(), file, () => {})
    // Small records many to a scan block, headers straddling block ends, records larger than
    // a block and than a read span.
    const sizes = [
      3,
      70_000,
      1,
      65_500,
      5 * 1024 * 1024,
      17,
      ...Array.from({ length: 3000 }, (_, i) => 1 + (i % 50)),
      200_000,
    ]
    const written = sizes.map((n, seq) => {
      const data = Buffer.alloc(n, 97 + (seq % 26))
      log.append(seq % 2 ? 'stderr' : 'stdout', seq, 1000 + seq, [data])
      return { seq, data }
    })
    await log.settled()
    const index = new LogIndex()
    const ranges = [
      {},
      { afterSeq: 3, beforeSeq: 8 },
      { limitBytes: 1_000_000 },
      { afterSeq: 100, limitBytes: 1000 },
    ]
    // Two reads at once share the index (its scans take turns).
    const results = await Promise.all(ranges.map((range) => readLog(file, range, index)))
    results.forEach((got, k) => {
      const { afterSeq = -1, beforeSeq = Infinity, limitBytes = Infinity } = ranges[k]
      const inRange = written.filter((w) => w.seq > afterSeq && w.seq < beforeSeq)
      let first = inRange.length
      for (let total = 0; first > 0 && total + inRange[first - 1].data.length <= limitBytes;)
        total += inRange[--first].data.length
      const kept = inRange.slice(first)
      expect(got.records.map((r) => r.seq)).toEqual(kept.map((w) => w.seq))
      expect(got.records.every((r, i) => r.data.equals(kept[i].data))).toBe(true)
      expect(got.records.every((r) => r.time === 1000 + r.seq)).toBe(true)
      expect(got.skippedBytes).toBe(inRange.slice(0, first).reduce((n, w) => n + w.data.length, 0))
    })
    expect(index.count).toBe(sizes.length)
  })
})
