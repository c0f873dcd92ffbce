import { describe, expect, it } from 'vitest'
import type { OutputChunk, OutputStream } from '../../../shared/contract'
import { MAX_LINE_CHARS, ProcessOutput } from './output-buffers'

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

  it('marks earlier output the host dropped before the first snapshot', () => {
    const buf = new ProcessOutput()
    buf.applySnapshot({
      id: 'p',
      firstSeq: 5,
      droppedChars: 100,
      chunks: [chunk('x\n', 'stdout', 5)],
    })
    expect(buf.hasTopMarker).toBe(true)
    expect(buf.rowCount).toBe(2)
    expect(buf.topMarkerText()).toBe('Earlier output not kept')
  })

  it('inserts a gap row when a resync snapshot starts after the next expected chunk', () => {
    const buf = new ProcessOutput()
    buf.apply(chunk('a\n', 'stdout', 0))
    buf.applySnapshot({
      id: 'p',
      firstSeq: 4,
      droppedChars: 10,
      chunks: [chunk('e\n', 'stdout', 4)],
    })
    expect(rows(buf)).toEqual(['stdout:a', 'gap:3 chunks of output not kept', 'stdout:e'])
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
