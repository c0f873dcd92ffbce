/**
 * What one visible line is made of: pieces of text with a style, a search-match flag and a
 * link. Pure, so it is tested without a DOM; the view turns pieces into spans.
 */
import {
  BOLD,
  DEFAULT_COLOR,
  DIM,
  HIDDEN,
  INVERSE,
  ITALIC,
  PLAIN_STYLE,
  STRIKE,
  styleOf,
  UNDERLINE,
  colorHex,
  type AnsiColor,
} from './ansi'

/** Not a match, a match, the current match. */
export type MatchFlag = 0 | 1 | 2

export interface Piece {
  start: number
  end: number
  style: number
  match: MatchFlag
  /** Index into the line's links, or -1. */
  link: number
}

export interface Link {
  start: number
  end: number
  href: string
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`\\]+/g
/** Punctuation that ends a sentence rather than a URL. */
const TRAILING = '.,;:!?\'")]}>'

/** http(s) URLs in a line, without trailing punctuation (a closing bracket stays if opened). */
export function findLinks(text: string): Link[] {
  if (!text.includes('http')) return []
  const out: Link[] = []
  URL_RE.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = URL_RE.exec(text)) !== null) {
    let url = m[0]
    while (url.length > 0) {
      const ch = url[url.length - 1]
      if (!TRAILING.includes(ch)) break
      // Keep a ')' that closes a '(' inside the URL (Wikipedia-style links).
      if (ch === ')' && count(url, '(') >= count(url, ')')) break
      url = url.slice(0, -1)
    }
    if (/^https?:\/\/[^/]/.test(url))
      out.push({ start: m.index, end: m.index + url.length, href: url })
  }
  return out
}

function count(s: string, ch: string): number {
  let n = 0
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) n++
  return n
}

/**
 * Split a line of `length` characters into pieces at every style change (`runs`), match
 * boundary (`matches` = `[start, length, ...]`, `current` = start of the current match or -1)
 * and link boundary.
 */
export function linePieces(
  length: number,
  runs: readonly number[],
  matches: readonly number[],
  current: number,
  links: readonly Link[],
): Piece[] {
  if (length === 0) return []
  const cuts = new Set<number>([0, length])
  for (let i = 0; i < runs.length; i += 2) if (runs[i] < length) cuts.add(runs[i])
  for (let i = 0; i < matches.length; i += 2) {
    cuts.add(Math.min(matches[i], length))
    cuts.add(Math.min(matches[i] + matches[i + 1], length))
  }
  for (const l of links) {
    cuts.add(l.start)
    cuts.add(Math.min(l.end, length))
  }
  const points = [...cuts].sort((a, b) => a - b)
  const out: Piece[] = []
  let ri = 0
  let style = PLAIN_STYLE
  let mi = 0
  let li = 0
  for (let p = 0; p + 1 < points.length; p++) {
    const start = points[p]
    const end = points[p + 1]
    while (ri < runs.length && runs[ri] <= start) {
      style = runs[ri + 1]
      ri += 2
    }
    while (mi < matches.length && matches[mi] + matches[mi + 1] <= start) mi += 2
    const inMatch = mi < matches.length && matches[mi] <= start
    const match: MatchFlag = !inMatch ? 0 : matches[mi] === current ? 2 : 1
    while (li < links.length && links[li].end <= start) li++
    const link = li < links.length && links[li].start <= start ? li : -1
    const last = out[out.length - 1]
    if (last && last.style === style && last.match === match && last.link === link) last.end = end
    else out.push({ start, end, style, match, link })
  }
  return out
}

/** CSS for an interned style: classes for the flags and inline colours. */
export interface StyleCss {
  className: string
  color?: string
  background?: string
}

const cssCache: (StyleCss | undefined)[] = []

function cssColor(c: AnsiColor): string {
  return c < 16 ? `var(--ansi-${c})` : colorHex(c)
}

/** The CSS of style `id`, cached (the same object every time, for cheap re-renders). */
export function styleCss(id: number): StyleCss {
  let css = cssCache[id]
  if (css) return css
  const { fg, bg, flags } = styleOf(id)
  const classes: string[] = []
  if (flags & BOLD) classes.push('ansi-b')
  if (flags & DIM) classes.push('ansi-d')
  if (flags & ITALIC) classes.push('ansi-i')
  if (flags & UNDERLINE) classes.push('ansi-u')
  if (flags & STRIKE) classes.push('ansi-s')
  if (flags & HIDDEN) classes.push('ansi-h')
  let color = fg === DEFAULT_COLOR ? undefined : cssColor(fg)
  let background = bg === DEFAULT_COLOR ? undefined : cssColor(bg)
  if (flags & INVERSE) {
    const f = color
    color = background ?? 'var(--bg-log)'
    background = f ?? 'var(--text)'
  }
  css = { className: classes.join(' '), color, background }
  cssCache[id] = css
  return css
}

/** Local time of day with milliseconds, for the timestamp gutter. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms)
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`
}
