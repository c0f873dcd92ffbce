import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PLAIN_STYLE } from './ansi'
import { cachedBlockIndexes, KIND_STDERR, KIND_STDOUT, LineStore, type CutInfo } from './line-store'

/** What a line holds, kept the obvious way: a string and a style per character. */
interface ModelLine {
  kind: number
  time: number
  text: string
  styles: number[]
  cut: CutInfo | undefined
  seq: number
}

/** The reference LineStore is checked against: an array of lines, nothing shared. */
class Model {
  lines: ModelLine[] = []
  dropped = 0
  maxLen = 0
  private timeBase = -1

  constructor(readonly lineCap: number) {}

  private at(time: number): number {
    if (this.timeBase < 0) this.timeBase = time
    return this.timeBase + Math.max(0, time - this.timeBase)
  }

  pushLine(kind: number, time: number, seq: number): void {
    this.lines.push({ kind, time: this.at(time), text: '', styles: [], cut: undefined, seq })
  }

  append(text: string, style: number, seq: number): void {
    const line = this.lines[this.lines.length - 1]
    const take = Math.min(this.lineCap - line.text.length, text.length)
    if (take > 0) {
      line.text += text.slice(0, take)
      for (let i = 0; i < take; i++) line.styles.push(style)
      this.maxLen = Math.max(this.maxLen, line.text.length)
    }
    if (take < text.length) {
      if (line.cut) {
        line.cut.cut += text.length - take
        line.cut.lastSeq = seq
      } else line.cut = { cut: text.length - take, firstSeq: line.seq, lastSeq: seq }
    }
  }

  pushLines(lines: string[], kind: number, time: number, seq: number): void {
    for (const text of lines) {
      this.pushLine(kind, time, seq)
      this.append(text, PLAIN_STYLE, seq)
    }
  }

  resetLast(time: number, seq: number): void {
    const line = this.lines[this.lines.length - 1]
    if (!line) return
    Object.assign(line, { time: this.at(time), text: '', styles: [], cut: undefined, seq })
  }

  dropFront(n: number): void {
    n = Math.min(n, this.lines.length)
    this.lines.splice(0, n)
    this.dropped += n
  }

  get chars(): number {
    return this.lines.reduce((n, l) => n + l.text.length + 1, 0)
  }

  /** Style runs as the store reports them: each change of style, starting from plain. */
  runs(i: number): number[] {
    const out: number[] = []
    let style = PLAIN_STYLE
    this.lines[i].styles.forEach((s, p) => {
      if (s !== style) out.push(p, (style = s))
    })
    return out
  }
}

type Op =
  | { op: 'push'; kind: number; dt: number }
  | { op: 'append'; text: string; style: number; pad: number }
  | { op: 'lines'; lines: string[]; kind: number; dt: number }
  | { op: 'reset'; dt: number }
  | { op: 'drop'; n: number }
  | { op: 'close' }
  | { op: 'reopen' }
  | { op: 'src'; lines: number; chars: number; style: number; kind: number; hint: boolean }

const textArb = fc
  .array(fc.constantFrom('a', 'bc', 'é', '😀', ' ', 'xyz0123456789', '\t'), { maxLength: 6 })
  .map((parts) => parts.join(''))

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('push' as const),
      kind: fc.nat(2),
      dt: fc.integer({ min: -2, max: 3 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      text: textArb,
      style: fc.nat(3),
      pad: fc.nat(3),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('lines' as const),
      lines: fc.array(textArb, { maxLength: 8 }),
      kind: fc.nat(2),
      dt: fc.integer({ min: -2, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('reset' as const),
      dt: fc.integer({ min: -2, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), n: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('src' as const),
      lines: fc.nat(3),
      chars: fc.integer({ min: 1, max: 12 }),
      style: fc.nat(2),
      kind: fc.nat(2),
      hint: fc.boolean(),
    }),
  },
)

/**
 * Text that 'src' writes take consecutive pieces of, as a chunk or a frame is written in
 * pieces: whole lines, or the rest of a line (up to `chars` characters) to the last line.
 * Passed whole with a range, or (`hint`) as a piece of it named by useSource.
 */
interface Source {
  text: string
  at: number
}

function sourceWrite(
  store: LineStore,
  model: Model,
  src: Source,
  o: Extract<Op, { op: 'src' }>,
  time: number,
  seq: number,
): boolean {
  if (src.at >= src.text.length) return false
  const a = src.at
  let b: number
  if (o.lines === 0) {
    if (store.count === 0) return false
    b = Math.min(src.text.indexOf('\n', a), a + o.chars)
    if (b === a) return false
  } else {
    b = a
    for (let k = 0; k < o.lines && b < src.text.length; k++) b = src.text.indexOf('\n', b) + 1
  }
  const piece = o.hint ? src.text.slice(a, b) : src.text
  const from = o.hint ? 0 : a
  if (o.hint) store.useSource(piece, src.text, a)
  if (o.lines === 0) {
    store.append(piece, from, from + b - a, o.style, seq)
    model.append(src.text.slice(a, b), o.style, seq)
  } else {
    store.pushLines(piece, from, from + b - a, o.kind, time, seq)
    model.pushLines(src.text.slice(a, b - 1).split('\n'), o.kind, time, seq)
  }
  store.useSource(null)
  src.at = b
  return true
}

/** Where a sequence of writes is: its clock, and whether the last line was closed. */
interface RunState {
  time: number
  seq: number
  /** After close() the last line is not written to again; new lines may follow. */
  closed: boolean
}

/** Apply `ops` to a store and the model alike ('src' writes take pieces of `src`). */
function run(
  store: LineStore,
  model: Model,
  ops: Op[],
  state: RunState = { time: 1_000, seq: 0, closed: false },
  src: Source = { text: '', at: 0 },
): void {
  let { time, seq, closed } = state
  for (const o of ops) {
    seq++
    if (o.op === 'src') {
      if (o.lines === 0 && closed) continue
      if (sourceWrite(store, model, src, o, time, seq) && o.lines > 0) closed = false
    } else if (o.op === 'close') {
      store.close()
      closed = true
    } else if (o.op === 'reopen') {
      // The last line goes on after all (a gap after it was loaded): it can be written again.
      store.reopenLast()
      closed = false
    } else if (o.op === 'push') {
      time += o.dt
      store.pushLine(o.kind, time, seq)
      model.pushLine(o.kind, time, seq)
      closed = false
    } else if (o.op === 'append') {
      if (store.count === 0 || closed) continue
      // The text sits inside a larger string, as a piece of a chunk does.
      const outer = '#'.repeat(o.pad) + o.text + '#'.repeat(o.pad)
      store.append(outer, o.pad, o.pad + o.text.length, o.style, seq)
      model.append(o.text, o.style, seq)
    } else if (o.op === 'lines') {
      if (o.lines.length === 0) continue
      time += o.dt
      const text = '>' + o.lines.map((l) => l + '\n').join('')
      store.pushLines(text, 1, text.length, o.kind, time, seq)
      model.pushLines(o.lines, o.kind, time, seq)
      closed = false
    } else if (o.op === 'reset') {
      if (closed) continue
      time += o.dt
      store.resetLast(time, seq)
      model.resetLast(time, seq)
    } else {
      store.dropFront(o.n)
      model.dropFront(o.n)
    }
  }
  Object.assign(state, { time, seq, closed })
}

/** Everything the store says about its lines equals the model, whatever order it is asked in. */
function check(store: LineStore, model: Model, order: number[]): void {
  expect(store.count).toBe(model.lines.length)
  expect(store.dropped).toBe(model.dropped)
  expect(store.chars).toBe(model.chars)
  expect(store.maxLen).toBe(model.maxLen)
  for (const i of order) {
    if (i < 0 || i >= store.count) continue
    const line = model.lines[i]
    expect(store.text(i)).toBe(line.text)
    expect(store.len(i)).toBe(line.text.length)
    expect(store.kind(i)).toBe(line.kind)
    expect(store.time(i)).toBe(line.time)
    expect(store.runs(i)).toEqual(model.runs(i))
    expect(store.cutInfo(i)).toEqual(line.cut)
    const block = store.blockAt(i)
    const at = store.startOf(i) - block.start
    expect(block.text.slice(at, at + line.text.length)).toBe(line.text)
    expect(i).toBeLessThan(block.endLine)
  }
  // Blocks cover every line once, in order, each found where its block says.
  let next = 0
  store.forEachBlock((text, start, first, end) => {
    expect(first).toBe(next)
    expect(end).toBeGreaterThan(first)
    for (let i = first; i < end; i++) {
      const at = store.startOf(i) - start
      expect(text.slice(at, at + store.len(i))).toBe(model.lines[i].text)
    }
    next = end
  })
  expect(next).toBe(store.count)
  // The oldest lines that hold a number of characters.
  let sum = 0
  const prefix = [0, ...model.lines.map((l) => (sum += l.text.length + 1))]
  for (const chars of [0, 1, 2, 5, 13, sum - 1, sum, sum + 3]) {
    const n = chars <= 0 ? 0 : prefix.findIndex((p) => p >= chars)
    expect(store.linesHolding(chars)).toBe(n < 0 ? model.lines.length : n)
  }
}

describe('LineStore against a reference model', () => {
  it('agrees on text, styles, streams, times, cuts and blocks for any sequence of writes', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 120 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(textArb, { maxLength: 60 }),
        fc.array(fc.nat(200), { maxLength: 30 }),
        (ops, lineCap, blockChars, rangeChars, srcLines, probes) => {
          const store = new LineStore(lineCap, blockChars, rangeChars)
          const model = new Model(lineCap)
          run(store, model, ops, undefined, { text: srcLines.join('\n') + '\n', at: 0 })
          // In order, backwards and at random: the cursors and caches must not matter.
          const n = store.count
          const all = Array.from({ length: n }, (_, i) => i)
          check(store, model, [...probes.map((p) => p % Math.max(1, n)), ...all, ...all.reverse()])
        },
      ),
      { numRuns: 400 },
    )
  })

  it('stays consistent when checked after every write', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(textArb, { maxLength: 40 }),
        (ops, blockChars, rangeChars, srcLines) => {
          const store = new LineStore(8, blockChars, rangeChars)
          const model = new Model(8)
          const state = { time: 1_000, seq: 0, closed: false }
          const src = { text: srcLines.join('\n') + '\n', at: 0 }
          for (const o of ops) {
            run(store, model, [o], state, src)
            const n = store.count
            check(store, model, [n - 1, 0, n >> 1])
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})

/** Each block's text with the range of lines starting in it. */
function blocksOf(store: LineStore): [string, number, number][] {
  const blocks: [string, number, number][] = []
  store.forEachBlock((text, _start, first, end) => void blocks.push([text, first, end]))
  return blocks
}

describe('LineStore encoding', () => {
  it('keeps lines in blocks of about the block size, none spanning two', () => {
    const store = new LineStore(1000, 100)
    const lines = Array.from({ length: 5000 }, (_, i) => String(i))
    const text = lines.map((l) => l + '\n').join('')
    store.pushLines(text, 0, text.length, KIND_STDOUT, 0, 0)
    let blocks = 0
    store.forEachBlock((block, _start, first, end) => {
      blocks++
      // Sealed at the first line start past 100 characters: one line more at most.
      expect(block.length).toBeLessThan(100 + 6)
      expect(block.split('\n').slice(0, end - first)).toEqual(lines.slice(first, end))
    })
    expect(blocks).toBeGreaterThan(200)
    // Random jumps, as a dragged scrollbar makes.
    for (let k = 0; k < 2000; k++) {
      const i = (k * 7919) % lines.length
      expect(store.text(i)).toBe(lines[i])
    }
  })

  it('keeps the lines of a frame as one block, and a line going on into the next frame alone', () => {
    // Two frames of a flood: the line "head" starts in the first (in two styles) and ends in
    // the second. Written as the output buffer writes them: whole lines, then the rest of a line.
    const a = Array.from({ length: 20 }, (_, i) => `a${i}\n`).join('') + 'hea'
    const b = 'd\n' + Array.from({ length: 20 }, (_, i) => `b${i}\n`).join('')
    const lastNl = a.lastIndexOf('\n') + 1
    for (const named of [false, true]) {
      const store = new LineStore(1000, 1024, 64)
      /** Write `text[from, to)`, given whole or (named) as a piece that useSource names. */
      const write = (
        text: string,
        from: number,
        to: number,
        fn: (t: string, f: number, e: number) => void,
      ): void => {
        if (!named) return fn(text, from, to)
        const piece = text.slice(from, to)
        store.useSource(piece, text, from)
        fn(piece, 0, to - from)
        store.useSource(null)
      }
      write(a, 0, lastNl, (t, f, e) => store.pushLines(t, f, e, KIND_STDOUT, 0, 1))
      store.pushLine(KIND_STDOUT, 0, 1)
      write(a, lastNl, lastNl + 2, (t, f, e) => store.append(t, f, e, PLAIN_STYLE, 1))
      write(a, lastNl + 2, a.length, (t, f, e) => store.append(t, f, e, 1, 1))
      write(b, 0, 1, (t, f, e) => store.append(t, f, e, 1, 2))
      write(b, 2, b.length, (t, f, e) => store.pushLines(t, f, e, KIND_STDOUT, 0, 2))
      store.close()
      expect(blocksOf(store)).toEqual([
        [a.slice(0, lastNl), 0, 20],
        ['head\n', 20, 21],
        [b.slice(2), 21, 41],
      ])
      expect(store.text(20)).toBe('head')
      // Plain, then from its third character on in style 1.
      expect(store.runs(20)).toEqual([2, 1])
      expect(store.text(21)).toBe('b0')
      expect(store.runs(21)).toEqual([])
    }
    // Closed (a gap follows) with its last line cut short: its lines are a block, that line
    // another.
    const cut = new LineStore(1000, 1024, 16)
    cut.pushLines(a, 0, lastNl, KIND_STDOUT, 0, 1)
    cut.pushLine(KIND_STDOUT, 0, 1)
    cut.append(a, lastNl, a.length, PLAIN_STYLE, 1)
    cut.close()
    expect(blocksOf(cut)).toEqual([
      [a.slice(0, lastNl), 0, 20],
      ['hea\n', 20, 21],
    ])
    // A frame that ends with its last line, written in two pieces: its lines are a block,
    // the next frame's another.
    const c = a.slice(0, lastNl)
    const half = c.indexOf('\n', c.length >> 1) + 1
    for (const named of [false, true]) {
      const whole = new LineStore(1000, 1024, 16)
      const lines = (text: string, from: number, to: number, kind: number): void => {
        if (!named) return whole.pushLines(text, from, to, kind, 0, 1)
        const piece = text.slice(from, to)
        whole.useSource(piece, text, from)
        whole.pushLines(piece, 0, piece.length, kind, 0, 1)
        whole.useSource(null)
      }
      lines(c, 0, half, KIND_STDOUT)
      lines(c, half, c.length, KIND_STDOUT)
      lines(b, 2, b.length, KIND_STDERR)
      whole.close()
      expect(blocksOf(whole)).toEqual([
        [c, 0, 20],
        [b.slice(2), 20, 40],
      ])
    }
  })

  it('gives one run per stream change and arrival time, not per line', () => {
    const store = new LineStore(100)
    for (let t = 0; t < 10; t++) {
      const text = 'a\nb\nc\n'.repeat(1000)
      store.pushLines(text, 0, text.length, t % 2 ? KIND_STDERR : KIND_STDOUT, 5000 + t, t)
    }
    expect(store.count).toBe(30_000)
    for (let i = 0; i < store.count; i += 777) {
      const t = Math.floor(i / 3000)
      expect(store.kind(i)).toBe(t % 2 ? KIND_STDERR : KIND_STDOUT)
      expect(store.time(i)).toBe(5000 + t)
    }
    expect((store as unknown as { runEnd: number }).runEnd).toBe(10)
  })

  it('stores a colour spanning many lines as one change, and a line in it starts in it', () => {
    const store = new LineStore(100, 64)
    store.pushLine(KIND_STDOUT, 0, 0)
    store.append('plain ', 0, 6, PLAIN_STYLE, 0)
    store.append('red', 0, 3, 1, 0)
    for (let i = 0; i < 1000; i++) {
      store.pushLine(KIND_STDOUT, 0, 0)
      store.append(`still red ${i}`, 0, `still red ${i}`.length, 1, 0)
    }
    store.pushLine(KIND_STDOUT, 0, 0)
    store.append('back to plain', 0, 13, PLAIN_STYLE, 0)
    expect(store.runs(0)).toEqual([6, 1])
    expect(store.runs(1)).toEqual([0, 1])
    expect(store.runs(500)).toEqual([0, 1])
    expect(store.runs(1001)).toEqual([])
    const internals = store as unknown as { blockChanges: (Uint8Array | null)[] }
    expect(internals.blockChanges.filter((c) => c !== null).length).toBeLessThanOrEqual(2)
  })

  it('forgets the line starts of blocks not looked at lately, and finds them again', () => {
    const store = new LineStore(1000, 256)
    const text = Array.from({ length: 200_000 }, (_, i) => `${i}\n`).join('')
    store.pushLines(text, 0, text.length, KIND_STDOUT, 0, 0)
    const internals = store as unknown as { indexes: Map<number, { firstLine: number }> }
    for (let i = 0; i < store.count; i += 97) expect(store.text(i)).toBe(String(i))
    expect(cachedBlockIndexes().lines).toBeLessThanOrEqual(64 * 1024)
    expect(cachedBlockIndexes().blocks).toBeLessThanOrEqual(128)
    // Other stores share the same bound.
    const other = new LineStore(1000, 256)
    other.pushLines(text, 0, text.length, KIND_STDOUT, 0, 0)
    for (let i = 0; i < other.count; i += 101) expect(other.text(i)).toBe(String(i))
    expect(cachedBlockIndexes().lines).toBeLessThanOrEqual(64 * 1024)
    store.dropFront(150_000)
    expect(store.text(0)).toBe('150000')
    // Blocks dropped are no longer cached.
    for (const idx of internals.indexes.values()) {
      expect(idx.firstLine).toBeGreaterThan(150_000 - 256)
    }
  })

  it('starts over cleanly when every line is dropped', () => {
    const store = new LineStore(100, 16)
    store.pushLine(KIND_STDOUT, 0, 0)
    store.append('red text that fills a block', 0, 27, 3, 0)
    store.pushLine(KIND_STDOUT, 0, 0)
    store.append('more', 0, 4, 3, 0)
    store.dropFront(2)
    expect(store.count).toBe(0)
    expect(store.chars).toBe(0)
    store.pushLine(KIND_STDERR, 7, 1)
    store.append('new', 0, 3, PLAIN_STYLE, 1)
    expect(store.text(0)).toBe('new')
    expect(store.runs(0)).toEqual([])
    expect(store.kind(0)).toBe(KIND_STDERR)
    expect(store.chars).toBe(4)
  })
  it('keeps nothing per line of a closed store, and reads it as before', () => {
    const store = new LineStore(100, 64)
    const text = Array.from({ length: 1000 }, (_, i) => `${i}\n`).join('')
    store.pushLines(text, 0, text.length, KIND_STDOUT, 0, 0)
    store.pushLine(KIND_STDERR, 5, 1)
    store.append('last', 0, 4, 2, 1)
    const chars = store.chars
    store.close()
    const internals = store as unknown as {
      openOffsets: Uint32Array
      total: number
      openLine: number
    }
    expect(internals.openLine).toBe(internals.total)
    expect(internals.openOffsets.length).toBeLessThanOrEqual(64)
    expect(store.chars).toBe(chars)
    expect(store.text(999)).toBe('999')
    expect(store.text(1000)).toBe('last')
    expect(store.runs(1000)).toEqual([0, 2])
    expect(store.kind(1000)).toBe(KIND_STDERR)
    store.pushLine(KIND_STDOUT, 6, 2)
    store.append('more', 0, 4, 2, 2)
    expect(store.text(1001)).toBe('more')
    expect(store.runs(1001)).toEqual([0, 2])
  })
})
