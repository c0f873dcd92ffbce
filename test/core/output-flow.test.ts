import { afterEach, describe, expect, it } from 'vitest'
import {
  FLOW_BACKGROUND_QUIET_MAX_MS,
  FLOW_BACKGROUND_QUIET_MS,
  FLOW_CATCH_UP,
  FLOW_CATCH_UP_SHARE_MIN,
  FLOW_HIGH_WATER,
  FLOW_QUIET,
  FLOW_WINDOW,
  OutputFlow,
} from '../../src/main/core/output-flow'
import { OutputBuffer } from '../../src/main/core/output-buffer'
import type { OutputBatch, OutputChunk } from '../../src/shared/contract'
import { sleep } from '../helpers'

const MB = 1024 * 1024

/**
 * A viewer at the end of a transport that keeps up: records what it was sent, sized in
 * characters; catch-ups take retained output from `outputSince`.
 */
function viewer(outputSince: ConstructorParameters<typeof OutputFlow>[1]) {
  const sent: OutputBatch[] = []
  const flow = new OutputFlow(
    {
      send: (batch) => {
        sent.push(batch)
        return batch.chunks.reduce((n, c) => n + c.data.length, 0)
      },
      size: (c) => c.data.length,
      queued: () => 0,
    },
    outputSince,
  )
  return { flow, sent }
}

/** A viewer of one process "p". */
function setup() {
  const buffer = new OutputBuffer('p', 8 * MB)
  /** Chunks copied out of the buffer for catch-ups. */
  const copied: OutputChunk[] = []
  const { flow, sent } = viewer((_id, afterSeq, maxSize) => {
    const snap = buffer.snapshot(afterSeq, maxSize)
    copied.push(...snap.chunks)
    return snap
  })
  /** New output of process "p", as the supervisor would emit it. */
  const produce = (chunks: number, chars: number): OutputBatch => {
    const batch = {
      id: 'p',
      chunks: Array.from({ length: chunks }, () =>
        buffer.push('stdout', 'x'.repeat(chars - 1) + '\n', 0),
      ),
    }
    flow.offer(batch)
    return batch
  }
  const seqs = (): number[] =>
    sent.filter((b) => b.id === 'p').flatMap((b) => b.chunks.map((c: OutputChunk) => c.seq))
  return { flow, sent, produce, seqs, copied, buffer }
}

/** Bytes of each chunk the multi-process floods below write. */
const CHUNK = 4 * 1024

/**
 * A viewer of several processes, sized in characters, that acknowledges from the start:
 * `flood(id, n)` pushes `n` chunks of {@link CHUNK} into a process's buffer and offers each.
 */
function setupMany(ids: string[]) {
  const buffers = new Map(ids.map((id) => [id, new OutputBuffer(id, 8 * MB)]))
  const { flow, sent } = viewer((id, afterSeq, maxSize) =>
    buffers.get(id)!.snapshot(afterSeq, maxSize),
  )
  flows.push(flow)
  flow.ack(0)
  const flood = (id: string, chunks: number): void => {
    for (let i = 0; i < chunks; i++) {
      const chunk = buffers.get(id)!.push('stdout', 'y'.repeat(CHUNK - 1) + '\n', 0)
      flow.offer({ id, chunks: [chunk] })
    }
  }
  return { flow, sent, flood }
}

let flows: OutputFlow[] = []
afterEach(() => {
  for (const f of flows) f.dispose()
  flows = []
})

describe('OutputFlow', () => {
  it('tells the host what its viewer shows, and that it shows nothing once gone', () => {
    const told: (readonly string[] | null)[] = []
    const flow = new OutputFlow(
      { send: () => 0, size: (c) => c.data.length, queued: () => 0 },
      () => null,
      (ids) => told.push(ids),
    )
    flow.focus(['a'])
    flow.focus(['a', 'b'])
    flow.dispose()
    expect(told).toEqual([['a'], ['a', 'b'], null])
  })

  it('passes everything to a viewer that does not acknowledge while its transport keeps up', () => {
    const { flow, produce, seqs } = setup()
    flows.push(flow)
    for (let i = 0; i < 40; i++) produce(4, 64 * 1024)
    expect(seqs()).toEqual([...Array(160).keys()])
  })

  it('holds back quiet output too while the transport does not drain, and catches it up once it does', async () => {
    const buffers = new Map<string, OutputBuffer>()
    let queued = 0
    const sent: OutputBatch[] = []
    const flow = new OutputFlow(
      {
        send: (batch) => {
          sent.push(batch)
          const size = batch.chunks.reduce((n, c) => n + c.data.length, 0)
          queued += size
          return size
        },
        size: (c) => c.data.length,
        queued: () => queued,
      },
      (id, afterSeq, maxSize) => buffers.get(id)!.snapshot(afterSeq, maxSize),
    )
    flows.push(flow)
    const ids = Array.from({ length: 40 }, (_, i) => `q${i}`)
    for (const id of ids) buffers.set(id, new OutputBuffer(id, 8 * MB))
    // 40 processes, each quiet (well under FLOW_QUIET per rate window), together 40 x 30 KiB
    // into a transport that sends nothing.
    const line = 'z'.repeat(1023) + '\n'
    expect(30 * line.length).toBeLessThan(FLOW_QUIET)
    for (let round = 0; round < 30; round++) {
      for (const id of ids) flow.offer({ id, chunks: [buffers.get(id)!.push('stdout', line, 0)] })
    }
    // The queue stopped growing at the high-water mark (plus the batch that crossed it).
    expect(queued).toBeGreaterThanOrEqual(FLOW_HIGH_WATER)
    expect(queued).toBeLessThanOrEqual(FLOW_HIGH_WATER + line.length)
    const held = sent.length
    expect(held).toBeLessThan(30 * ids.length)
    // The transport drains: every process held back is caught up with its newest line.
    for (let i = 0; i < 20; i++) {
      queued = 0
      await sleep(20)
    }
    for (const id of ids) {
      const last = sent.filter((b) => b.id === id).at(-1)!
      expect(last.chunks.at(-1)!.seq).toBe(29)
    }
    const seqsOf = (id: string) =>
      sent.filter((b) => b.id === id).flatMap((b) => b.chunks.map((c) => c.seq))
    for (const id of ids) {
      const seqs = seqsOf(id)
      expect(new Set(seqs).size).toBe(seqs.length)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    }
  })

  it('holds a flood to the window, lets a quiet process through, and catches up with the newest output after an ack', async () => {
    const { flow, sent, produce, seqs, copied } = setup()
    flows.push(flow)
    flow.ack(0) // the viewer acknowledges from now on
    // 10 batches of 4 x 64 KiB: far beyond the window.
    for (let i = 0; i < 10; i++) produce(4, 64 * 1024)
    // What went out: within the window plus at most one chunk past it.
    expect(flow.inFlight).toBeLessThanOrEqual(FLOW_WINDOW + 64 * 1024)
    const before = seqs()
    expect(before).toEqual([...Array(before.length).keys()])
    expect(before.length).toBeLessThan(40)
    // Another process's echo passes although the window is full.
    const echo = {
      id: 'q',
      chunks: [{ seq: 0, stream: 'stdout' as const, data: 'ping\n', time: 0 }],
    }
    expect(FLOW_QUIET).toBeGreaterThan(5)
    flow.offer(echo)
    expect(sent.at(-1)).toBe(echo)
    // Nothing more of the flood until the viewer acknowledges.
    await sleep(50)
    expect(seqs().filter((s) => s > before.at(-1)!)).toEqual([])
    flow.ack(flow.inFlight)
    await sleep(50)
    // Caught up: only the newest output, within the catch-up bound, ending with the last chunk.
    const after = sent.at(-1)!
    expect(after.id).toBe('p')
    expect(after.chunks.at(-1)!.seq).toBe(39)
    expect(after.chunks[0].seq).toBeGreaterThan(before.at(-1)! + 1)
    expect(after.chunks.reduce((n, c) => n + c.data.length, 0)).toBeLessThanOrEqual(FLOW_CATCH_UP)
    // Only what was sent was copied out of the buffer, not the whole skipped backlog.
    expect(copied.reduce((n, c) => n + c.data.length, 0)).toBeLessThanOrEqual(FLOW_CATCH_UP)
    // Never anything twice.
    expect(new Set(seqs()).size).toBe(seqs().length)
  })

  it('catches a flood that ended up at once, with its last output and the exit line, not the line alone', () => {
    const { flow, sent, produce, buffer } = setup()
    flows.push(flow)
    flow.ack(0)
    // Chunks as big as the whole catch-up (spooled output is read 256 KiB at a time).
    for (let i = 0; i < 4; i++) produce(1, FLOW_CATCH_UP)
    expect(sent.at(-1)!.chunks.at(-1)!.seq).toBeLessThan(3)
    // The run ends: its exit line is sent at once, with the newest output before it, past the
    // window and before the viewer acknowledged what it has.
    const exitLine = '■ exited with code 0\n'
    flow.offer({ id: 'p', chunks: [buffer.push('system', exitLine, 0)] })
    const last = sent.at(-1)!
    expect(last.chunks.map((c) => c.stream)).toEqual(['stdout', 'system'])
    expect(last.chunks[0].seq).toBe(3)
    expect(last.chunks[1].data).toBe(exitLine)
  })

  it("sends a flood's exit line at once when the window is full but nothing was held back", () => {
    const { flow, sent, produce, buffer } = setup()
    flows.push(flow)
    flow.ack(0)
    // Exactly the window: all of it sent, nothing held back, and no room left.
    produce(4, FLOW_WINDOW / 4)
    expect(flow.inFlight).toBe(FLOW_WINDOW)
    const exitLine = '■ exited with code 0\n'
    flow.offer({ id: 'p', chunks: [buffer.push('system', exitLine, 0)] })
    expect(sent.at(-1)!.chunks.map((c) => c.data)).toEqual([exitLine])
    // Program output is still held to the window.
    produce(1, 1024)
    expect(sent.at(-1)!.chunks.map((c) => c.data)).toEqual([exitLine])
  })

  it('shares one catch-up among many held-back floods, and catches the rest up in turn', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `p${i}`)
    const { flow, sent, flood } = setupMany(ids)
    const size = (batches: OutputBatch[]): number =>
      batches.reduce((n, b) => n + b.chunks.reduce((m, c) => m + c.data.length, 0), 0)
    // Every process floods 64 chunks of 4 KiB: 12.5 MiB in all, far beyond the window.
    for (let round = 0; round < 64; round++) for (const id of ids) flood(id, 1)
    const beforeCatchUp = sent.length
    // Each process's first output passes as quiet; then the floods are held to the window.
    expect(size(sent)).toBeLessThanOrEqual(ids.length * FLOW_QUIET + FLOW_WINDOW + CHUNK)
    // Each acknowledgement of everything in flight lets one catch-up out.
    const caughtUp = new Set<string>()
    for (let i = 0; i < 20 && caughtUp.size < ids.length; i++) {
      const mark = sent.length
      flow.ack(flow.inFlight)
      await sleep(40)
      const catchUp = sent.slice(mark)
      // One catch-up is bounded in all, not per process.
      expect(size(catchUp)).toBeLessThanOrEqual(FLOW_CATCH_UP + CHUNK)
      for (const b of catchUp) {
        // Each process skips to its newest output, at least its share, and only once.
        expect(caughtUp.has(b.id)).toBe(false)
        caughtUp.add(b.id)
        expect(b.chunks.at(-1)!.seq).toBe(63)
        expect(size([b])).toBeGreaterThanOrEqual(Math.min(FLOW_CATCH_UP_SHARE_MIN, 64 * CHUNK))
      }
    }
    expect(sent.length).toBeGreaterThan(beforeCatchUp)
    // Every process was caught up in the end.
    expect([...caughtUp].sort()).toEqual([...ids].sort())
  })

  it('holds back a flood the viewer does not show while it goes on, and catches it up once it pauses', async () => {
    const { flow, sent, flood } = setupMany(['shown', 'other'])
    flow.focus(['shown'])
    const ofOther = (): OutputBatch[] => sent.filter((b) => b.id === 'other')
    const sentOf = (id: string): number =>
      sent.filter((b) => b.id === id).reduce((n, b) => n + b.chunks.length * CHUNK, 0)
    // 1 MiB each: the one shown fills the window; the other passes only while quiet.
    flood('other', 256)
    flood('shown', 256)
    expect(sentOf('other')).toBeLessThanOrEqual(FLOW_QUIET)
    expect(sentOf('shown')).toBeGreaterThanOrEqual(FLOW_WINDOW - FLOW_QUIET)
    // Acknowledged at once for a while, with both flooding on: the one shown is caught up
    // with its share every time, the other not at all while it floods.
    const otherBefore = ofOther().length
    const started = Date.now()
    let otherChunks = 256
    while (Date.now() - started < 10 * FLOW_BACKGROUND_QUIET_MS) {
      flood('other', 16)
      otherChunks += 16
      flood('shown', 16)
      flow.ack(flow.inFlight)
      await sleep(20)
    }
    expect(ofOther().length).toBe(otherBefore)
    expect(sentOf('shown')).toBeGreaterThan(8 * FLOW_WINDOW)
    // The other pauses: it is caught up once, with its newest output, within a share.
    await sleep(FLOW_BACKGROUND_QUIET_MS * 3)
    const caughtUp = ofOther().slice(otherBefore)
    expect(caughtUp).toHaveLength(1)
    expect(caughtUp[0].chunks.length * CHUNK).toBeLessThanOrEqual(FLOW_CATCH_UP_SHARE_MIN)
    expect(caughtUp[0].chunks.at(-1)!.seq).toBe(otherChunks - 1)
  })

  it('does not take a stall of its own for a pause of a flood it does not show', async () => {
    const { flow, sent, flood } = setupMany(['shown', 'other'])
    flow.focus(['shown'])
    const ofOther = (): number => sent.filter((b) => b.id === 'other').length
    flood('other', 256)
    const before = ofOther()
    // The host is busy for longer than a pause (the flood goes on meanwhile, its output
    // waiting to be read), three times over; each time the flood's output is read after the
    // turn, as when the catch-up poll and the pipe are both due at once.
    for (let stall = 0; stall < 3; stall++) {
      const until = Date.now() + 2 * FLOW_BACKGROUND_QUIET_MS
      while (Date.now() < until) {
        // busy
      }
      await sleep(0)
      flood('other', 16)
    }
    expect(ofOther()).toBe(before)
    // A real pause is still a pause.
    await sleep(FLOW_BACKGROUND_QUIET_MS * 3)
    expect(ofOther()).toBe(before + 1)
  })

  it('asks a background flood that stutters for longer pauses, and forgets that once it rested', async () => {
    const { flow, sent, flood } = setupMany(['shown', 'other'])
    flow.focus(['shown'])
    const ofOther = (): number => sent.filter((b) => b.id === 'other').length
    flood('other', 256)
    const before = ofOther()
    // For 2 s it floods, then stops a little longer than a pause, and so on: caught up at the
    // first stop, then asked for twice the pause, which its stops do not reach.
    const stutter = async (ms: number): Promise<void> => {
      const until = Date.now() + ms
      while (Date.now() < until) {
        flood('other', 16)
        await sleep(1.3 * FLOW_BACKGROUND_QUIET_MS)
      }
      flood('other', 16)
    }
    await stutter(2000)
    // One catch-up, or a few where the machine drew a stop out past the longer pause: not
    // one per stop (15).
    const stutterCatchUps = ofOther() - before
    expect(stutterCatchUps).toBeGreaterThanOrEqual(1)
    expect(stutterCatchUps).toBeLessThanOrEqual(3)
    // A real end is still caught up, within the longest pause.
    await sleep(FLOW_BACKGROUND_QUIET_MAX_MS + 3 * FLOW_BACKGROUND_QUIET_MS)
    expect(ofOther()).toBe(before + stutterCatchUps + 1)
    // Rested: its next flood is caught up after the first pause again, not a longer one.
    // (Its start passes as quiet, the rest is held back.)
    flood('other', 32)
    const rested = ofOther()
    await sleep(3 * FLOW_BACKGROUND_QUIET_MS)
    expect(ofOther()).toBe(rested + 1)
  })
})
