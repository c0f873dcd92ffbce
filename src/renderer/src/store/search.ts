/**
 * Search over every kept line. The text is scanned block by block (large strings, one regex
 * pass each), not line by line and never through the DOM, in time slices so a huge buffer
 * does not freeze the page; matches are kept in typed arrays and capped. New output is
 * searched as it arrives: only the rows added since the last pass (plus the last line, which
 * may still grow or be redrawn).
 */
import { KIND_STDERR, KIND_STDOUT, type LineStore } from './line-store'
import type { ProcessOutput } from './output-buffers'
import type { StreamFilter } from './row-index'

/** What to look for. */
export interface SearchQuery {
  text: string
  caseSensitive: boolean
  regex: boolean
}

/** Matches counted before the search stops looking. */
export const MAX_MATCHES = 100_000

/** The pattern for a query, or an error message for an invalid regular expression. */
export function compileQuery(q: SearchQuery): RegExp | string | null {
  if (q.text === '') return null
  const source = q.regex ? q.text : q.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  try {
    return new RegExp(source, q.caseSensitive ? 'gm' : 'gim')
  } catch (err) {
    return err instanceof Error
      ? err.message.replace(/^Invalid regular expression: /, '')
      : 'Invalid pattern'
  }
}

/** Matches of `re` in one line: `[start, length, start, length, ...]`; empty matches skipped. */
export function matchesInLine(text: string, re: RegExp, limit = 1000): number[] {
  const out: number[] = []
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null && out.length < limit * 2) {
    if (m[0].length === 0) {
      re.lastIndex = m.index + 1
      continue
    }
    out.push(m.index, m[0].length)
  }
  return out
}

/** One search over one buffer; create a new one when the query, filter or rows change. */
export class Search {
  private keys = new Float64Array(256)
  private starts = new Uint32Array(256)
  private lens = new Uint32Array(256)
  private n = 0
  /** Row key to resume from. */
  private resumeKey: number
  /** The whole buffer has been searched once. */
  done = false
  /** Stopped at {@link MAX_MATCHES}. */
  capped = false
  readonly structure: number

  constructor(
    readonly buffer: ProcessOutput,
    readonly re: RegExp,
    readonly filter: StreamFilter,
  ) {
    this.resumeKey = buffer.firstRowKey
    this.structure = buffer.structure
  }

  /** Matches still kept by the buffer. */
  get count(): number {
    return this.n - this.firstLive()
  }

  /** Index of the first match whose row is still kept. */
  private firstLive(): number {
    return this.lowerBound(this.buffer.firstRowKey, 0)
  }

  /** Row key, start and length of match `i` (0 = oldest kept). */
  match(i: number): { key: number; start: number; length: number } {
    const k = this.firstLive() + i
    return { key: this.keys[k], start: this.starts[k], length: this.lens[k] }
  }

  /** Index of the first match at or after (`key`, `start`), or {@link count} if none. */
  indexAtOrAfter(key: number, start = 0): number {
    return this.lowerBound(key, start) - this.firstLive()
  }

  private lowerBound(key: number, start: number): number {
    let lo = 0
    let hi = this.n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.keys[mid] < key || (this.keys[mid] === key && this.starts[mid] < start)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * Search on from where the last call stopped, for about `budgetMs`. Returns true when it
   * reached the end of the rows (the caller runs it again when more output arrives).
   */
  step(budgetMs = 8, now: () => number = () => performance.now()): boolean {
    if (this.capped) return true
    const deadline = now() + budgetMs
    const buffer = this.buffer
    const first = buffer.firstRowKey
    const total = buffer.lineCount
    if (total === 0) {
      this.done = true
      return true
    }
    // Rows before the resume point might have been dropped meanwhile.
    const resume = Math.max(this.resumeKey, first)
    // Matches from the resume point on are found again (the last line may have changed).
    this.n = this.lowerBound(resume, 0)
    let finished = true
    buffer.forEachSegment((seg, segRow) => {
      const segFirst = first + segRow
      const count = seg.store ? seg.store.count : 1
      if (segFirst + count <= resume) return
      if (!seg.store) return
      const from = Math.max(0, resume - segFirst)
      const stopped = this.scanStore(seg.store, segFirst, from, deadline, now)
      if (stopped >= 0) {
        this.resumeKey = segFirst + stopped
        finished = false
        return false
      }
    })
    if (finished) {
      // The last line may still change: search it again next time.
      this.resumeKey = first + total - 1
      this.done = true
    }
    return finished || this.capped
  }

  /**
   * Search lines `from..` of `store` (whose line 0 has row key `keyBase`). Returns -1 when
   * the store was finished, or the line to resume at when the time budget ran out.
   */
  private scanStore(
    store: LineStore,
    keyBase: number,
    from: number,
    deadline: number,
    now: () => number,
  ): number {
    const re = this.re
    const hideOut = !this.filter.stdout
    const hideErr = !this.filter.stderr
    let line = from
    let result = -1
    while (line < store.count) {
      const block = store.blockAt(line)
      const text = block.text
      const stop = block.endLine
      // Lines are found by walking the block's separators as far as matches go: a block
      // without matches costs one regex pass and nothing else.
      let li = line
      let ls = store.startOf(line) - block.start
      let le = lineEnd(text, ls)
      re.lastIndex = ls
      let m: RegExpExecArray | null
      while ((m = re.exec(text)) !== null) {
        const len = m[0].length
        if (len === 0) {
          re.lastIndex = m.index + 1
          continue
        }
        const pos = m.index
        while (li + 1 < stop && le < pos) {
          li++
          ls = le + 1
          le = lineEnd(text, ls)
        }
        if (pos + len > le) continue
        const kind = store.kind(li)
        if ((kind === KIND_STDOUT && hideOut) || (kind === KIND_STDERR && hideErr)) continue
        this.push(keyBase + li, pos - ls, len)
        if (this.n - this.firstLive() >= MAX_MATCHES) {
          this.capped = true
          return -1
        }
      }
      line = stop
      if (line < store.count && now() > deadline) {
        result = line
        break
      }
    }
    return result
  }

  private push(key: number, start: number, len: number): void {
    if (this.n === this.keys.length) {
      const cap = this.n * 2
      const keys = new Float64Array(cap)
      keys.set(this.keys)
      const starts = new Uint32Array(cap)
      starts.set(this.starts)
      const lens = new Uint32Array(cap)
      lens.set(this.lens)
      this.keys = keys
      this.starts = starts
      this.lens = lens
    }
    this.keys[this.n] = key
    this.starts[this.n] = start
    this.lens[this.n] = len
    this.n++
  }
}

/** End of the line starting at `from` in a block: its separator, or the end of the block. */
function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from)
  return nl < 0 ? text.length : nl
}
