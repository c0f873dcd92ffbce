import { describe, expect, it, vi } from 'vitest'
import type { OutputChunk, ProcessInfo } from '../../../shared/contract'
import { createAppStore, setProcessList } from './app-store'
import {
  feedTerminal,
  keepTerminalWhole,
  pruneTerminalFeeds,
  TERMINAL_REFILL_INTERVAL_MS,
  TerminalFeed,
  TerminalFeeds,
} from './terminal-feeds'
import { systemLineForTerminal, utf8Length } from './terminal-support'

const chunk = (seq: number, data: string, stream: OutputChunk['stream'] = 'stdout') => ({
  seq,
  stream,
  data,
  time: 0,
})

/** Everything a feed retains, as one string. */
const historyText = (feed: TerminalFeed): string =>
  feed
    .history()
    .map((c) => c.data)
    .join('')

function info(id: string, terminal: boolean): ProcessInfo {
  return {
    id,
    name: id,
    spec: { command: id, terminal },
    state: 'running',
    pid: 1,
    runCount: 1,
    startedAt: 0,
    endedAt: null,
    exit: null,
    stdinOpen: true,
    killDeadline: null,
    saved: false,
    nextRetryAt: null,
    failedStarts: 0,
    maxRetries: 5,
    runId: null,
    ...(terminal ? { terminal: { cols: 80, rows: 24 } } : {}),
  }
}

describe('TerminalFeed', () => {
  it('sees output the host skipped, and is whole again once refilled from a snapshot', () => {
    const feed = new TerminalFeed()
    let resets = 0
    feed.onReset(() => resets++)
    feed.take([chunk(0, 'a'), chunk(1, 'b')])
    expect(feed.hasGap).toBe(false)
    // 2..4 skipped by the host, then live output goes on.
    feed.take([chunk(5, 'f'), chunk(6, 'g')])
    expect(feed.hasGap).toBe(true)
    // The host's snapshot ends at 5; 6 came live meanwhile and follows it.
    feed.refill([chunk(1, 'b'), chunk(2, 'c'), chunk(3, 'd'), chunk(4, 'e'), chunk(5, 'f')])
    expect(resets).toBe(1)
    expect(feed.hasGap).toBe(false)
    expect(historyText(feed)).toBe('bcdefg')
    expect(feed.startsMidStream).toBe(true)
    expect(feed.lastSeq).toBe(6)
    // A hole after the snapshot is still a hole; a gap inside a batch counts too.
    feed.take([chunk(7, 'h'), chunk(9, 'j')])
    expect(feed.hasGap).toBe(true)
    feed.refill([chunk(6, 'g'), chunk(7, 'h')])
    expect(feed.hasGap).toBe(true)
    expect(feed.history().map((c) => c.seq)).toEqual([6, 7, 9])
    feed.refill([...'abcdefghij'].map((data, seq) => chunk(seq, data)))
    expect(feed.hasGap).toBe(false)
    expect(feed.startsMidStream).toBe(false)
    expect(historyText(feed)).toBe('abcdefghij')
  })

  it('while a view is open, refills a feed with a gap from the host, one fetch at a time', async () => {
    vi.useFakeTimers()
    try {
      const feed = new TerminalFeed()
      feed.take([chunk(0, 'a')])
      const fetches: ((chunks: OutputChunk[]) => void)[] = []
      const stop = keepTerminalWhole(
        feed,
        () => new Promise<OutputChunk[]>((resolve) => fetches.push(resolve)),
      )
      await vi.advanceTimersByTimeAsync(0)
      expect(fetches).toHaveLength(0)
      feed.take([chunk(3, 'd')])
      feed.take([chunk(5, 'f')])
      await vi.advanceTimersByTimeAsync(0)
      expect(fetches).toHaveLength(1)
      fetches[0]([chunk(0, 'a'), chunk(1, 'b'), chunk(2, 'c'), chunk(3, 'd'), chunk(4, 'e')])
      await vi.advanceTimersByTimeAsync(0)
      expect(feed.hasGap).toBe(false)
      expect(
        feed
          .history()
          .map((c) => c.data)
          .join(''),
      ).toBe('abcdef')
      // Another hole right away: the next fetch waits out the interval.
      feed.take([chunk(8, 'i')])
      await vi.advanceTimersByTimeAsync(TERMINAL_REFILL_INTERVAL_MS - 10)
      expect(fetches).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(10)
      expect(fetches).toHaveLength(2)
      // Closed before the answer: the feed is left alone.
      stop()
      fetches[1]([chunk(6, 'g'), chunk(7, 'h')])
      await vi.advanceTimersByTimeAsync(TERMINAL_REFILL_INTERVAL_MS)
      expect(feed.hasGap).toBe(true)
      expect(fetches).toHaveLength(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('takes each chunk once, in order, and tells followers only what is new', () => {
    const feed = new TerminalFeed()
    const seen: number[] = []
    feed.take([chunk(0, 'a'), chunk(1, 'b')])
    const off = feed.subscribe((chunks) => seen.push(...chunks.map((c) => c.seq)))
    // A snapshot overlapping what live events already delivered (a reload, a catch-up).
    feed.take([chunk(0, 'a'), chunk(1, 'b'), chunk(2, 'c')])
    feed.take([chunk(2, 'c')])
    feed.take([chunk(3, 'd')])
    off()
    feed.take([chunk(4, 'e')])
    expect(seen).toEqual([2, 3])
    expect(feed.history().map((c) => c.data)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(feed.lastSeq).toBe(4)
    expect(feed.startsMidStream).toBe(false)
  })

  it('keeps a bounded tail and says when the replay starts mid-stream', () => {
    const feed = new TerminalFeed(10)
    feed.take([chunk(0, 'aaaa'), chunk(1, 'bbbb'), chunk(2, 'cccc')])
    expect(feed.history().map((c) => c.seq)).toEqual([1, 2])
    expect(feed.startsMidStream).toBe(true)
    const late = new TerminalFeed()
    late.take([chunk(7, 'x')])
    expect(late.startsMidStream).toBe(true)
  })
})

describe('feedTerminal', () => {
  it('feeds only processes that run in a terminal, and forgets removed ones', () => {
    const store = createAppStore()
    setProcessList(store, [info('term', true), info('pipe', false)])
    const feeds = new TerminalFeeds()
    feedTerminal(store, 'term', [chunk(0, 'hi')], feeds)
    feedTerminal(store, 'pipe', [chunk(0, 'hi')], feeds)
    expect(feeds.ids()).toEqual(['term'])
    pruneTerminalFeeds(new Set(['pipe']), feeds)
    expect(feeds.ids()).toEqual([])
  })
})

describe('terminal support', () => {
  it('counts UTF-8 bytes without encoding', () => {
    for (const text of ['', 'abc', 'héllo', '日本語', '🎉x', '\ud800x']) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length)
    }
  })

  it("shows Corral's lines dimmed, on a line of their own", () => {
    expect(systemLineForTerminal('■ exited with code 0\n', false)).toBe(
      '\r\n\x1b[0m\x1b[2m■ exited with code 0\x1b[0m\r\n',
    )
    expect(systemLineForTerminal('a\nb\n', true)).toBe('\x1b[0m\x1b[2ma\r\nb\x1b[0m\r\n')
  })
})
