import { describe, expect, it } from 'vitest'
import type { OutputStream } from '../../../shared/contract'
import { ProcessOutput } from './output-buffers'
import { RowIndex, TOP_MARKER_KEY } from './row-index'

function feed(buf: ProcessOutput, data: string, stream: OutputStream = 'stdout'): void {
  buf.apply({ seq: buf.lastSeq + 1, stream, data, time: 0 })
}

function shown(buf: ProcessOutput, index: RowIndex): string[] {
  const out: string[] = []
  for (let v = 0; v < index.count; v++) {
    const key = index.keyAt(v)
    out.push(key === TOP_MARKER_KEY ? 'top' : buf.line(key - buf.firstRowKey).text)
  }
  return out
}

describe('RowIndex', () => {
  it('shows every row without filters, and only the chosen streams with them', () => {
    const buf = new ProcessOutput()
    feed(buf, 'o1\n')
    feed(buf, 'e1\n', 'stderr')
    feed(buf, 'sys', 'system')
    feed(buf, 'o2\n')
    const index = new RowIndex()
    index.sync(buf, { stdout: true, stderr: true })
    expect(shown(buf, index)).toEqual(['o1', 'e1', 'sys', 'o2'])
    index.sync(buf, { stdout: false, stderr: true })
    expect(shown(buf, index)).toEqual(['e1', 'sys'])
    index.sync(buf, { stdout: true, stderr: false })
    expect(shown(buf, index)).toEqual(['o1', 'sys', 'o2'])
  })

  it('extends with new rows, follows dropped rows and maps keys back to view rows', () => {
    const buf = new ProcessOutput(4)
    const index = new RowIndex()
    const filter = { stdout: false, stderr: true }
    feed(buf, 'o1\n')
    feed(buf, 'e1\n', 'stderr')
    index.sync(buf, filter)
    expect(shown(buf, index)).toEqual(['e1'])
    feed(buf, 'e2\n', 'stderr')
    feed(buf, 'o2\n')
    feed(buf, 'e3\n', 'stderr')
    index.sync(buf, filter)
    // o1 was dropped (limit 4): the top marker row comes first.
    expect(shown(buf, index)).toEqual(['top', 'e1', 'e2', 'e3'])
    const o2 = buf.lineKey(2)
    expect(index.shows(o2)).toBe(false)
    expect(index.viewRowOf(o2)).toBe(3)
    expect(index.viewRowOf(buf.lineKey(1))).toBe(2)
  })

  it('rebuilds after the buffer is cleared', () => {
    const buf = new ProcessOutput()
    const index = new RowIndex()
    feed(buf, 'e1\n', 'stderr')
    index.sync(buf, { stdout: false, stderr: true })
    buf.clear()
    feed(buf, 'e2\n', 'stderr')
    index.sync(buf, { stdout: false, stderr: true })
    expect(shown(buf, index)).toEqual(['e2'])
  })
})
