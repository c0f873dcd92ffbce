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
