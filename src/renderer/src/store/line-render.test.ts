import { describe, expect, it } from 'vitest'
import { createAnsiState, parseAnsi } from './ansi'
import { findLinks, formatTimestamp, linePieces, styleCss } from './line-render'

describe('findLinks', () => {
  it('finds http and https URLs without trailing punctuation', () => {
    const text = 'see https://example.com/a?b=1, and (http://x.org/wiki/A_(b)). also ftp://no'
    expect(findLinks(text).map((l) => l.href)).toEqual([
      'https://example.com/a?b=1',
      'http://x.org/wiki/A_(b)',
    ])
    const [first] = findLinks(text)
    expect(text.slice(first.start, first.end)).toBe('https://example.com/a?b=1')
  })

  it('ends a URL at a backslash (a printf escape in a command line, not part of the address)', () => {
    expect(findLinks(`printf 'ready on http://localhost:3000\\n'`).map((l) => l.href)).toEqual([
      'http://localhost:3000',
    ])
  })

  it('ignores a bare scheme', () => {
    expect(findLinks('http:// nothing')).toEqual([])
  })
})

describe('linePieces', () => {
  it('splits at style changes, matches and links, merging equal neighbours', () => {
    const state = createAnsiState()
    const { changes } = parseAnsi('ab\x1b[31mcdef\x1b[0mgh', state)
    const runs = changes ?? []
    const pieces = linePieces(8, runs, [1, 2], 1, [{ start: 5, end: 8, href: 'h' }])
    expect(pieces.map((p) => [p.start, p.end, p.style === 0 ? 0 : 1, p.match, p.link])).toEqual([
      [0, 1, 0, 0, -1],
      [1, 2, 0, 2, -1],
      [2, 3, 1, 2, -1],
      [3, 5, 1, 0, -1],
      [5, 6, 1, 0, 0],
      [6, 8, 0, 0, 0],
    ])
  })

  it('is one plain piece for a plain line', () => {
    expect(linePieces(5, [], [], -1, [])).toEqual([
      { start: 0, end: 5, style: 0, match: 0, link: -1 },
    ])
  })
})

describe('styleCss', () => {
  it('uses theme variables for the 16 colours, hex otherwise, and swaps for inverse', () => {
    const state = createAnsiState()
    parseAnsi('\x1b[1;31;48;5;196m', state)
    expect(styleCss(state.style)).toEqual({
      className: 'ansi-b',
      color: 'var(--ansi-1)',
      background: '#ff0000',
    })
    parseAnsi('\x1b[0;7;4m', state)
    expect(styleCss(state.style)).toEqual({
      className: 'ansi-u',
      color: 'var(--bg-log)',
      background: 'var(--text)',
    })
  })
})

describe('formatTimestamp', () => {
  it('shows local time with milliseconds', () => {
    const d = new Date(2024, 0, 2, 3, 4, 5, 67)
    expect(formatTimestamp(d.getTime())).toBe('03:04:05.067')
  })
})
