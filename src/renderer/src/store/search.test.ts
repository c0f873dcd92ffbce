import { describe, expect, it } from 'vitest'
import type { OutputStream } from '../../../shared/contract'
import { ProcessOutput } from './output-buffers'
import { compileQuery, matchesInLine, MAX_MATCHES, Search, type SearchQuery } from './search'

const ALL = { stdout: true, stderr: true }

function buffer(...parts: [string, OutputStream?][]): ProcessOutput {
  const buf = new ProcessOutput()
  for (const [data, stream] of parts)
    buf.apply({ seq: buf.lastSeq + 1, stream: stream ?? 'stdout', data, time: 0 })
  return buf
}

function run(buf: ProcessOutput, q: Partial<SearchQuery>, filter = ALL): Search {
  const re = compileQuery({ text: '', caseSensitive: false, regex: false, ...q })
  if (!(re instanceof RegExp)) throw new Error(String(re))
  const search = new Search(buf, re, filter)
  while (!search.step(1)) {
    // Time-sliced: keep stepping until the end is reached.
  }
  return search
}

/** Matches as `line:start+length`. */
function found(buf: ProcessOutput, s: Search): string[] {
  const out: string[] = []
  for (let i = 0; i < s.count; i++) {
    const m = s.match(i)
    out.push(`${m.key - buf.firstRowKey}:${m.start}+${m.length}`)
  }
  return out
}

describe('Search', () => {
  const buf = buffer(['Error one\nerror two ERROR\n'], ['warn: disk error\n', 'stderr'], ['fine\n'])

  it('finds plain text case-insensitively by default, every match in a line', () => {
    const s = run(buf, { text: 'error' })
    expect(found(buf, s)).toEqual(['0:0+5', '1:0+5', '1:10+5', '2:11+5'])
    expect(s.count).toBe(4)
    expect(s.done).toBe(true)
  })

  it('matches case when asked', () => {
    expect(found(buf, run(buf, { text: 'error', caseSensitive: true }))).toEqual([
      '1:0+5',
      '2:11+5',
    ])
  })

  it('treats the text literally unless regular expression is on', () => {
    const b = buffer(['a.c abc a+c\n'])
    expect(found(b, run(b, { text: 'a.c' }))).toEqual(['0:0+3'])
    expect(found(b, run(b, { text: 'a.c', regex: true }))).toEqual(['0:0+3', '0:4+3', '0:8+3'])
    expect(found(buf, run(buf, { text: '^\\w+$', regex: true }))).toEqual(['3:0+4'])
  })

  it('reports an invalid regular expression instead of throwing', () => {
    expect(typeof compileQuery({ text: '(', caseSensitive: false, regex: true })).toBe('string')
    expect(compileQuery({ text: '', caseSensitive: false, regex: true })).toBeNull()
  })

  it('leaves out lines of a hidden stream', () => {
    expect(found(buf, run(buf, { text: 'error' }, { stdout: false, stderr: true }))).toEqual([
      '2:11+5',
    ])
  })

  it('never reports a match across two lines', () => {
    const b = buffer(['ab\ncd\n'])
    expect(run(b, { text: 'b\\nc', regex: true }).count).toBe(0)
  })

  it('searches output that arrives later, including a line still being written', () => {
    const b = buffer(['x match\npartial ma'])
    const re = compileQuery({ text: 'match', caseSensitive: false, regex: false }) as RegExp
    const s = new Search(b, re, ALL)
    s.step()
    expect(s.count).toBe(1)
    b.apply({ seq: b.lastSeq + 1, stream: 'stdout', data: 'tch\nmatch\n', time: 0 })
    s.step()
    expect(found(b, s)).toEqual(['0:2+5', '1:8+5', '2:0+5'])
  })

  it('forgets matches on lines the buffer dropped', () => {
    const b = new ProcessOutput(3)
    for (let i = 0; i < 3; i++) b.apply({ seq: i, stream: 'stdout', data: `hit ${i}\n`, time: 0 })
    const s = run(b, { text: 'hit' })
    expect(s.count).toBe(3)
    b.apply({ seq: 3, stream: 'stdout', data: 'hit 3\n', time: 0 })
    s.step()
    expect(s.count).toBe(3)
    expect(b.line(s.match(0).key - b.firstRowKey).text).toBe('hit 1')
  })

  it('navigates by position and stops counting at the cap', () => {
    const s = run(buf, { text: 'error' })
    expect(s.indexAtOrAfter(buf.firstRowKey + 1, 1)).toBe(2)
    expect(s.indexAtOrAfter(buf.firstRowKey + 3)).toBe(4)
    const many = buffer([Array.from({ length: MAX_MATCHES + 50 }, () => 'z').join('\n') + '\n'])
    const capped = run(many, { text: 'z' })
    expect(capped.count).toBe(MAX_MATCHES)
    expect(capped.capped).toBe(true)
  })

  it('finds matches in one line for highlighting, skipping empty matches', () => {
    const re = compileQuery({ text: 'o*', caseSensitive: false, regex: true }) as RegExp
    expect(matchesInLine('foo bar oo', re)).toEqual([1, 2, 8, 2])
  })
})
