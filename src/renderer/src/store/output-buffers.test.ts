import { describe, expect, it } from 'vitest'
import type { OutputChunk, OutputStream } from '../../../shared/contract'
import { decodeOutputFrame, frameTextOf } from '../../../shared/wire'
import { styleOf } from './ansi'
import {
  MAX_LINE_CHARS,
  MAX_LINES,
  ProcessOutput,
  type GapMarker,
  type GapRemaining,
} from './output-buffers'

let nextSeq = 0
function chunk(data: string, stream: OutputStream = 'stdout', seq = nextSeq++): OutputChunk {
  return { seq, stream, data, time: 0 }
}

function rows(buf: ProcessOutput): string[] {
  const out: string[] = []
  for (let i = 0; i < buf.lineCount; i++) {
    const line = buf.line(i)
    out.push(`${line.kind}:${line.text}`)
  }
  return out
}

function feed(buf: ProcessOutput, ...parts: [string, OutputStream?][]): void {
  for (const [data, stream] of parts) buf.apply(chunk(data, stream ?? 'stdout', buf.lastSeq + 1))
}

describe('ProcessOutput line splitting', () => {
  it('splits on newlines and keeps an unterminated line open across chunks', () => {
    const buf = new ProcessOutput()
    feed(buf, ['hel'], ['lo\nwor'], ['ld\n'], ['tail'])
    expect(rows(buf)).toEqual(['stdout:hello', 'stdout:world', 'stdout:tail'])
  })

  it('keeps an empty line for consecutive newlines', () => {
    const buf = new ProcessOutput()
    feed(buf, ['a\n\nb\n'])
    expect(rows(buf)).toEqual(['stdout:a', 'stdout:', 'stdout:b'])
  })

  it('keeps open lines per stream and starts a new row when another stream wrote in between', () => {
    const buf = new ProcessOutput()
    feed(buf, ['>>> ', 'stderr'], ['2\n', 'stdout'], ['>>> ', 'stderr'], ['x', 'stderr'])
    expect(rows(buf)).toEqual(['stderr:>>> ', 'stdout:2', 'stderr:>>> x'])
  })

  it('shows a line typed into stdin as a row of its own between the prompt and the answer', () => {
    const buf = new ProcessOutput()
    feed(buf, ['Name? ', 'stdout'], ['Ada', 'stdin'], ['hi Ada\n', 'stdout'])
    expect(rows(buf)).toEqual(['stdout:Name? ', 'stdin:Ada', 'stdout:hi Ada'])
  })

  it('treats system chunks as whole lines even without a newline', () => {
    const buf = new ProcessOutput()
    feed(buf, ['▶ started', 'system'], ['■ exited', 'system'])
    expect(rows(buf)).toEqual(['system:▶ started', 'system:■ exited'])
  })
})

describe('ProcessOutput carriage returns', () => {
  it('treats \\r\\n as a newline', () => {
    const buf = new ProcessOutput()
    feed(buf, ['one\r\ntwo\r\n'])
    expect(rows(buf)).toEqual(['stdout:one', 'stdout:two'])
  })

  it('keeps only the text after a lone \\r within a chunk', () => {
    const buf = new ProcessOutput()
    feed(buf, ['10%\r50%\r100%\ndone\n'])
    expect(rows(buf)).toEqual(['stdout:100%', 'stdout:done'])
  })

  it('overwrites across chunks when a chunk ends in \\r', () => {
    const buf = new ProcessOutput()
    feed(buf, ['10%\r'])
    expect(rows(buf)).toEqual(['stdout:10%'])
    feed(buf, ['20%\r'])
    expect(rows(buf)).toEqual(['stdout:20%'])
    feed(buf, ['\n'])
    feed(buf, ['next\n'])
    expect(rows(buf)).toEqual(['stdout:20%', 'stdout:next'])
  })

  it('joins \\r\\n split across two chunks without losing the line', () => {
    const buf = new ProcessOutput()
    feed(buf, ['abc\r'], ['\ndef\n'])
    expect(rows(buf)).toEqual(['stdout:abc', 'stdout:def'])
  })
})

describe('ProcessOutput ANSI stripping', () => {
  it('removes SGR colour codes and cursor sequences', () => {
    const buf = new ProcessOutput()
    feed(buf, ['\x1b[1;32mgreen\x1b[0m \x1b[2K\x1b[1Gplain\n'])
    expect(rows(buf)).toEqual(['stdout:green plain'])
  })

  it('removes OSC sequences ended by BEL or ST', () => {
    const buf = new ProcessOutput()
    feed(buf, ['\x1b]0;title\x07a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n'])
    expect(rows(buf)).toEqual(['stdout:alink'])
  })

  it('removes a sequence split across chunks', () => {
    const buf = new ProcessOutput()
    feed(buf, ['red: \x1b['], ['31'], ['mX\x1b'], ['[0m\n'])
    expect(rows(buf)).toEqual(['stdout:red: X'])
  })

  it('removes other ESC sequences and stray control characters but keeps tabs', () => {
    const buf = new ProcessOutput()
    feed(buf, ['\x1b(Ba\x1b7b\x1b8\x07c\td\x08\n'])
    expect(rows(buf)).toEqual(['stdout:abc\td'])
  })

  it('keeps split-stream state separate per stream', () => {
    const buf = new ProcessOutput()
    feed(buf, ['x\x1b[3', 'stdout'], ['err\n', 'stderr'], ['1my\n', 'stdout'])
    expect(rows(buf)).toEqual(['stdout:x', 'stderr:err', 'stdout:y'])
  })
})

describe('ProcessOutput sequence numbers', () => {
  it('skips chunks at or below the last applied sequence number', () => {
    const buf = new ProcessOutput()
    expect(buf.apply(chunk('a\n', 'stdout', 0))).toBe(true)
    expect(buf.apply(chunk('b\n', 'stdout', 1))).toBe(true)
    expect(buf.apply(chunk('b\n', 'stdout', 1))).toBe(false)
    expect(buf.apply(chunk('a\n', 'stdout', 0))).toBe(false)
    expect(buf.apply(chunk('c\n', 'stdout', 2))).toBe(true)
    expect(rows(buf)).toEqual(['stdout:a', 'stdout:b', 'stdout:c'])
    expect(buf.lastSeq).toBe(2)
  })

  it('merges a snapshot with overlapping live chunks without duplicates', () => {
    const buf = new ProcessOutput()
    buf.applySnapshot({
      id: 'p',
      firstSeq: 0,
      droppedChars: 0,
      chunks: [chunk('one\n', 'stdout', 0), chunk('two\n', 'stderr', 1)],
    })
    for (const c of [chunk('two\n', 'stderr', 1), chunk('three\n', 'stdout', 2)]) buf.apply(c)
    expect(rows(buf)).toEqual(['stdout:one', 'stderr:two', 'stdout:three'])
    expect(buf.hasTopMarker).toBe(false)
  })

  it('puts a loadable marker before output the host dropped before the first snapshot', () => {
    const buf = new ProcessOutput()
    buf.applySnapshot({
      id: 'p',
      firstSeq: 5,
      droppedChars: 100,
      chunks: [chunk('x\n', 'stdout', 5)],
    })
    expect(buf.hasTopMarker).toBe(false)
    expect(rows(buf)).toEqual(['gap:100 bytes of earlier output not shown', 'stdout:x'])
    expect(buf.gaps()).toMatchObject([{ afterSeq: -1, beforeSeq: 5, leading: true }])
  })

  it('inserts a gap row sized from the host counters when a resync snapshot skips ahead', () => {
    const buf = new ProcessOutput()
    buf.apply(chunk('a\n', 'stdout', 0))
    buf.applySnapshot({
      id: 'p',
      firstSeq: 4,
      droppedChars: 10,
      chunks: [chunk('e\n', 'stdout', 4)],
    })
    // 2 characters were seen (seq 0), the host had produced 10 before seq 4: 8 are missing.
    expect(rows(buf)).toEqual(['stdout:a', 'gap:8 bytes of output not shown', 'stdout:e'])
    expect(buf.gaps()).toMatchObject([{ afterSeq: 0, beforeSeq: 4, chars: 8, leading: false }])
    // Chunks inside the gap arriving late are not applied over newer output.
    expect(buf.apply(chunk('late\n', 'stdout', 2))).toBe(false)
  })

  it('adds no gap row when a resync snapshot continues exactly', () => {
    const buf = new ProcessOutput()
    buf.apply(chunk('a', 'stdout', 0))
    buf.applySnapshot({
      id: 'p',
      firstSeq: 0,
      droppedChars: 0,
      chunks: [chunk('b\n', 'stdout', 1)],
    })
    expect(rows(buf)).toEqual(['stdout:ab'])
  })
})

describe('ProcessOutput bounds', () => {
  it('drops the oldest lines beyond the line limit and counts them', () => {
    const buf = new ProcessOutput(5)
    for (let i = 0; i < 12; i++) feed(buf, [`line ${i}\n`])
    expect(buf.lineCount).toBe(5)
    expect(buf.droppedLines).toBe(7)
    expect(rows(buf)[0]).toBe('stdout:line 7')
    expect(rows(buf)[4]).toBe('stdout:line 11')
    expect(buf.hasTopMarker).toBe(true)
    expect(buf.rowCount).toBe(6)
    expect(buf.topMarkerText()).toBe('7 earlier lines not kept')
    expect(buf.lineKey(0)).toBe(7)
  })

  it('stays bounded and correct through many compactions', () => {
    const buf = new ProcessOutput(1000)
    const text = Array.from({ length: 20_000 }, (_, i) => `${i}\n`).join('')
    feed(buf, [text.slice(0, 50_000)], [text.slice(50_000)])
    expect(buf.lineCount).toBe(1000)
    expect(buf.droppedLines).toBe(19_000)
    expect(buf.line(0).text).toBe('19000')
    expect(buf.line(999).text).toBe('19999')
  })

  it('drops old lines when the character limit is exceeded', () => {
    const buf = new ProcessOutput(1000, 100)
    for (let i = 0; i < 10; i++) feed(buf, ['x'.repeat(30) + '\n'])
    // Each line costs its text plus a separator: 3 x 31 fit in 100.
    expect(buf.lineCount).toBe(3)
    expect(buf.droppedLines).toBe(7)
  })

  it('caps a single line at 64 KiB and counts the rest', () => {
    const buf = new ProcessOutput()
    feed(buf, ['a'.repeat(MAX_LINE_CHARS - 10)], ['b'.repeat(30)], ['c'.repeat(5) + '\nnext\n'])
    const line = buf.line(0)
    expect(line.text.length).toBe(MAX_LINE_CHARS)
    expect(line.text.endsWith('b'.repeat(10))).toBe(true)
    expect(line.cut).toBe(25)
    expect(buf.line(1).text).toBe('next')
    expect(buf.maxLineChars).toBe(MAX_LINE_CHARS)
  })

  it('resets the cap when a carriage return redraws a long line', () => {
    const buf = new ProcessOutput()
    feed(buf, ['z'.repeat(MAX_LINE_CHARS + 100)], ['\rshort'])
    expect(buf.line(0).text).toBe('short')
    expect(buf.line(0).cut).toBe(0)
  })
})

/** A line's text with its styled stretches as `<fg:text>` (foreground only, for brevity). */
function styled(buf: ProcessOutput, index: number): string {
  const ref = buf.locate(index)
  if (!ref.store) return '(gap)'
  const text = ref.store.text(ref.index)
  const runs = ref.store.runs(ref.index)
  let out = ''
  let at = 0
  let style = 0
  const emit = (end: number): void => {
    if (end <= at) return
    const s = styleOf(style)
    out += style === 0 ? text.slice(at, end) : `<${s.fg}:${text.slice(at, end)}>`
    at = end
  }
  for (let i = 0; i < runs.length; i += 2) {
    emit(runs[i])
    style = runs[i + 1]
  }
  emit(text.length)
  return out
}

describe('ProcessOutput styles', () => {
  it('keeps style runs per line, and a colour carried over a newline starts the next line', () => {
    const buf = new ProcessOutput()
    feed(buf, ['plain \x1b[31mred\nstill red\x1b[0m plain\n\x1b[32m'], ['green\x1b[m\n'])
    expect([0, 1, 2].map((i) => styled(buf, i))).toEqual([
      'plain <1:red>',
      '<1:still red> plain',
      '<2:green>',
    ])
  })

  it('applies a sequence split across chunks at the right place', () => {
    const buf = new ProcessOutput()
    feed(buf, ['a\x1b[3'], ['4mb\x1b'], ['[0mc\n'])
    expect(styled(buf, 0)).toBe('a<4:b>c')
  })

  it('redraws a styled progress line in place on \\r, keeping only the last state', () => {
    const buf = new ProcessOutput()
    feed(
      buf,
      ['\x1b[33m 10%\x1b[0m\r'],
      ['\x1b[33m 50%\x1b[0m\r'],
      ['\x1b[32m100%\x1b[0m\r\n'],
      ['done\n'],
    )
    expect(rows(buf)).toEqual(['stdout:100%', 'stdout:done'])
    expect(styled(buf, 0)).toBe('<2:100%>')
  })

  it('shows pip/npm style progress (\\r inside one chunk) as one line', () => {
    const buf = new ProcessOutput()
    const bar = (n: number): string => `\r[${'#'.repeat(n)}${' '.repeat(10 - n)}] ${n * 10}%`
    feed(buf, ['Downloading\n'], [bar(1) + bar(2) + bar(3)], [bar(7)], [bar(10) + '\n'], ['ok\n'])
    expect(rows(buf)).toEqual(['stdout:Downloading', 'stdout:[##########] 100%', 'stdout:ok'])
  })
})

describe('ProcessOutput line index', () => {
  it('matches a reference split for random chunk boundaries across many blocks', () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}`)
    const text = lines.join('\n') + '\n'
    const buf = new ProcessOutput()
    let at = 0
    let n = 1
    while (at < text.length) {
      const size = (n = (n * 7919 + 13) % 5003) + 1
      feed(buf, [text.slice(at, at + size)])
      at += size
    }
    expect(buf.lineCount).toBe(lines.length)
    for (const i of [0, 1, 1234, 9999, 17_000, 29_999]) expect(buf.line(i).text).toBe(lines[i])
    expect(rows(buf).map((r) => r.slice(7))).toEqual(lines)
  })

  it('gives the same rows, styles, cuts and blocks whether text comes whole, in pieces or a character at a time', () => {
    // Whole chunks take the many-lines-at-once path; single characters never do; pieces of a
    // chunk (applyPart) cut lines, escapes and \r\n anywhere. All must agree exactly.
    let r = 42
    const rand = (n: number): number => (r = (r * 1103515245 + 12345) % 2147483648) % n
    const bits = [
      'a',
      'bc',
      'def ',
      '\n',
      '\n',
      '\n',
      '\r\n',
      '\r',
      '\x1b[31m',
      '\x1b[0m',
      '\t',
      'é',
      '😀',
    ]
    const chunks: OutputChunk[] = []
    for (let c = 0; c < 300; c++) {
      let data = ''
      const parts = 1 + rand(200)
      for (let i = 0; i < parts; i++) {
        data += rand(50) === 0 ? 'L'.repeat(rand(40)) : bits[rand(bits.length)]
      }
      chunks.push({ seq: c, stream: rand(4) === 0 ? 'stderr' : 'stdout', data, time: c })
    }
    const whole = new ProcessOutput(100_000, 10_000_000, 25)
    const pieces = new ProcessOutput(100_000, 10_000_000, 25)
    const single = new ProcessOutput(100_000, 10_000_000, 25)
    let seq = 0
    for (const c of chunks) {
      whole.apply(c)
      for (let at = 0; at < c.data.length;) {
        const end = Math.min(c.data.length, at + 1 + rand(30))
        expect(pieces.applyPart(c, at, end)).toBe(true)
        at = end
      }
      for (const ch of c.data) single.apply({ ...c, seq: seq++, data: ch })
    }
    const dump = (buf: ProcessOutput): string[] =>
      Array.from({ length: buf.lineCount }, (_, i) => {
        const ref = buf.locate(i)
        if (!ref.store) return 'gap'
        const { store, index } = ref
        return `${store.kind(index)}|${store.text(index)}|${store.runs(index).join(',')}|${store.cut(index)}|${store.time(index)}`
      })
    const expected = dump(single)
    expect(expected.length).toBeGreaterThan(1000)
    expect(dump(whole)).toEqual(expected)
    expect(dump(pieces)).toEqual(expected)
    expect(whole.maxLineChars).toBe(single.maxLineChars)
    // Every line is found in the block the index says it is in.
    const store = whole.locate(0).store
    expect(store).toBeDefined()
    if (!store) return
    for (let i = 0; i < store.count; i += 97) {
      const block = store.blockAt(i)
      const at = store.startOf(i) - block.start
      expect(block.text.slice(at, at + store.len(i))).toBe(store.text(i))
    }
  })

  it('gives the same rows from chunks decoded a frame at a time as from chunks given whole', () => {
    // A flood as the web transport brings it: frames of many chunks, each chunk's text a
    // slice of its frame's, applied in 16 KiB pieces; the store keeps them as ranges of the
    // frames' text, sealed where a frame ends. Colours, \r and stderr break the ranges.
    let r = 7
    const rand = (n: number): number => (r = (r * 1103515245 + 12345) % 2147483648) % n
    let text = ''
    for (let i = 0; text.length < 900_000; i++) {
      const k = rand(4000)
      text +=
        k === 0
          ? `\x1b[32mgreen ${i}\x1b[0m\n`
          : k === 1
            ? `progress ${i}\rdone ${i}\n`
            : k === 2
              ? 'L'.repeat(rand(300)) + '\n'
              : `line ${i} with some text\n`
    }
    const chunks: OutputChunk[] = []
    for (let at = 0, seq = 0; at < text.length; seq++) {
      const end = Math.min(text.length, at + 1 + rand(9000))
      const stream: OutputStream = rand(40) === 0 ? 'stderr' : 'stdout'
      chunks.push({ seq, stream, data: text.slice(at, end), time: seq })
      at = end
    }
    // Frames of 1 to 40 chunks, encoded as the host encodes them and decoded as the page does.
    const decoded: OutputChunk[] = []
    for (let i = 0; i < chunks.length;) {
      const group = chunks.slice(i, i + 1 + rand(40))
      i += group.length
      const utf8 = new TextEncoder()
      const header = utf8.encode(
        JSON.stringify({
          id: 'p',
          chunks: group.map((c) => ({ ...c, data: undefined, bytes: c.data.length })),
        }),
      )
      const body = utf8.encode(group.map((c) => c.data).join(''))
      const frame = new Uint8Array(4 + header.length + body.length)
      new DataView(frame.buffer).setUint32(0, header.length, true)
      frame.set(header, 4)
      frame.set(body, 4 + header.length)
      decoded.push(...decodeOutputFrame(frame).chunks)
    }
    expect(decoded.every((c) => frameTextOf(c) !== undefined)).toBe(true)
    const whole = new ProcessOutput(10_000_000, 100_000_000)
    const framed = new ProcessOutput(10_000_000, 100_000_000)
    for (const c of chunks) whole.apply(c)
    for (const c of decoded) {
      for (let at = 0; at < c.data.length; at += 16 * 1024) {
        expect(framed.applyPart(c, at, Math.min(c.data.length, at + 16 * 1024))).toBe(true)
      }
    }
    const dump = (buf: ProcessOutput): string[] =>
      Array.from({ length: buf.lineCount }, (_, i) => {
        const ref = buf.locate(i)
        if (!ref.store) return 'gap'
        const { store, index } = ref
        return `${store.kind(index)}|${store.text(index)}|${store.runs(index).join(',')}|${store.time(index)}`
      })
    const expected = dump(whole)
    expect(expected.length).toBeGreaterThan(30_000)
    expect(dump(framed)).toEqual(expected)
    // Blocks hold every line once, in order, and a search over them finds what it should.
    const store = framed.locate(0).store
    if (!store) throw new Error('no lines')
    let next = 0
    let greens = 0
    store.forEachBlock((block, start, first, end) => {
      expect(first).toBe(next)
      for (let i = first; i < end; i += 13) {
        const at = store.startOf(i) - start
        expect(block.slice(at, at + store.len(i))).toBe(store.text(i))
      }
      greens += block.split('green ').length - 1
      next = end
    })
    expect(next).toBe(store.count)
    expect(greens).toBe(expected.filter((row) => row.includes('|green ')).length)
  })

  it('applies a piece of a chunk only right after the piece before it', () => {
    const buf = new ProcessOutput()
    const c = chunk('one\ntwo\nthree\n', 'stdout', 0)
    expect(buf.applyPart(c, 0, 5)).toBe(true)
    expect(buf.applyPart(c, 6, 9)).toBe(false)
    expect(buf.applyPart(c, 5, 9)).toBe(true)
    expect(buf.applyPart(c, 9, c.data.length)).toBe(true)
    expect(buf.apply(c)).toBe(false)
    expect(rows(buf)).toEqual(['stdout:one', 'stdout:two', 'stdout:three'])
  })

  it('records the chunks a cut line spans, to read it back from disk', () => {
    const buf = new ProcessOutput(1000, 10_000_000, 10)
    buf.apply(chunk('before\nabcdefgh', 'stdout', 0))
    buf.apply(chunk('ijklmn', 'stdout', 1))
    buf.apply(chunk('opq\nafter\n', 'stdout', 2))
    const ref = buf.locate(1)
    expect(ref.store?.text(1)).toBe('abcdefghij')
    expect(ref.store?.cutInfo(1)).toEqual({ cut: 7, firstSeq: 0, lastSeq: 2 })
    expect(buf.line(2)).toEqual({ kind: 'stdout', text: 'after', cut: 0 })
  })

  it('keeps appending to a line without a newline in time linear in the input', () => {
    const buf = new ProcessOutput()
    const piece = 'y'.repeat(1000)
    for (let i = 0; i < 50_000; i++) feed(buf, [piece])
    expect(buf.lineCount).toBe(1)
    expect(buf.line(0).text.length).toBe(MAX_LINE_CHARS)
    expect(buf.line(0).cut).toBe(50_000_000 - MAX_LINE_CHARS)
  })

  it('appends a million lines, bounded and correct', () => {
    const buf = new ProcessOutput()
    const count = 1_000_000
    let pending: string[] = []
    let seq = 0
    for (let i = 0; i < count; i++) {
      pending.push(`${i} the quick brown fox`)
      if (pending.length === 5000) {
        buf.apply(chunk(pending.join('\n') + '\n', 'stdout', seq++))
        pending = []
      }
    }
    expect(buf.lineCount).toBe(count)
    expect(buf.line(0).text).toBe('0 the quick brown fox')
    expect(buf.line(654_321).text).toBe('654321 the quick brown fox')
    expect(buf.line(count - 1).text).toBe(`${count - 1} the quick brown fox`)
    // The same volume under a small budget keeps only the newest lines.
    const small = new ProcessOutput(MAX_LINES, 1_000_000)
    for (let s = 0; s < 200; s++) {
      const from = s * 5000
      small.apply(
        chunk(
          Array.from({ length: 5000 }, (_, j) => `${from + j} the quick brown fox`).join('\n') +
            '\n',
          'stdout',
          s,
        ),
      )
    }
    expect(small.droppedLines + small.lineCount).toBe(count)
    expect(small.line(small.lineCount - 1).text).toBe(`${count - 1} the quick brown fox`)
    expect(small.line(0).text).toBe(`${small.droppedLines} the quick brown fox`)
  })
})

describe('ProcessOutput memory outside the JS heap', () => {
  /**
   * Count typed arrays of more than 64 bytes (V8 keeps smaller ones in the JS heap) made
   * while `run` runs: by `new` on the global constructors and by `slice`.
   */
  function typedArraysMadeBy(run: () => void): number {
    const names = ['Uint8Array', 'Uint16Array', 'Uint32Array', 'Float64Array'] as const
    const g = globalThis as unknown as Record<string, unknown>
    const originals = names.map((n) => g[n] as typeof Uint8Array)
    const proto = Object.getPrototypeOf(Uint8Array.prototype) as {
      slice: typeof Uint8Array.prototype.slice
    }
    const slice = proto.slice
    let made = 0
    const count = (a: { byteLength: number }): void => {
      if (a.byteLength > 64) made++
    }
    names.forEach((n, i) => {
      g[n] = class extends originals[i] {
        constructor(...args: unknown[]) {
          super(...(args as []))
          count(this)
        }
      }
    })
    proto.slice = function (this: Uint8Array, ...args: [number?, number?]) {
      const out = slice.apply(this, args)
      count(out)
      return out
    }
    try {
      run()
    } finally {
      names.forEach((n, i) => (g[n] = originals[i]))
      proto.slice = slice
    }
    return made
  }

  it('makes no typed arrays while a flood is applied, skipped ahead and shown', () => {
    // In Chromium, making one (its memory is allocated outside the JS heap) while a flood's
    // message buffers are being freed stalled the page for 100-370 ms at a time. A flood the
    // page falls behind on brings a gap every few frames (a new store each), about 200 KiB of
    // lines per frame, and the newest rows are read for the screen after each frame.
    const buf = new ProcessOutput()
    const frame = (i: number, colour: boolean): string => {
      const lines: string[] = []
      for (let j = 0; j < 9000; j++) {
        lines.push(
          colour && j % 3 === 0
            ? `\x1b[3${j % 8}mline ${i}.${j}\x1b[0m`
            : `line ${i}.${j} of a flood`,
        )
      }
      return lines.join('\n') + '\n'
    }
    let seq = 0
    const flood = (frames: number): void => {
      for (let i = 0; i < frames; i++) {
        if (i % 3 === 2) {
          seq += 5
          buf.markSkipped(seq)
        }
        // Each frame arrives a few milliseconds after the one before, as in a flood.
        const c = chunk(frame(i, i % 2 === 1), i % 5 === 4 ? 'stderr' : 'stdout', seq++)
        buf.apply({ ...c, time: 1_700_000_000_000 + seq * 7 })
        for (let r = Math.max(0, buf.lineCount - 60); r < buf.lineCount; r++) buf.line(r)
      }
    }
    // Warm up: arrays that only grow (stream and time runs) reach their size.
    flood(20)
    const made = typedArraysMadeBy(() => flood(200))
    // Every line, and a marker for each of the 6 + 66 skips.
    expect(buf.lineCount).toBe(220 * 9000 + 72)
    // At most the doubling of arrays that grow with the number of runs.
    expect(made).toBeLessThanOrEqual(6)
    // The second frame's block (3,000 coloured lines, 6,000 style changes kept encoded in a
    // string) reads back with the styles the frame had.
    const ref = new ProcessOutput()
    ref.apply(chunk(frame(1, true), 'stdout', 0))
    for (const j of [0, 1, 3, 4500, 4501, 8997, 8999]) {
      expect(styled(buf, 9000 + j)).toBe(styled(ref, j))
    }
    expect(styled(ref, 3)).toBe('<3:line 1.3>')
  })
})

describe('ProcessOutput clear and gaps', () => {
  it('clears the view and keeps showing new output, keys still increasing', () => {
    const buf = new ProcessOutput()
    feed(buf, ['one\ntwo\npartial'])
    const keyBefore = buf.lineKey(2)
    const structure = buf.structure
    buf.clear()
    expect(buf.rowCount).toBe(0)
    expect(buf.structure).toBe(structure + 1)
    feed(buf, [' more\nthree\n'])
    // The open line ended with the clear: what follows starts a new row.
    expect(rows(buf)).toEqual(['stdout: more', 'stdout:three'])
    expect(buf.lineKey(0)).toBeGreaterThan(keyBefore)
  })

  it('splices chunks read from disk in place of a gap, keeping later output', () => {
    const buf = new ProcessOutput()
    buf.apply(chunk('a\n', 'stdout', 0))
    buf.applySnapshot({
      id: 'p',
      firstSeq: 4,
      droppedChars: 10,
      chunks: [chunk('e\n', 'stdout', 4)],
    })
    buf.apply(chunk('f\n', 'stdout', 5))
    const [gap] = buf.gaps()
    buf.spliceGap(
      gap,
      [chunk('b\n', 'stdout', 1), chunk('c\n', 'stderr', 2), chunk('d\n', 'stdout', 3)],
      null,
    )
    expect(rows(buf)).toEqual([
      'stdout:a',
      'stdout:b',
      'stderr:c',
      'stdout:d',
      'stdout:e',
      'stdout:f',
    ])
    expect(buf.gaps()).toEqual([])
    buf.apply(chunk('g\n', 'stdout', 6))
    expect(rows(buf).at(-1)).toBe('stdout:g')
  })

  it('makes one marker of output skipped twice with nothing between, and joins its lines', () => {
    const buf = new ProcessOutput()
    buf.apply(chunk('l1\nli', 'stdout', 0))
    // Skipped before seq 2, then again before seq 4 before anything of seq 2 applied.
    buf.markSkipped(2)
    buf.markSkipped(4)
    buf.apply(chunk('ne4\n', 'stdout', 4))
    expect(rows(buf)).toEqual(['stdout:l1', 'stdout:li', 'gap:Some output not shown', 'stdout:ne4'])
    const [gap] = buf.gaps()
    expect([gap.afterSeq, gap.beforeSeq]).toEqual([0, 4])
    buf.spliceGap(
      gap,
      [chunk('ne2\nli', 'stdout', 1), chunk('ne3\nli', 'stdout', 2), chunk('', 'stdout', 3)],
      null,
    )
    expect(rows(buf)).toEqual(['stdout:l1', 'stdout:line2', 'stdout:line3', 'stdout:line4'])
  })

  it('joins a line cut by a gap back together at both edges once the gap is loaded', () => {
    const buf = new ProcessOutput()
    buf.apply(chunk('l1\n\x1b[31mli', 'stdout', 0))
    buf.markSkipped(3)
    buf.apply(chunk('ne5\nline6\n', 'stdout', 3))
    expect(rows(buf)).toEqual([
      'stdout:l1',
      'stdout:li',
      'gap:Some output not shown',
      'stdout:ne5',
      'stdout:line6',
    ])
    const [gap] = buf.gaps()
    buf.spliceGap(gap, [chunk('ne2\nline3\nli', 'stdout', 1), chunk('ne4\nli', 'stdout', 2)], null)
    expect(rows(buf)).toEqual([
      'stdout:l1',
      'stdout:line2',
      'stdout:line3',
      'stdout:line4',
      'stdout:line5',
      'stdout:line6',
    ])
    // The part before the gap keeps its colour.
    expect(styled(buf, 1)).toBe('<1:li>ne2')
    // Live output goes on after the joined lines.
    buf.apply(chunk('line7\n', 'stdout', 4))
    expect(rows(buf).at(-1)).toBe('stdout:line7')
  })

  it('joins the edges of a gap loaded in two reads, newest first', () => {
    const buf = new ProcessOutput()
    buf.apply(chunk('a\nb-', 'stdout', 0))
    buf.markSkipped(5)
    buf.apply(chunk('-f\n', 'stdout', 5))
    const [gap] = buf.gaps()
    // The newest part first; what is left stays a (smaller) marker.
    buf.spliceGap(gap, [chunk('-d\ne-', 'stdout', 3), chunk('-e-', 'stdout', 4)], {
      beforeSeq: 3,
      chars: 4,
    })
    expect(rows(buf)).toEqual([
      'stdout:a',
      'stdout:b-',
      'gap:4 bytes of output not shown',
      'stdout:-d',
      'stdout:e--e--f',
    ])
    const [rest] = buf.gaps()
    buf.spliceGap(rest, [chunk('-b\nc-', 'stdout', 1), chunk('-c-', 'stdout', 2)], null)
    expect(rows(buf)).toEqual(['stdout:a', 'stdout:b--b', 'stdout:c--c--d', 'stdout:e--e--f'])
  })

  it('joins only what continues: another stream, a newline at the edge; the line still being written goes on', () => {
    // stderr's line was open before the gap; the loaded output starts on stdout.
    const a = new ProcessOutput()
    a.apply(chunk('out\n', 'stdout', 0))
    a.apply(chunk('err-', 'stderr', 1))
    a.markSkipped(3)
    a.apply(chunk('x\n', 'stdout', 3))
    a.spliceGap(a.gaps()[0], [chunk('loaded\n', 'stdout', 2)], null)
    expect(rows(a)).toEqual(['stdout:out', 'stderr:err-', 'stdout:loaded', 'stdout:x'])
    // The loaded output starts with the newline that ended the open line: no empty row.
    const b = new ProcessOutput()
    b.apply(chunk('li', 'stdout', 0))
    b.markSkipped(2)
    b.apply(chunk('z\n', 'stdout', 2))
    b.spliceGap(b.gaps()[0], [chunk('\nline2\n', 'stdout', 1)], null)
    expect(rows(b)).toEqual(['stdout:li', 'stdout:line2', 'stdout:z'])
    // After the gap, the only line is still being written live: it is joined and goes on.
    const c = new ProcessOutput()
    c.apply(chunk('a\n', 'stdout', 0))
    c.markSkipped(2)
    c.apply(chunk('ne', 'stdout', 2))
    c.spliceGap(c.gaps()[0], [chunk('li', 'stdout', 1)], null)
    c.apply(chunk('w\n', 'stdout', 3))
    expect(rows(c)).toEqual(['stdout:a', 'stdout:linew'])
    c.apply(chunk('next\n', 'stdout', 4))
    expect(rows(c)).toEqual(['stdout:a', 'stdout:linew', 'stdout:next'])
  })

  it('reads as if nothing had been skipped once every gap is loaded, for random cuts and gaps', () => {
    let seed = 7
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return (seed >>> 16) % n
    }
    for (let round = 0; round < 3000; round++) {
      // Lines of both streams (stderr now and then), cut into chunks at random places.
      const chunks: OutputChunk[] = []
      for (let seq = 0; seq < 16; seq++) {
        const stream: OutputStream = rand(5) === 0 ? 'stderr' : 'stdout'
        let data = ''
        for (let k = rand(3) + 1; k > 0; k--) data += rand(4) === 0 ? '\n' : `w${rand(100)}`
        chunks.push(chunk(data, stream, seq))
      }
      const whole = new ProcessOutput()
      for (const c of chunks) whole.apply(c)
      // Skip one or two ranges as a page that fell behind would, then load them back, each
      // in one read or in two (newest first), in either order.
      const buf = new ProcessOutput()
      const from = 1 + rand(4)
      const to = from + 1 + rand(3)
      const from2 = to + 1 + rand(2)
      const to2 = from2 + 1 + rand(2)
      // Output goes on live while the gaps are loaded (one chunk after each load).
      const later = chunks.slice(12)
      for (const c of chunks.slice(0, 12)) {
        if ((c.seq >= from && c.seq < to) || (c.seq >= from2 && c.seq < to2)) continue
        if (c.seq === to || c.seq === to2) buf.markSkipped(c.seq)
        buf.apply(c)
      }
      /** Splice in one go, or a few characters a step with live output between steps. */
      const splice = (
        gap: GapMarker,
        missing: OutputChunk[],
        remaining: GapRemaining | null,
      ): void => {
        if (rand(2) === 0) return buf.spliceGap(gap, missing, remaining)
        const splicing = buf.beginSplice(gap, missing, remaining, 1 + rand(4))
        while (!splicing.step(0, () => 1)) {
          if (later.length > 1 && rand(3) === 0) buf.apply(later.shift()!)
        }
      }
      const order = rand(2) === 0 ? buf.gaps() : buf.gaps().reverse()
      for (const gap of order) {
        const missing = chunks.filter((c) => c.seq > gap.afterSeq && c.seq < gap.beforeSeq)
        if (missing.length > 1 && rand(2) === 0) {
          const cut = 1 + rand(missing.length - 1)
          splice(gap, missing.slice(cut), { beforeSeq: missing[cut].seq, chars: null })
          const rest = buf.gaps().find((g) => g.afterSeq === gap.afterSeq)!
          splice(rest, missing.slice(0, cut), null)
        } else splice(gap, missing, null)
        if (later.length > 0) buf.apply(later.shift()!)
      }
      for (const c of later) buf.apply(c)
      expect(buf.gaps()).toEqual([])
      expect(rows(buf), JSON.stringify(chunks.map((c) => [c.stream, c.data]))).toEqual(rows(whole))
    }
  })

  it('keeps a smaller marker for what a limited read left out', () => {
    const buf = new ProcessOutput()
    buf.apply(chunk('a\n', 'stdout', 0))
    buf.applySnapshot({
      id: 'p',
      firstSeq: 10,
      droppedChars: 100,
      chunks: [chunk('z\n', 'stdout', 10)],
    })
    const [gap] = buf.gaps()
    buf.spliceGap(gap, [chunk('h\n', 'stdout', 8), chunk('i\n', 'stdout', 9)], {
      beforeSeq: 8,
      chars: 40,
    })
    expect(rows(buf)).toEqual([
      'stdout:a',
      'gap:40 bytes of output not shown',
      'stdout:h',
      'stdout:i',
      'stdout:z',
    ])
    expect(buf.gaps()).toMatchObject([{ afterSeq: 0, beforeSeq: 8 }])
  })

  it('drops a leading gap first when bounds are exceeded and says earlier output is lost', () => {
    const buf = new ProcessOutput(3)
    buf.applySnapshot({
      id: 'p',
      firstSeq: 2,
      droppedChars: 50,
      chunks: [chunk('a\nb\n', 'stdout', 2)],
    })
    expect(rows(buf)[0]).toMatch(/^gap:/)
    feed(buf, ['c\nd\n'])
    expect(rows(buf)).toEqual(['stdout:b', 'stdout:c', 'stdout:d'])
    expect(buf.hasTopMarker).toBe(true)
  })
})

describe('ProcessOutput with hostile input', () => {
  it('shows NUL bytes, lone \\r, U+FFFD and 10,000 ANSI sequences in one line safely', () => {
    const buf = new ProcessOutput()
    const ansiStorm = Array.from({ length: 10_000 }, (_, i) => `\x1b[3${i % 8}m${i % 10}`).join('')
    feed(
      buf,
      ['nul:\0here\n'],
      ['bad:\uFFFD\n'],
      ['old\rnew\n'],
      [`${ansiStorm}\x1b[0m\n`],
      ['end\n'],
    )
    const out = rows(buf)
    // NUL is a control character: dropped from the display, never rendered as garbage.
    expect(out[0]).toBe('stdout:nul:here')
    expect(out[1]).toBe('stdout:bad:\uFFFD')
    expect(out[2]).toBe('stdout:new')
    // Every escape sequence is consumed: only the digits remain, no ESC, no '['.
    const storm = buf.line(3).text
    expect(storm).toHaveLength(10_000)
    expect(storm).toMatch(/^[0-9]+$/)
    expect(out[4]).toBe('stdout:end')
  })

  it('a 100 MB line without a newline completes, is shown capped with its size, and keeps memory bounded', () => {
    const buf = new ProcessOutput()
    const mb = 'x'.repeat(1024 * 1024)
    for (let i = 0; i < 100; i++) feed(buf, [mb])
    expect(buf.lineCount).toBe(1)
    const line = buf.line(0)
    expect(line.text.length).toBe(MAX_LINE_CHARS)
    expect(line.text.length + line.cut).toBe(100 * 1024 * 1024)
    feed(buf, ['\nnext\n'])
    expect(rows(buf).slice(1)).toEqual(['stdout:next'])
  })
})
