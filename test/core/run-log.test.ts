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
    const { records } = readLog(file)
    expect(records.map((r) => r.seq)).toEqual([...Array(pieces).keys()])
    expect(records.map((r) => r.stream)).toEqual(
      records.map((_, i) => (i % 2 ? 'stderr' : 'stdout')),
    )
    expect(records.every((r, i) => r.data[0] === 48 + (i % 10) && r.time === 1000 + i)).toBe(true)
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
      expect(readLog(file, range, index)).toEqual(readLog(file, range))
    }
    expect(index.count).toBe(200)
    const scanned = index.scanned
    // A record torn in half (its write still in flight) is not indexed until it is whole.
    const whole = Buffer.concat([Buffer.alloc(RECORD_HEADER_BYTES), Buffer.from('late\n')])
    whole.writeUInt32LE(5, 4)
    whole.writeDoubleLE(200, 16)
    appendFileSync(file, whole.subarray(0, 10))
    expect(readLog(file, { afterSeq: 199 }, index).records).toEqual([])
    expect(index.scanned).toBe(scanned)
    appendFileSync(file, whole.subarray(10))
    const tail = readLog(file, { afterSeq: 199 }, index).records
    expect(tail.map((r) => [r.seq, r.data.toString()])).toEqual([[200, 'late\n']])
    expect(index.count).toBe(201)
    expect(readLog(file, {}, index)).toEqual(readLog(file))
  })
})
