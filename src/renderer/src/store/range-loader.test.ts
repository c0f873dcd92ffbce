import { describe, expect, it } from 'vitest'
import type { OutputChunk, RunInfo, RunOutput, RunOutputRange } from '../../../shared/contract'
import { ProcessOutput } from './output-buffers'
import { loadGap, readFullLine, readRange, type RangeBridge } from './range-loader'

/** Run logs on "disk": runs newest first, each with its chunks. */
class FakeLogs implements RangeBridge {
  calls: [string, RunOutputRange | undefined][] = []
  constructor(private readonly logs: { runId: string; chunks: OutputChunk[] }[]) {}
  runs(): Promise<RunInfo[]> {
    return Promise.resolve(
      this.logs.map((l, i) => ({
        runId: l.runId,
        processId: 'p',
        number: this.logs.length - i,
        startedAt: 0,
        endedAt: null,
        exit: null,
        startReason: 'user',
        endReason: null,
        bytes: 0,
      })),
    )
  }
  runOutput(_id: string, runId: string, range?: RunOutputRange): Promise<RunOutput> {
    this.calls.push([runId, range])
    const log = this.logs.find((l) => l.runId === runId)!
    const inRange = log.chunks.filter(
      (c) => c.seq > (range?.afterSeq ?? -1) && c.seq < (range?.beforeSeq ?? Infinity),
    )
    // Newest kept within the limit, like the host.
    let total = 0
    let first = inRange.length
    while (first > 0 && total + inRange[first - 1].data.length <= (range?.limitBytes ?? Infinity))
      total += inRange[--first].data.length
    const skipped = inRange.slice(0, first).reduce((n, c) => n + c.data.length, 0)
    return Promise.resolve({
      run: {} as RunInfo,
      chunks: inRange.slice(first),
      skippedBytes: skipped,
    })
  }
}

const c = (seq: number, data: string): OutputChunk => ({ seq, stream: 'stdout', data, time: 0 })

describe('readRange', () => {
  it('reads a range that spans a restart from both runs, oldest first', async () => {
    const logs = new FakeLogs([
      { runId: 'r2', chunks: [c(5, 'e\n'), c(6, 'f\n'), c(7, 'g\n')] },
      { runId: 'r1', chunks: [c(0, 'a\n'), c(1, 'b\n'), c(2, 'c\n')] },
    ])
    const read = await readRange(logs, 'p', 1, 7, 1000)
    expect(read.chunks.map((x) => x.seq)).toEqual([2, 5, 6])
    expect(read.incomplete).toBe(false)
  })

  it('keeps the newest part within the limit and says the rest is missing', async () => {
    const logs = new FakeLogs([{ runId: 'r1', chunks: [c(0, 'aaaa'), c(1, 'bbbb'), c(2, 'cccc')] }])
    const read = await readRange(logs, 'p', -1, 3, 8)
    expect(read.chunks.map((x) => x.seq)).toEqual([1, 2])
    expect(read).toMatchObject({ incomplete: true, skippedBytes: 4 })
  })
})

describe('readRange in steps', () => {
  it('reads what one large read gives, in answers of about a step at most', async () => {
    let r = 3
    const rand = (n: number): number => (r = (r * 1103515245 + 12345) % 2147483648) % n
    const chunks = Array.from({ length: 120 }, (_, i) =>
      c(i, 'x'.repeat(rand(10) === 0 ? 300 + rand(300) : 1 + rand(80))),
    )
    const runs = [
      { runId: 'r3', chunks: chunks.slice(90) },
      { runId: 'r2', chunks: chunks.slice(40, 90) },
      { runId: 'r1', chunks: chunks.slice(0, 40) },
    ]
    for (const limit of [50, 200, 1000, 3000, 100_000]) {
      for (const [after, before] of [
        [-1, 120],
        [10, 100],
        [45, 60],
      ]) {
        const whole = await readRange(new FakeLogs(runs), 'p', after, before, limit, Infinity)
        const logs = new FakeLogs(runs)
        const stepped = await readRange(logs, 'p', after, before, limit, 100)
        expect(stepped).toEqual(whole)
        // Each answer is at most a step, or twice the one chunk larger than a step.
        const answers = await Promise.all(
          logs.calls.map(([runId, range]) => logs.runOutput('p', runId, range)),
        )
        for (const a of answers) {
          const bytes = a.chunks.reduce((n, x) => n + x.data.length, 0)
          const largest = Math.max(0, ...a.chunks.map((x) => x.data.length))
          expect(bytes).toBeLessThanOrEqual(Math.max(100, 2 * largest))
        }
      }
    }
  })
})

describe('loadGap', () => {
  it('splices the skipped output from disk into the buffer', async () => {
    const buf = new ProcessOutput()
    buf.apply(c(0, 'a\n'))
    buf.applySnapshot({ id: 'p', firstSeq: 3, droppedChars: 6, chunks: [c(3, 'd\n')] })
    const logs = new FakeLogs([
      { runId: 'r1', chunks: [c(0, 'a\n'), c(1, 'b\n'), c(2, 'c\n'), c(3, 'd\n')] },
    ])
    const [gap] = buf.gaps()
    const structure = buf.structure
    await loadGap(logs, 'p', buf, gap)
    expect([0, 1, 2, 3].map((i) => buf.line(i).text)).toEqual(['a', 'b', 'c', 'd'])
    expect(buf.gaps()).toEqual([])
    expect(buf.structure).toBe(structure + 1)
    expect(logs.calls[0][1]).toMatchObject({ afterSeq: 0, beforeSeq: 3 })
  })

  it('keeps the marker with an error when the logs no longer have the range', async () => {
    const buf = new ProcessOutput()
    buf.apply(c(0, 'a\n'))
    buf.applySnapshot({ id: 'p', firstSeq: 3, droppedChars: 6, chunks: [c(3, 'd\n')] })
    const [gap] = buf.gaps()
    await loadGap(new FakeLogs([]), 'p', buf, gap)
    expect(buf.gaps()).toHaveLength(1)
    expect(gap.error).toMatch(/no longer/)
    expect(gap.loading).toBe(false)
  })
})

/** Chunks of everything a program may write: lines, escapes, \r redraws, long lines, streams. */
function randomChunks(count: number, firstSeq: number, seed: number): OutputChunk[] {
  let r = seed
  const rand = (n: number): number => (r = (r * 1103515245 + 12345) % 2147483648) % n
  const bits = [
    'ab',
    'cde ',
    '\n',
    '\n',
    '\r\n',
    '\r',
    '\x1b[31m',
    '\x1b[1;32m',
    '\x1b[0m',
    'é',
    '😀',
  ]
  const chunks: OutputChunk[] = []
  for (let i = 0; i < count; i++) {
    let data = ''
    const parts = 1 + rand(400)
    for (let k = 0; k < parts; k++) {
      data += rand(40) === 0 ? 'L'.repeat(rand(200)) : bits[rand(bits.length)]
    }
    const stream = rand(5) === 0 ? 'stderr' : rand(30) === 0 ? 'system' : 'stdout'
    chunks.push({ seq: firstSeq + i, stream, data, time: 1000 + i })
  }
  return chunks
}

/** Everything a buffer shows, row by row. */
function dump(buf: ProcessOutput): string[] {
  const rows = [`top:${buf.hasTopMarker}|max:${buf.maxLineChars}|dropped:${buf.droppedLines}`]
  buf.forEachSegment((seg) => {
    if (seg.gap) {
      const { afterSeq, beforeSeq, chars, loading, error } = seg.gap
      rows.push(`gap ${afterSeq} ${beforeSeq} ${chars} ${loading} ${error}`)
      return
    }
    const s = seg.store
    if (!s) return
    for (let i = 0; i < s.count; i++) {
      const cut = s.cutInfo(i)
      const cutText = cut ? `${cut.cut}/${cut.firstSeq}/${cut.lastSeq}` : '-'
      rows.push(`${s.kind(i)}|${s.time(i)}|${s.text(i)}|${s.runs(i).join(',')}|${cutText}`)
    }
  })
  return rows
}

/** A buffer that saw chunk 0 and chunks from `after` on, with a gap marker in between. */
function bufferWithGap(after: number, lineCap = 40, maxLines = 1_000_000): ProcessOutput {
  const buf = new ProcessOutput(maxLines, 10_000_000, lineCap)
  buf.apply(c(0, 'first\n'))
  buf.applySnapshot({ id: 'p', firstSeq: after, droppedChars: 100, chunks: [c(after, 'next\n')] })
  return buf
}

describe('splicing a gap a step at a time', () => {
  it('gives exactly what splicing at once gives, in many short steps', () => {
    const chunks = randomChunks(300, 1, 7)
    const remaining = { beforeSeq: 5, chars: 1234 }
    const once = bufferWithGap(301)
    once.spliceGap(once.gaps()[0], chunks, remaining)
    const stepped = bufferWithGap(301)
    // A clock that advances a millisecond whenever it is read: each step lays out a piece or
    // two of a chunk, whatever the machine's speed.
    let clock = 0
    const now = (): number => clock++
    const splice = stepped.beginSplice(stepped.gaps()[0], chunks, remaining, 64)
    let steps = 0
    while (!splice.step(now() + 2, now)) {
      steps++
      // Nothing shows before the last step: the marker stays where it was.
      expect(stepped.gaps()).toHaveLength(1)
    }
    const chars = chunks.reduce((n, x) => n + x.data.length, 0)
    expect(steps).toBeGreaterThan(chars / 64 / 2)
    expect(dump(stepped)).toEqual(dump(once))
    expect(dump(once).length).toBeGreaterThan(1000)
    expect(stepped.structure).toBe(once.structure)
  })

  it('keeps output that arrives meanwhile, after the spliced lines', () => {
    const buf = bufferWithGap(4)
    const splice = buf.beginSplice(buf.gaps()[0], [c(1, 'b\n'), c(2, 'c\n'), c(3, 'd\n')], null, 1)
    let clock = 0
    const now = (): number => clock++
    expect(splice.step(0, now)).toBe(false)
    buf.apply(c(5, 'live 1\n'))
    expect(splice.step(0, now)).toBe(false)
    buf.apply(c(6, 'live 2\n'))
    while (!splice.step(0, now));
    buf.apply(c(7, 'live 3\n'))
    const texts = Array.from({ length: buf.lineCount }, (_, i) => buf.line(i).text)
    expect(texts).toEqual(['first', 'b', 'c', 'd', 'next', 'live 1', 'live 2', 'live 3'])
  })

  it('splices nothing when the marker went away meanwhile', () => {
    const buf = bufferWithGap(4)
    const splice = buf.beginSplice(buf.gaps()[0], [c(1, 'b\n'), c(2, 'c\n')], null, 1)
    expect(splice.step(0, () => 1)).toBe(false)
    buf.clear()
    buf.apply(c(5, 'after clear\n'))
    while (!splice.step(0, () => 1));
    expect(buf.lineCount).toBe(1)
    expect(buf.line(0).text).toBe('after clear')
  })
})

describe('loadGap in frames', () => {
  it('lays out a large range a slice per frame, loading until done, then as at once', async () => {
    const chunks = randomChunks(400, 1, 11)
    const logs = new FakeLogs([{ runId: 'r1', chunks: [c(0, 'first\n'), ...chunks] }])
    const buf = bufferWithGap(401)
    const gap = buf.gaps()[0]
    const frames: (() => void)[] = []
    let clock = 0
    const loading = loadGap(logs, 'p', buf, gap, {
      scheduleFrame: (cb) => frames.push(cb),
      now: () => (clock += 0.25),
      stepMs: 4,
    })
    // The read from disk resolves first; then one step per frame.
    while (frames.length === 0) await Promise.resolve()
    let ran = 0
    while (frames.length > 0) {
      expect(gap.loading).toBe(true)
      expect(buf.gaps()).toEqual([gap])
      frames.shift()!()
      ran++
    }
    await loading
    expect(ran).toBeGreaterThan(10)
    expect(gap.loading).toBe(false)
    const once = bufferWithGap(401)
    once.spliceGap(once.gaps()[0], chunks, null)
    expect(dump(buf)).toEqual(dump(once))
  })
})

describe('readFullLine', () => {
  it('lays out the chunks a cut line spans again without the cap', async () => {
    const long = 'x'.repeat(100) + 'END'
    const logs = new FakeLogs([
      {
        runId: 'r1',
        chunks: [c(4, 'before\n' + long.slice(0, 60)), c(5, long.slice(60) + '\nafter\n')],
      },
    ])
    const buf = new ProcessOutput(1000, 1_000_000, 50)
    buf.apply(c(4, 'before\n' + long.slice(0, 60)))
    buf.apply(c(5, long.slice(60) + '\nafter\n'))
    const ref = buf.locate(1)
    const cut = ref.store!.cutInfo(1)!
    expect(cut).toMatchObject({ firstSeq: 4, lastSeq: 5, cut: 53 })
    const full = await readFullLine(logs, 'p', {
      kind: ref.store!.kind(1),
      prefix: ref.store!.text(1),
      firstSeq: cut.firstSeq,
      lastSeq: cut.lastSeq,
    })
    expect(full).toBe(long)
  })
})
