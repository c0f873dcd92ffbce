import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
  type ClipboardEvent,
  type KeyboardEvent,
  type ReactNode,
} from 'react'
import type { ProcessId } from '../../../shared/contract'
import { errorMessage, getBridge } from '../bridge'
import { downloadParts } from '../lib/download'
import { useApp } from '../store/app-store'
import { formatTimestamp } from '../store/line-render'
import {
  KIND_NAMES,
  gapText,
  outputBuffers,
  type GapMarker,
  type ProcessOutput,
} from '../store/output-buffers'
import {
  EXPORT_FORMATS,
  exportBuffer,
  exportChunks,
  exportFileName,
  type ExportFormat,
} from '../store/output-export'
import type { CutInfo } from '../store/line-store'
import { loadGap, readFullLine } from '../store/range-loader'
import { RowIndex, TOP_MARKER_KEY, type StreamFilter } from '../store/row-index'
import { RowSlots } from '../store/row-slots'
import {
  isScaled,
  maxPositionFixed,
  maxPositionMeasured,
  movePosition,
  positionFor,
  scrollTopFor,
  spacerHeight,
  wrappedSpacerHeight,
} from '../store/scroll-math'
import { compileQuery, matchesInLine, Search, type SearchQuery } from '../store/search'
import { FullLineDialog, type FullLine } from './FullLineDialog'
import { LineText } from './LineText'
import { OutputToolbar, type SearchStatus } from './OutputToolbar'

/** Must match `--row-height` in styles.css: unwrapped rows are exactly this tall. */
export const ROW_HEIGHT_PX = 18
/** Rows rendered beyond each edge of the viewport so fast scrolling shows no blank band. */
const OVERSCAN_ROWS = 8
/** Never render more rows than this, whatever the viewport (a guard for huge windows). */
const MAX_RENDERED_ROWS = 400
/** How close to the bottom still counts as "at the bottom" (fractional scroll positions). */
const BOTTOM_SLACK_PX = ROW_HEIGHT_PX / 2
/** The largest export read back from disk (the host's limit for one read). */
const EXPORT_LIMIT_BYTES = 256 * 1024 * 1024
/** Measured heights of wrapped rows kept before the cache starts over. */
const MAX_CACHED_HEIGHTS = 50_000
/**
 * Time one step of a search takes. A step can run in the frame that shows new output, next to
 * the time spent applying it (sync.ts), so both together stay well inside a frame.
 */
const SEARCH_STEP_MS = 4

interface OutputViewProps {
  id: ProcessId
  /** A fixed buffer to show instead of the live one (a past run read back from disk). */
  buffer?: ProcessOutput
  label?: string
  emptyText?: string
}

/** Where the view is: the row at the top (by stable key), how far into it, and following. */
interface Position {
  key: number
  frac: number
  following: boolean
}

/** The latest geometry, for event handlers that run between renders. */
interface Geometry {
  rows: number
  p: number
  maxP: number
  spacer: number
  viewPx: number
  intercept: boolean
  height: (row: number) => number
}

const ALL_STREAMS: StreamFilter = { stdout: true, stderr: true }

/**
 * A process's output: toolbar (search, filters, export, clear) and the virtualised log. Only
 * the rows in view are in the DOM and every per-frame cost is proportional to them, so ten
 * million kept lines scroll like ten. Past the browser's element-height limit the scrollbar
 * is scaled (see scroll-math.ts) and wheel and keys move by exact pixels.
 */
export function OutputView({
  id,
  buffer: fixed,
  label = 'Output',
  emptyText = 'No output yet.',
}: OutputViewProps) {
  // The revision is what makes this component re-read the (mutable) live buffer; a fixed
  // buffer never changes, so it does not follow the revision.
  const revision = useApp((s) => (fixed ? 0 : (s.revision[id] ?? 0)))
  const name = useApp((s) => s.processes[id]?.name ?? id)
  const runId = useApp((s) => (fixed ? null : (s.processes[id]?.runId ?? null)))
  const buffer = fixed ?? outputBuffers.get(id)
  const [tick, bump] = useReducer((n: number) => n + 1, 0)

  const [filter, setFilter] = useState<StreamFilter>(ALL_STREAMS)
  const [timestamps, setTimestamps] = useState(false)
  const [wrap, setWrap] = useState(false)
  const [query, setQuery] = useState<SearchQuery>({ text: '', caseSensitive: false, regex: false })
  const [current, setCurrent] = useState<{ key: number; start: number } | null>(null)
  const [exporting, setExporting] = useState(false)
  const [fullLine, setFullLine] = useState<FullLine | null>(null)
  const [pos, setPos] = useState<Position>({ key: TOP_MARKER_KEY, frac: 0, following: true })
  const [viewPx, setViewPx] = useState(0)
  const [viewWidth, setViewWidth] = useState(0)

  const scrollRef = useRef<HTMLDivElement>(null)
  const rowsRef = useRef<HTMLDivElement>(null)
  const searchRef = useRef<HTMLInputElement>(null)
  const lastScrollTopRef = useRef(-1)
  const rowIndexRef = useRef<RowIndex | null>(null)
  rowIndexRef.current ??= new RowIndex()
  const rowIndex = rowIndexRef.current
  const heightsRef = useRef(new Map<number, number>())
  const searchObjRef = useRef<Search | null>(null)
  const revealRef = useRef(false)
  const rowSlotsRef = useRef<RowSlots | null>(null)
  rowSlotsRef.current ??= new RowSlots()
  const rowSlots = rowSlotsRef.current

  // ---------------------------------------------------------------- rows and geometry

  rowIndex.sync(buffer, filter)
  const rows = rowIndex.count
  const heights = heightsRef.current
  const height = (v: number): number =>
    wrap ? (heights.get(rowIndex.keyAt(v)) ?? ROW_HEIGHT_PX) : ROW_HEIGHT_PX
  const scaled = isScaled(rows, ROW_HEIGHT_PX)
  const maxP = wrap
    ? maxPositionMeasured(rows, viewPx, height)
    : maxPositionFixed(rows, ROW_HEIGHT_PX, viewPx)
  const p = pos.following ? maxP : Math.min(maxP, rowIndex.viewRowOf(pos.key) + pos.frac)
  const anchor = Math.max(0, Math.min(Math.floor(p), rows - 1))
  const anchorOffset = rows === 0 ? 0 : (p - anchor) * height(anchor)
  const first = Math.max(0, anchor - OVERSCAN_ROWS)
  let last = anchor
  for (
    let acc = -anchorOffset;
    last < rows && acc < viewPx && last - first < MAX_RENDERED_ROWS;
    last++
  )
    acc += height(last)
  last = Math.min(rows, last + OVERSCAN_ROWS)
  const spacer = wrap
    ? wrappedSpacerHeight(rows, ROW_HEIGHT_PX, height)
    : spacerHeight(rows, ROW_HEIGHT_PX)
  const desiredTop = scrollTopFor(p, maxP, spacer, viewPx)

  const geoRef = useRef<Geometry | null>(null)
  geoRef.current = { rows, p, maxP, spacer, viewPx, intercept: scaled || wrap, height }

  /** Move to position `np` (in view rows). */
  const goTo = useCallback(
    (np: number, following: boolean): void => {
      const geo = geoRef.current
      if (!geo || geo.rows === 0) return
      const clamped = Math.max(0, Math.min(np, geo.maxP))
      const row = Math.min(Math.floor(clamped), geo.rows - 1)
      setPos({ key: rowIndex.keyAt(row), frac: clamped - row, following })
    },
    [rowIndex],
  )

  // ---------------------------------------------------------------- search

  const compiled = useMemo(() => compileQuery(query), [query])
  let search = searchObjRef.current
  if (!(compiled instanceof RegExp)) search = null
  else if (
    !search ||
    search.buffer !== buffer ||
    search.re !== compiled ||
    search.filter !== filter ||
    search.structure !== buffer.structure
  ) {
    search = new Search(buffer, compiled, filter)
  }
  searchObjRef.current = search

  useEffect(() => {
    if (!search) return
    const before = search.count
    const wasDone = search.done
    const finished = search.step(SEARCH_STEP_MS)
    if (!finished) {
      const timer = setTimeout(bump, 0)
      return () => clearTimeout(timer)
    }
    if (search.count !== before || search.done !== wasDone) bump()
  }, [search, revision, tick])

  // A new query starts at the first match from the top of the view.
  useEffect(() => setCurrent(null), [compiled, filter])

  const matchCount = search?.count ?? 0
  let currentIndex = -1
  if (search && current) {
    const i = search.indexAtOrAfter(current.key, current.start)
    if (i < matchCount) {
      const m = search.match(i)
      if (m.key === current.key && m.start === current.start) currentIndex = i
    }
  }

  const reveal = useCallback(
    (key: number): void => {
      const geo = geoRef.current
      if (!geo) return
      const v = rowIndex.viewRowOf(key)
      const visibleRows = Math.max(1, Math.floor(geo.viewPx / ROW_HEIGHT_PX))
      if (v >= geo.p && v + 1 <= geo.p + visibleRows) return
      const np = Math.max(0, v - Math.floor(visibleRows / 2))
      goTo(np, np >= geo.maxP)
    },
    [goTo, rowIndex],
  )

  const selectMatch = (i: number): void => {
    if (!search || matchCount === 0) return
    const m = search.match(((i % matchCount) + matchCount) % matchCount)
    setCurrent({ key: m.key, start: m.start })
    revealRef.current = true
    reveal(m.key)
  }

  // Pick the first match at or after the top of the view once there is one.
  useEffect(() => {
    if (!search || current || matchCount === 0) return
    const topKey = rowIndex.keyAt(Math.min(anchor, Math.max(0, rows - 1)))
    let i = search.indexAtOrAfter(topKey === TOP_MARKER_KEY ? buffer.firstRowKey : topKey)
    if (i >= matchCount) {
      if (!search.done) return
      i = matchCount - 1
    }
    const m = search.match(i)
    setCurrent({ key: m.key, start: m.start })
    revealRef.current = true
    reveal(m.key)
  }, [search, current, matchCount, anchor, rows, rowIndex, buffer, reveal, tick])

  const next = (): void => selectMatch(currentIndex < 0 ? 0 : currentIndex + 1)
  const previous = (): void => selectMatch(currentIndex < 0 ? matchCount - 1 : currentIndex - 1)

  const status: SearchStatus = {
    current: currentIndex + 1,
    count: matchCount,
    capped: search?.capped ?? false,
    searching: search !== null && !search.done,
    error: typeof compiled === 'string' ? compiled : null,
  }

  // ---------------------------------------------------------------- layout and scrolling

  // Measured before the first paint: a view mounted with no height would show only the few
  // rows its overscan allows until the observer reported.
  useLayoutEffect(() => {
    const el = scrollRef.current
    if (!el) return
    const observer = new ResizeObserver(() => {
      setViewPx(el.clientHeight)
      setViewWidth(el.clientWidth)
    })
    observer.observe(el)
    setViewPx(el.clientHeight)
    setViewWidth(el.clientWidth)
    return () => observer.disconnect()
  }, [])

  // Wrapped heights depend on the width and on what the row shows.
  useEffect(() => {
    heightsRef.current.clear()
  }, [viewWidth, wrap, timestamps, buffer.structure])

  useLayoutEffect(() => {
    const el = scrollRef.current
    if (!el) return
    if (Math.abs(el.scrollTop - desiredTop) >= 1) el.scrollTop = desiredTop
    lastScrollTopRef.current = el.scrollTop
    const rowsEl = rowsRef.current
    if (!rowsEl) return
    // Place the anchor row exactly: its top is `anchorOffset` above the viewport's top.
    const anchorEl = rowsEl.children[anchor - first] as HTMLElement | undefined
    const y = el.scrollTop - anchorOffset - (anchorEl ? anchorEl.offsetTop : 0)
    rowsEl.style.transform = `translateY(${y}px)`
    if (wrap) {
      let changed = false
      const cache = heightsRef.current
      if (cache.size > MAX_CACHED_HEIGHTS) cache.clear()
      for (const child of rowsEl.children) {
        const key = Number((child as HTMLElement).dataset.key)
        const h = (child as HTMLElement).offsetHeight
        if (h > 0 && cache.get(key) !== h) {
          cache.set(key, h)
          changed = true
        }
      }
      // Re-lay out with real heights before paint (converges: heights are now cached).
      if (changed) bump()
    }
    if (revealRef.current) {
      revealRef.current = false
      const mark = rowsEl.querySelector<HTMLElement>('mark.current')
      if (mark) {
        const box = el.getBoundingClientRect()
        const r = mark.getBoundingClientRect()
        if (r.left < box.left || r.right > box.right)
          el.scrollLeft += r.left - box.left - box.width / 3
      }
    }
  })

  const onScroll = (): void => {
    const el = scrollRef.current
    const geo = geoRef.current
    if (!el || !geo) return
    // Our own writes (and horizontal scrolling) leave scrollTop where it was put.
    if (Math.abs(el.scrollTop - lastScrollTopRef.current) < 1) return
    lastScrollTopRef.current = el.scrollTop
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX
    goTo(
      atBottom ? geo.maxP : positionFor(el.scrollTop, geo.maxP, geo.spacer, geo.viewPx),
      atBottom,
    )
  }

  /** Scroll by pixels through rows (scaled or wrapped views, where native scrolling is not exact). */
  const scrollByPx = useCallback(
    (dy: number): void => {
      const geo = geoRef.current
      if (!geo || geo.rows === 0) return
      const np = movePosition(geo.p, dy, geo.rows, geo.maxP, geo.height)
      goTo(np, np >= geo.maxP - 1e-6)
    },
    [goTo],
  )

  useEffect(() => {
    const el = scrollRef.current
    if (!el) return
    const onWheel = (e: WheelEvent): void => {
      const geo = geoRef.current
      if (!geo?.intercept || e.ctrlKey) return
      const unit = e.deltaMode === 1 ? ROW_HEIGHT_PX : e.deltaMode === 2 ? geo.viewPx : 1
      let dy = e.deltaY * unit
      let dx = e.deltaX * unit
      if (e.shiftKey && dx === 0) {
        dx = dy
        dy = 0
      }
      if (dy === 0) return
      e.preventDefault()
      if (dx !== 0) el.scrollLeft += dx
      scrollByPx(dy)
    }
    el.addEventListener('wheel', onWheel, { passive: false })
    return () => el.removeEventListener('wheel', onWheel)
  }, [scrollByPx])

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const geo = geoRef.current
    if (!geo?.intercept || e.target !== e.currentTarget || e.altKey || e.metaKey || e.ctrlKey)
      return
    const page = Math.max(ROW_HEIGHT_PX, geo.viewPx - ROW_HEIGHT_PX)
    const moves: Record<string, number> = {
      ArrowDown: ROW_HEIGHT_PX * 2,
      ArrowUp: -ROW_HEIGHT_PX * 2,
      PageDown: page,
      PageUp: -page,
      ' ': e.shiftKey ? -page : page,
    }
    if (e.key === 'Home') goTo(0, false)
    else if (e.key === 'End') goTo(geo.maxP, true)
    else if (e.key in moves) scrollByPx(moves[e.key])
    else return
    e.preventDefault()
  }

  const jumpToLatest = (): void => {
    setPos((prev) => ({ ...prev, following: true }))
    scrollRef.current?.focus()
  }

  // ---------------------------------------------------------------- actions

  const onClear = (): void => {
    buffer.clear()
    setCurrent(null)
    setPos({ key: TOP_MARKER_KEY, frac: 0, following: true })
    bump()
  }

  const onLoadGap = (gap: GapMarker): void => {
    if (gap.loading) return
    const done = loadGap(getBridge(), id, buffer, gap)
    bump()
    void done.then(bump)
  }

  const onShowAll = (line: {
    kind: number
    prefix: string
    firstSeq: number
    lastSeq: number
  }): void => {
    setFullLine({ text: null, note: null })
    readFullLine(getBridge(), id, line)
      .then((text) =>
        setFullLine(
          text === null
            ? {
                text: line.prefix,
                note: 'The run log no longer has this line; this is the part kept in memory.',
              }
            : { text, note: null },
        ),
      )
      .catch((err: unknown) =>
        setFullLine({
          text: line.prefix,
          note: `Could not read the full line (${errorMessage(err)}); this is the part kept in memory.`,
        }),
      )
  }

  const onExport = (format: ExportFormat): void => {
    setExporting(true)
    const fromDisk = runId
      ? getBridge()
          .runOutput(id, runId, { limitBytes: EXPORT_LIMIT_BYTES })
          .then((out) => ({ parts: exportChunks(out.chunks, format), run: out.run.number }))
      : Promise.reject(new Error('no run log'))
    fromDisk
      .catch(() => ({ parts: exportBuffer(buffer, format), run: null }))
      .then(({ parts, run }) =>
        downloadParts(parts, exportFileName(name, run, format), EXPORT_FORMATS[format].mime),
      )
      .finally(() => setExporting(false))
  }

  /** Copy the selection as plain text: no timestamps, buttons or other gutter content. */
  const onCopy = (e: ClipboardEvent<HTMLDivElement>): void => {
    const selection = window.getSelection()
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return
    const fragment = selection.getRangeAt(0).cloneContents()
    for (const el of fragment.querySelectorAll('[data-nocopy]')) el.remove()
    const rowEls = fragment.querySelectorAll('.row')
    const text =
      rowEls.length === 0
        ? (fragment.textContent ?? '')
        : [...rowEls].map((r) => r.textContent ?? '').join('\n')
    e.clipboardData.setData('text/plain', text)
    e.preventDefault()
  }

  const onRootKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'f') {
      e.preventDefault()
      searchRef.current?.focus()
      searchRef.current?.select()
    }
  }

  // ---------------------------------------------------------------- rows

  const re = compiled instanceof RegExp ? compiled : null
  // Output rows (not gap markers, not cut lines with their button) are keyed by recycled slot,
  // so that new lines reuse the elements of lines that left (see RowSlots).
  type Shown = {
    key: number
    ref: ReturnType<typeof buffer.locate> | null
    cut: CutInfo | undefined
  }
  const shown: Shown[] = []
  const plainKeys: number[] = []
  for (let v = first; v < last; v++) {
    const key = rowIndex.keyAt(v)
    const ref = key === TOP_MARKER_KEY ? null : buffer.locate(key - buffer.firstRowKey)
    const cut = ref && !ref.gap ? ref.store.cutInfo(ref.index) : undefined
    if (ref && !ref.gap && !cut) plainKeys.push(key)
    shown.push({ key, ref, cut })
  }
  const slots = rowSlots.assign(plainKeys)
  let plain = 0
  const rowEls: ReactNode[] = []
  for (const { key, ref, cut } of shown) {
    if (!ref) {
      rowEls.push(
        <div key="top" data-key={key} className="row row-gap">
          {buffer.topMarkerText()}
        </div>,
      )
      continue
    }
    if (ref.gap) {
      const gap = ref.gap
      rowEls.push(
        <div key={key} data-key={key} className="row row-gap" data-stream="gap">
          {gapText(gap)}
          {gap.error && <span className="row-gap-error"> — could not load: {gap.error}</span>}
          <span data-nocopy="">
            {' — '}
            <button
              type="button"
              className="row-button"
              disabled={gap.loading}
              onClick={() => onLoadGap(gap)}
              title="Read this output back from the run's log on disk"
            >
              {gap.loading ? 'Loading…' : 'Load'}
            </button>
          </span>
        </div>,
      )
      continue
    }
    const { store, index } = ref
    const kind = KIND_NAMES[store.kind(index)]
    const text = store.text(index)
    const matches = re ? matchesInLine(text, re) : []
    const currentStart = current && current.key === key ? current.start : -1
    const reactKey = cut ? key : `s${slots[plain++]}`
    rowEls.push(
      <div key={reactKey} data-key={key} className={`row row-${kind}`} data-stream={kind}>
        {timestamps && (
          <span className="row-time" data-nocopy="" aria-hidden="true">
            {formatTimestamp(store.time(index))}
          </span>
        )}
        <span className="row-text">
          {kind === 'stdin' && (
            <span className="row-typed" data-nocopy="" title="Typed into standard input">
              ›{' '}
            </span>
          )}
          <LineText text={text} runs={store.runs(index)} matches={matches} current={currentStart} />
          {cut && (
            <span className="row-cut" data-nocopy="">
              {' '}
              … line truncated, {cut.cut.toLocaleString('en-US')} more characters —{' '}
              <button
                type="button"
                className="row-button"
                onClick={() =>
                  onShowAll({
                    kind: store.kind(index),
                    prefix: text,
                    firstSeq: cut.firstSeq,
                    lastSeq: cut.lastSeq,
                  })
                }
              >
                Show all
              </button>
            </span>
          )}
        </span>
      </div>,
    )
  }

  const hiddenByFilter = rows === 0 && buffer.rowCount > 0
  const viewClass = `output-scroll${wrap ? ' is-wrapped' : ''}${timestamps ? ' has-times' : ''}`

  return (
    <div className="output" onKeyDown={onRootKeyDown}>
      <OutputToolbar
        query={query}
        onQuery={setQuery}
        status={status}
        onNext={next}
        onPrevious={previous}
        filter={filter}
        onFilter={setFilter}
        timestamps={timestamps}
        onTimestamps={setTimestamps}
        wrap={wrap}
        onWrap={setWrap}
        onExport={onExport}
        exporting={exporting}
        onClear={onClear}
        searchRef={searchRef}
      />
      <div className="output-body">
        <div
          ref={scrollRef}
          className={viewClass}
          role="log"
          aria-label={label}
          tabIndex={0}
          onScroll={onScroll}
          onKeyDown={onKeyDown}
          onCopy={onCopy}
        >
          {rows === 0 ? (
            <p className="output-empty">
              {hiddenByFilter ? 'Every line is hidden by the stream filters.' : emptyText}
            </p>
          ) : (
            <div
              className="output-spacer"
              style={{
                height: spacer,
                minWidth: wrap
                  ? undefined
                  : `calc(${buffer.maxLineChars}ch + 2 * var(--log-pad-x) + var(--gutter-width))`,
              }}
            >
              <div ref={rowsRef} className="output-rows">
                {rowEls}
              </div>
            </div>
          )}
        </div>
        {!pos.following && rows > 0 && (
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
      {fullLine && <FullLineDialog line={fullLine} onClose={() => setFullLine(null)} />}
    </div>
  )
}
