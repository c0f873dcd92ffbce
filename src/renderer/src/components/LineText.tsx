import { Fragment, type CSSProperties, type ReactNode } from 'react'
import { findLinks, linePieces, styleCss, type Piece } from '../store/line-render'

interface LineTextProps {
  text: string
  /** Style runs `[position, styleId, ...]`. */
  runs: readonly number[]
  /** Search matches `[start, length, ...]`. */
  matches: readonly number[]
  /** Start of the current match in this line, or -1. */
  current: number
}

/** One line's text: ANSI styles as spans, search matches as <mark>, URLs as links. */
export function LineText({ text, runs, matches, current }: LineTextProps) {
  if (runs.length === 0 && matches.length === 0 && !text.includes('http')) return <>{text}</>
  const links = findLinks(text)
  const pieces = linePieces(text.length, runs, matches, current, links)
  const out: ReactNode[] = []
  let i = 0
  while (i < pieces.length) {
    const link = pieces[i].link
    if (link < 0) {
      out.push(renderPiece(text, pieces[i]))
      i++
      continue
    }
    const inner: ReactNode[] = []
    const start = pieces[i].start
    while (i < pieces.length && pieces[i].link === link) inner.push(renderPiece(text, pieces[i++]))
    out.push(
      <a
        key={`l${start}`}
        href={links[link].href}
        target="_blank"
        rel="noopener noreferrer"
        className="row-link"
      >
        {inner}
      </a>,
    )
  }
  return <>{out}</>
}

function renderPiece(text: string, piece: Piece): ReactNode {
  let node: ReactNode = text.slice(piece.start, piece.end)
  if (piece.match) {
    node = (
      <mark
        className={piece.match === 2 ? 'match current' : 'match'}
        data-match-start={piece.start}
      >
        {node}
      </mark>
    )
  }
  if (piece.style !== 0) {
    const css = styleCss(piece.style)
    const style: CSSProperties | undefined =
      css.color || css.background ? { color: css.color, background: css.background } : undefined
    return (
      <span key={piece.start} className={css.className || undefined} style={style}>
        {node}
      </span>
    )
  }
  return <Fragment key={piece.start}>{node}</Fragment>
}
