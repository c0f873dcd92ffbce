import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react'
import type { ProcessId } from '../../../shared/contract'
import { useApp } from '../store/app-store'
import { outputBuffers } from '../store/output-buffers'

/** Must match `--row-height` in styles.css: virtualisation relies on every row being this tall. */
export const ROW_HEIGHT_PX = 18
/** Rows rendered beyond each edge of the viewport so fast scrolling shows no blank band. */
const OVERSCAN_ROWS = 12
/** How close to the bottom still counts as "at the bottom" (fractional scroll positions). */
const BOTTOM_SLACK_PX = ROW_HEIGHT_PX / 2

/**
 * The selected process's output, virtualised: only the rows in view are in the DOM, so the
 * cost of a frame does not grow with the length of the history.
 */
export function OutputView({ id }: { id: ProcessId }) {
  // The revision is what makes this component re-read the (mutable) buffer.
  const revision = useApp((s) => s.revision[id] ?? 0)
  const buffer = outputBuffers.get(id)
  const scrollRef = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [viewHeight, setViewHeight] = useState(0)
  const [following, setFollowing] = useState(true)
  /** Row index of the oldest kept line last render, to keep the view still as lines drop. */
  const rowOffsetRef = useRef(0)

  const rowCount = buffer.rowCount
  const marker = buffer.hasTopMarker ? 1 : 0
  const totalHeight = rowCount * ROW_HEIGHT_PX
  // While following, lay out for the bottom now rather than after the scroll event lands.
  const top = following ? Math.max(0, totalHeight - viewHeight) : scrollTop
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT_PX) - OVERSCAN_ROWS)
  const last = Math.min(rowCount, Math.ceil((top + viewHeight) / ROW_HEIGHT_PX) + OVERSCAN_ROWS)

  useEffect(() => {
    const el = scrollRef.current
    if (!el) return
    const observer = new ResizeObserver(() => setViewHeight(el.clientHeight))
    observer.observe(el)
    setViewHeight(el.clientHeight)
    return () => observer.disconnect()
  }, [])

  useLayoutEffect(() => {
    const el = scrollRef.current
    if (!el) return
    const rowOffset = buffer.droppedLines - marker
    const shift = rowOffset - rowOffsetRef.current
    rowOffsetRef.current = rowOffset
    if (following) el.scrollTop = el.scrollHeight
    else if (shift > 0) el.scrollTop = Math.max(0, el.scrollTop - shift * ROW_HEIGHT_PX)
  }, [revision, following, viewHeight, buffer, marker])

  const onScroll = (): void => {
    const el = scrollRef.current
    if (!el) return
    setScrollTop(el.scrollTop)
    setFollowing(el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX)
  }

  const jumpToLatest = (): void => {
    setFollowing(true)
    scrollRef.current?.focus()
  }

  const rows: ReactNode[] = []
  for (let row = first; row < last; row++) {
    if (row < marker) {
      rows.push(
        <div key="top-marker" className="row row-gap">
          {buffer.topMarkerText()}
        </div>,
      )
      continue
    }
    const index = row - marker
    const line = buffer.line(index)
    rows.push(
      <div key={buffer.lineKey(index)} className={`row row-${line.kind}`} data-stream={line.kind}>
        {line.text}
        {line.cut > 0 && (
          <span className="row-cut">
            {' '}
            … {line.cut.toLocaleString('en-US')} more characters not shown
          </span>
        )}
      </div>,
    )
  }

  return (
    <div className="output">
      <div
        ref={scrollRef}
        className="output-scroll"
        role="log"
        aria-label="Output"
        tabIndex={0}
        onScroll={onScroll}
      >
        {rowCount === 0 ? (
          <p className="output-empty">No output yet.</p>
        ) : (
          <div
            className="output-spacer"
            style={{
              height: totalHeight,
              minWidth: `calc(${buffer.maxLineChars}ch + 2 * var(--log-pad-x))`,
            }}
          >
            <div
              className="output-rows"
              style={{ transform: `translateY(${first * ROW_HEIGHT_PX}px)` }}
            >
              {rows}
            </div>
          </div>
        )}
      </div>
      {!following && rowCount > 0 && (
        <button
          type="button"
          className="button jump"
          onClick={jumpToLatest}
          title="Scroll to the newest output and follow it"
        >
          Jump to latest ↓
        </button>
      )}
    </div>
  )
}
