import { describe, expect, it } from 'vitest'
import type { OutputChunk } from '../../../shared/contract'
import { ProcessOutput } from './output-buffers'
import { exportBuffer, exportChunks, exportFileName } from './output-export'

const CHUNKS: OutputChunk[] = [
  { seq: 3, stream: 'stdout', data: 'plain \x1b[31mred', time: 1000 },
  { seq: 4, stream: 'stderr', data: 'oops\n', time: 1001 },
  { seq: 5, stream: 'stdout', data: '\x1b[0m\n"quoted"\n', time: 1002 },
]

describe('exportChunks (a run read from disk)', () => {
  /** A log holds Corral's own lines too. */
  const LOGGED: OutputChunk[] = [
    { seq: 2, stream: 'system', data: '▶ started x (pid 9)\n', time: 999 },
    ...CHUNKS,
    { seq: 6, stream: 'stdin', data: 'typed\n', time: 1002.5 },
    { seq: 7, stream: 'system', data: '■ exited with code 0\n', time: 1003 },
  ]

  it("writes plain text with escapes removed, per stream, without Corral's lines or what was typed", () => {
    expect(exportChunks(LOGGED, 'text').join('')).toBe('plain redoops\n\n"quoted"\n')
  })

  it("writes the text as it was, escapes included, without Corral's lines or what was typed", () => {
    expect(exportChunks(LOGGED, 'ansi').join('')).toBe('plain \x1b[31mredoops\n\x1b[0m\n"quoted"\n')
  })

  it("writes one JSON object per chunk with seq, stream, time and text, Corral's lines and what was typed too", () => {
    const lines = exportChunks(LOGGED, 'jsonl').join('').trimEnd().split('\n')
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { seq: 2, stream: 'system', time: 999, text: '▶ started x (pid 9)\n' },
      { seq: 3, stream: 'stdout', time: 1000, text: 'plain \x1b[31mred' },
      { seq: 4, stream: 'stderr', time: 1001, text: 'oops\n' },
      { seq: 5, stream: 'stdout', time: 1002, text: '\x1b[0m\n"quoted"\n' },
      { seq: 6, stream: 'stdin', time: 1002.5, text: 'typed\n' },
      { seq: 7, stream: 'system', time: 1003, text: '■ exited with code 0\n' },
    ])
  })

  it('merges many chunks into few parts', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      seq: i,
      stream: 'stdout' as const,
      data: `${i}\n`,
      time: 0,
    }))
    const parts = exportChunks(many, 'text')
    expect(parts.length).toBe(1)
    expect(parts[0].split('\n').length).toBe(10_001)
  })
})

describe('exportBuffer (what the view holds)', () => {
  const buf = new ProcessOutput()
  for (const c of CHUNKS) buf.apply(c)

  it('writes each line once, as shown', () => {
    expect(exportBuffer(buf, 'text').join('')).toBe('plain red\noops\n\n"quoted"\n')
  })

  it('rebuilds ANSI from the kept styles', () => {
    expect(exportBuffer(buf, 'ansi').join('')).toBe(
      'plain \x1b[0;31mred\x1b[0m\noops\n\n"quoted"\n',
    )
  })

  it('writes JSON lines with stream and time per line, and markers for skipped output', () => {
    const b = new ProcessOutput()
    b.applySnapshot({
      id: 'p',
      firstSeq: 2,
      droppedChars: 20,
      chunks: [{ seq: 2, stream: 'stderr', data: 'late\n', time: 7 }],
    })
    const lines = exportBuffer(b, 'jsonl')
      .join('')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown)
    expect(lines).toEqual([
      { marker: '20 bytes of earlier output not shown' },
      { line: b.lineKey(1), stream: 'stderr', time: 7, text: 'late' },
    ])
  })
})

describe('exportFileName', () => {
  it('makes a safe name with the run number and extension', () => {
    expect(exportFileName('my server', 3, 'text')).toBe('my_server-run3.log')
    expect(exportFileName('../x', null, 'jsonl')).toBe('x.jsonl')
    expect(exportFileName('', 1, 'ansi')).toBe('output-run1.ansi.log')
  })
})
