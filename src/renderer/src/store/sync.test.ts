import { describe, expect, it } from 'vitest'
import type {
  CorralEvents,
  EventName,
  HostInfo,
  OrphanGroup,
  OutputChunk,
  OutputSnapshot,
  OutputStream,
  ProcessId,
  ProcessInfo,
} from '../../../shared/contract'
import type { ConnectionState } from '../bridge'
import { createAppStore, selectProcess } from './app-store'
import { OutputBuffers, type ProcessOutput } from './output-buffers'
import {
  ACK_AHEAD_CHARS,
  BACKGROUND_SNAPSHOT_BYTES,
  CATCH_UP_BYTES,
  COVERED_CHARS,
  ENDED_APPLY_BUDGET_MS,
  FLOOD_FRAME_CHARS,
  FLOOD_REDRAW_MS,
  FILL_GAP_ROWS,
  LATE_FRAME_MS,
  MAX_QUEUED_CHARS,
  MIN_BUDGET_SHARE,
  SNAPSHOT_BYTES,
  startSync,
  type SyncBridge,
} from './sync'

function info(id: ProcessId, state: ProcessInfo['state'] = 'running'): ProcessInfo {
  return {
    id,
    name: id,
    spec: { command: id },
    state,
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
  }
}

const HOST: HostInfo = {
  platform: 'linux',
  shell: '/bin/sh',
  homeDir: '/home/u',
  stopGraceMs: 5000,
  defaultEnv: {},
  dataDir: null,
  warnings: [],
}

/** A host whose calls resolve only when the test says so, to force every interleaving. */
class FakeHost implements SyncBridge {
  processes: ProcessInfo[] = []
  chunks = new Map<ProcessId, OutputChunk[]>()
  state: ConnectionState = 'open'
  private listeners = new Map<EventName, Set<(p: never) => void>>()
  private connListeners = new Set<(s: ConnectionState) => void>()
  private gates: (() => void)[] = []
  outputCalls: [ProcessId, number | undefined, number | undefined][] = []
  /** Acknowledgements asked for, and batches reported applied, in order. */
  deferred = false
  /** Every focus the page announced, in order. */
  focuses: ProcessId[][] = []
  focusOutput(ids: ProcessId[]): void {
    this.focuses.push(ids)
  }
  applied: CorralEvents['output'][] = []

  on<E extends EventName>(event: E, listener: (payload: CorralEvents[E]) => void): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as (p: never) => void)
    return () => set.delete(listener as (p: never) => void)
  }
  emit<E extends EventName>(event: E, payload: CorralEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (p: CorralEvents[E]) => void)(payload)
  }
  connectionState(): ConnectionState {
    return this.state
  }
  onConnection(listener: (s: ConnectionState) => void): () => void {
    this.connListeners.add(listener)
    return () => this.connListeners.delete(listener)
  }
  setState(state: ConnectionState): void {
    this.state = state
    for (const l of this.connListeners) l(state)
  }
  private gated<T>(value: () => T): Promise<T> {
    return new Promise((resolve) => this.gates.push(() => resolve(value())))
  }
  /** Resolve the oldest call not yet resolved. */
  async releaseNext(): Promise<void> {
    this.gates.shift()?.()
    await new Promise((r) => setTimeout(r, 0))
  }
  /** Resolve every call made so far, in order. */
  async release(): Promise<void> {
    while (this.gates.length > 0) {
      for (const g of this.gates.splice(0)) g()
      await new Promise((r) => setTimeout(r, 0))
    }
  }
  hostInfo(): Promise<HostInfo> {
    return Promise.resolve(HOST)
  }
  orphanGroups: OrphanGroup[] = []
  orphans(): Promise<OrphanGroup[]> {
    return Promise.resolve(this.orphanGroups)
  }
  list(): Promise<ProcessInfo[]> {
    const snapshot = [...this.processes]
    return this.gated(() => snapshot)
  }
  output(id: ProcessId, afterSeq?: number, maxBytes?: number): Promise<OutputSnapshot> {
    this.outputCalls.push([id, afterSeq, maxBytes])
    const all = this.chunks.get(id) ?? []
    let from = all.findIndex((c) => c.seq > (afterSeq ?? -1))
    if (from < 0) from = all.length
    // Like the host: with a limit, only the newest chunks that fit (at least one), and what
    // is left out counts as dropped.
    let first = all.length
    let size = 0
    while (
      first > from &&
      (first === all.length || size + all[first - 1].data.length <= (maxBytes ?? Infinity))
    ) {
      size += all[first - 1].data.length
      first--
    }
    const trimmed = first > from
    const dropped = trimmed ? all.slice(0, first).reduce((n, c) => n + c.data.length, 0) : 0
    const snap = all.slice(trimmed ? first : from)
    const firstSeq = trimmed ? all[first].seq : (all[0]?.seq ?? 0)
    return this.gated(() => ({ id, chunks: snap, firstSeq, droppedChars: dropped }))
  }
  deferOutputAcks(): void {
    this.deferred = true
  }
  ackOutput(batch: CorralEvents['output']): void {
    this.applied.push(batch)
  }
  /** Produce output: retained by the host and pushed as an event. */
  write(id: ProcessId, data: string, stream: OutputChunk['stream'] = 'stdout'): void {
    const list = this.chunks.get(id) ?? []
    const chunk: OutputChunk = { seq: list.length, stream, data, time: 0 }
    list.push(chunk)
    this.chunks.set(id, list)
    this.emit('output', { id, chunks: [chunk] })
  }
}

function text(buf: ProcessOutput | undefined): string {
  if (!buf) return ''
  const out: string[] = []
  for (let i = 0; i < buf.lineCount; i++) out.push(buf.line(i).text)
  return out.join('|')
}

function setup(host: FakeHost) {
  const store = createAppStore()
  const buffers = new OutputBuffers()
  const frames: (() => void)[] = []
  const sync = startSync({ bridge: host, store, buffers, scheduleFrame: (cb) => frames.push(cb) })
  return { store, buffers, sync, frames }
}

describe('startSync', () => {
  it('loads the list and output, then merges live output without duplicates or gaps', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    host.write('a', 'one\n')
    host.write('a', 'two\n')
    const { store, buffers, sync } = setup(host)
    // Output that happens while the list and snapshot are in flight.
    host.write('a', 'three\n')
    await host.release()
    host.write('a', 'four\n')
    await sync.ready()
    sync.flush()
    expect(text(buffers.peek('a'))).toBe('one|two|three|four')
    expect(store.getState().order).toEqual(['a'])
    expect(store.getState().selectedId).toBe('a')
    expect(store.getState().hostInfo).toEqual(HOST)
  })

  it('bumps each revision at most once per frame', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    const { store, frames } = setup(host)
    await host.release()
    frames.splice(0).forEach((f) => f())
    const before = store.getState().revision.a ?? 0
    host.write('a', '1\n')
    host.write('a', '2\n')
    host.write('a', '3\n')
    expect(store.getState().revision.a ?? 0).toBe(before)
    expect(frames.length).toBe(1)
    frames.splice(0).forEach((f) => f())
    expect(store.getState().revision.a).toBe(before + 1)
  })

  it('resynchronises after a reconnect, fetching only what it missed', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    host.write('a', 'one\n')
    const { store, buffers, sync } = setup(host)
    await host.release()
    await sync.ready()
    sync.flush()
    host.setState('closed')
    expect(store.getState().connection).toBe('closed')
    // While disconnected: output, a new process, and a removal the page never hears about.
    host.chunks.set('a', [
      ...(host.chunks.get('a') ?? []),
      { seq: 1, stream: 'stdout', data: 'two\n', time: 0 },
    ])
    host.processes = [info('a', 'exited'), info('b')]
    host.chunks.set('b', [{ seq: 0, stream: 'stderr', data: 'bee\n', time: 0 }])
    host.outputCalls = []
    host.setState('connecting')
    host.setState('open')
    host.write('a', 'three\n')
    await host.release()
    await sync.ready()
    sync.flush()
    expect(host.outputCalls).toEqual([
      ['a', 0, SNAPSHOT_BYTES],
      ['b', -1, BACKGROUND_SNAPSHOT_BYTES],
    ])
    expect(text(buffers.peek('a'))).toBe('one|two|three')
    expect(text(buffers.peek('b'))).toBe('bee')
    expect(store.getState().processes.a.state).toBe('exited')
    expect(store.getState().order).toEqual(['a', 'b'])
  })

  it('forgets processes removed by event or missing from a resync list', async () => {
    const host = new FakeHost()
    host.processes = [info('a', 'exited'), info('b', 'exited')]
    const { store, buffers, sync } = setup(host)
    await host.release()
    await sync.ready()
    store.setState({ selectedId: 'a' })
    host.emit('removed', { id: 'a' })
    expect(store.getState().order).toEqual(['b'])
    expect(store.getState().selectedId).toBe('b')
    expect(buffers.peek('a')).toBeUndefined()
    host.processes = []
    host.setState('closed')
    host.setState('open')
    await host.release()
    await sync.ready()
    expect(store.getState().order).toEqual([])
    expect(store.getState().selectedId).toBeNull()
  })

  it('tells the host which process is on screen, once per change of selection', async () => {
    const host = new FakeHost()
    host.processes = [info('a'), info('b')]
    const { store, sync } = setup(host)
    // Nothing is selected before the list arrives.
    expect(host.focuses).toEqual([[]])
    await host.release()
    await sync.ready()
    const first = store.getState().selectedId!
    expect(host.focuses).toEqual([[], [first]])
    host.write('a', 'x\n')
    sync.flush()
    const other = first === 'a' ? 'b' : 'a'
    store.setState({ selectedId: other })
    store.setState({ selectedId: other })
    expect(host.focuses).toEqual([[], [first], [other]])
    host.emit('removed', { id: other })
    expect(host.focuses.at(-1)).toEqual([store.getState().selectedId])
  })
})

describe('startSync catch-up', () => {
  /** A page in step with process "a", which wrote "one"; no output fetched since. */
  async function syncedOnA() {
    const host = new FakeHost()
    host.processes = [info('a')]
    host.write('a', 'one\n')
    const { buffers, sync } = setup(host)
    await host.release()
    await sync.ready()
    sync.flush()
    host.outputCalls = []
    return { host, buffers, sync }
  }
  /** Output of "a" the host retains but skipped for this page (never an event). */
  const skip = (host: FakeHost, seq: number, data = 'skipped\n', stream: OutputStream = 'stdout') =>
    host.chunks.get('a')!.push({ seq, stream, data, time: 0 })
  /** A flood's batch after a skip: 99-byte lines of `ch`, at least `chars` of them. */
  const floodOf = (ch: string, chars: number): string => {
    const line = `${ch.repeat(99)}\n`
    return line.repeat(Math.ceil(chars / line.length))
  }
  /** "a" shows "one", a marker for what was skipped, then the flood's lines of `ch`. */
  const expectGapThenFlood = (a: ProcessOutput, ch: string): void => {
    expect(a.line(0).text).toBe('one')
    expect(a.line(1).kind).toBe('gap')
    expect(a.line(2).text).toBe(ch.repeat(99))
  }

  it('fetches missed output when a live batch skips sequence numbers', async () => {
    const { host, buffers, sync } = await syncedOnA()
    // The host retains two chunks the page never receives as events...
    skip(host, 1, 'two\n')
    skip(host, 2, 'three\n', 'stderr')
    // ...then the next event arrives, and more while the catch-up is in flight.
    host.write('a', 'four\n')
    sync.flush()
    host.write('a', 'five\n')
    sync.flush()
    expect(host.outputCalls).toEqual([['a', 0, CATCH_UP_BYTES]])
    expect(text(buffers.peek('a'))).toBe('one')
    await host.release()
    sync.flush()
    expect(text(buffers.peek('a'))).toBe('one|two|three|four|five')
  })

  it('does not fetch missed output when a screenful and more follows it', async () => {
    const { host, buffers, sync } = await syncedOnA()
    skip(host, 1, 'two\n')
    // A flood's next batch after a skip: a screenful and far more, with nothing missing in it.
    host.write('a', floodOf('x', CATCH_UP_BYTES))
    sync.flush()
    expect(host.outputCalls).toEqual([])
    const a = buffers.peek('a')!
    expectGapThenFlood(a, 'x')
    expect(a.lastSeq).toBe(2)
  })

  it('drops output waiting before a skip that brings a screenful and more, unapplied', async () => {
    const { host, buffers, sync } = await syncedOnA()
    // Waiting to be applied: two contiguous batches...
    host.write('a', 'two\n')
    host.write('a', 'three\n')
    expect(sync.queuedChars()).toBe(10)
    // ...then the host skips (seq 3 never comes) and sends its newest output.
    skip(host, 3)
    const newest = floodOf('y', COVERED_CHARS)
    host.write('a', newest)
    // The two waiting batches are no longer waiting (they were acknowledged on arrival).
    expect(sync.queuedChars()).toBe(newest.length)
    sync.flush()
    expect(host.outputCalls).toEqual([])
    const a = buffers.peek('a')!
    expectGapThenFlood(a, 'y')
    expect(a.lastSeq).toBe(4)
    // A small batch after a skip drops nothing: what waits before it shows, then its gap.
    host.write('a', 'five\n')
    skip(host, 6)
    host.write('a', 'seven\n')
    sync.flush()
    await host.release()
    sync.flush()
    expect(text(a).split('|').slice(-3)).toEqual(['five', 'skipped', 'seven'])
  })

  it('marks output missed by a process not on screen as skipped, without fetching it', async () => {
    const host = new FakeHost()
    host.processes = [info('a'), info('b')]
    host.write('b', 'one\n')
    const { store, buffers, sync } = setup(host)
    await host.release()
    await sync.ready()
    store.setState({ selectedId: 'a' })
    const list = host.chunks.get('b') ?? []
    list.push({ seq: 1, stream: 'stdout', data: 'two\n', time: 0 })
    host.outputCalls = []
    host.write('b', 'three\n')
    sync.flush()
    expect(host.outputCalls).toEqual([])
    const b = buffers.peek('b')!
    expect(text(b)).toBe('one|Some output not shown|three')
    expect(b.line(1).kind).toBe('gap')
    // The process on screen still fetches what it missed.
    host.chunks.set('a', [{ seq: 0, stream: 'stdout', data: 'a0\n', time: 0 }])
    host.write('a', 'a1\n')
    sync.flush()
    expect(host.outputCalls).toEqual([['a', -1, CATCH_UP_BYTES]])
  })

  it('fills a gap near the end from the host when a process comes on screen, not one far up', async () => {
    const host = new FakeHost()
    host.processes = [info('a'), info('b'), info('c')]
    const { store, buffers, sync, frames } = setup(host)
    await host.release()
    await sync.ready()
    selectProcess(store, 'a')
    const runFrames = (): void => {
      while (frames.length > 0) frames.splice(0).forEach((f) => f())
    }
    // b and c flood in the background: the host skips their output to the page.
    const skipped = (id: string, lines: number): void => {
      const list = host.chunks.get(id) ?? []
      for (let i = 0; i < lines; i++) {
        list.push({ seq: list.length, stream: 'stdout', data: `${id}${i}\n`, time: 0 })
      }
      host.chunks.set(id, list)
    }
    host.write('b', 'first\n')
    skipped('b', 3)
    host.write('b', 'exited\n')
    host.write('c', 'first\n')
    skipped('c', 3)
    for (let i = 0; i < FILL_GAP_ROWS + 1; i++) host.write('c', `after${i}\n`)
    sync.flush()
    expect(text(buffers.peek('b'))).toBe('first|Some output not shown|exited')
    host.outputCalls = []
    // On screen, b shows its last lines instead of the marker: fetched from the host's memory.
    selectProcess(store, 'b')
    expect(host.outputCalls).toEqual([['b', 0, CATCH_UP_BYTES]])
    await host.release()
    runFrames()
    await host.release()
    expect(text(buffers.peek('b'))).toBe('first|b0|b1|b2|exited')
    // c's marker has a screenful of rows after it: left for its "Load".
    selectProcess(store, 'c')
    expect(host.outputCalls).toHaveLength(1)
    expect(buffers.peek('c')!.gaps()).toHaveLength(1)
  })

  it('ignores output for a process it does not know', async () => {
    const host = new FakeHost()
    const { buffers, sync } = setup(host)
    await host.release()
    await sync.ready()
    host.write('ghost', 'boo\n')
    sync.flush()
    expect(buffers.peek('ghost')).toBeUndefined()
    expect(host.applied.map((b) => b.id)).toEqual(['ghost'])
  })
})

describe('startSync supervision state', () => {
  const ORPHAN: OrphanGroup = {
    pgid: 42,
    name: 'sleep',
    command: 'sleep 300',
    startedAt: 0,
    pids: [42],
  }

  it('fetches orphans at start and after a reconnect, and takes the orphans event', async () => {
    const host = new FakeHost()
    host.orphanGroups = [ORPHAN]
    const { store, sync } = setup(host)
    await host.release()
    await sync.ready()
    expect(store.getState().orphans).toEqual([ORPHAN])
    host.emit('orphans', [])
    expect(store.getState().orphans).toEqual([])
    host.orphanGroups = [{ ...ORPHAN, pids: [42, 43] }]
    host.setState('closed')
    host.setState('open')
    await host.release()
    await sync.ready()
    expect(store.getState().orphans[0].pids).toEqual([42, 43])
  })

  it('bumps the runs revision of a known process on a runs event, and on a resync', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    const { store, sync } = setup(host)
    await host.release()
    await sync.ready()
    const before = store.getState().runsRevision.a
    host.emit('runs', { id: 'a' })
    expect(store.getState().runsRevision.a).toBe(before + 1)
    host.emit('runs', { id: 'ghost' })
    expect(store.getState().runsRevision.ghost).toBeUndefined()
    host.setState('closed')
    host.setState('open')
    await host.release()
    await sync.ready()
    expect(store.getState().runsRevision.a).toBe(before + 2)
  })
})

describe('startSync applying output in time slices', () => {
  /** A clock where every reading is one millisecond after the one before. */
  function steppingClock() {
    let t = 0
    return {
      now: () => t++,
      read: () => t,
      advance: (ms: number) => {
        t += ms
      },
    }
  }

  function setupTimed(host: FakeHost, budgetMs: number) {
    const store = createAppStore()
    const buffers = new OutputBuffers()
    const frames: (() => void)[] = []
    const clock = steppingClock()
    const sync = startSync({
      bridge: host,
      store,
      buffers,
      scheduleFrame: (cb) => frames.push(cb),
      scheduleIdle: null,
      now: clock.now,
      applyBudgetMs: budgetMs,
    })
    const runFrame = (): void => frames.splice(0).forEach((f) => f())
    return { store, buffers, sync, frames, clock, runFrame }
  }

  /**
   * Processes `a` (on screen) and `b` in `state`, 2 ms budgets, with 6 lines of `a` and 10
   * of `b` waiting to be applied.
   */
  async function twoWaiting(state: ProcessInfo['state']) {
    const host = new FakeHost()
    host.processes = [info('a', state), info('b', state)]
    const setup = setupTimed(host, 2)
    await host.release()
    await setup.sync.ready()
    setup.runFrame()
    selectProcess(setup.store, 'a')
    for (let i = 0; i < 6; i++) host.write('a', `a${i}\n`)
    for (let i = 0; i < 10; i++) host.write('b', `b${i}\n`)
    return { host, ...setup }
  }

  it('applies no more per frame than the budget allows, in order, until all is applied', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    const { buffers, sync, frames, clock, runFrame } = setupTimed(host, 4)
    await host.release()
    await sync.ready()
    runFrame()
    for (let i = 0; i < 10; i++) host.write('a', `line ${i}\n`)
    const seen: number[] = []
    let previous = 0
    while (frames.length > 0) {
      const start = clock.read()
      runFrame()
      const lines = buffers.get('a').lineCount
      // One clock reading per chunk: a 4 ms budget applies at most 4 one-ms steps.
      expect(clock.read() - start).toBeLessThanOrEqual(4 + 1)
      expect(lines - previous).toBeLessThanOrEqual(4)
      seen.push(lines)
      previous = lines
    }
    expect(seen.length).toBeGreaterThan(2)
    expect(text(buffers.get('a'))).toBe(Array.from({ length: 10 }, (_, i) => `line ${i}`).join('|'))
  })

  it('applies the last output of the process on screen within a longer budget once it ended', async () => {
    const { host, buffers, clock, runFrame } = await twoWaiting('exited')
    const start = clock.read()
    runFrame()
    // One-ms steps: up to ENDED_APPLY_BUDGET_MS of them for the process on screen, which
    // ended, and 2 for the other one, which waits for later frames.
    expect(ENDED_APPLY_BUDGET_MS).toBeGreaterThanOrEqual(6 + 2 + 2)
    expect(buffers.get('a').lineCount).toBe(6)
    expect(buffers.peek('b')?.lineCount ?? 0).toBeLessThanOrEqual(2)
    expect(clock.read() - start).toBeLessThanOrEqual(ENDED_APPLY_BUDGET_MS + 2)
    // Running again: back to the frame's budget.
    host.emit('status', info('a', 'running'))
    for (let i = 0; i < 10; i++) host.write('a', `again${i}\n`)
    runFrame()
    expect(buffers.get('a').lineCount).toBeLessThan(10 + 3)
  })

  it("applies and redraws a run's last output and exit line as they come, before the status says it ended", async () => {
    const { host, store, buffers, clock, runFrame } = await twoWaiting('running')
    const revision = store.getState().revision.a ?? 0
    const start = clock.read()
    // The host sends a flood's last output with its exit line, then the status, which has
    // not come yet.
    host.write('a', '■ exited with code 0\n', 'system')
    expect(store.getState().processes.a.state).toBe('running')
    // Applied and redrawn at once, within the longer budget, not in the next frame; the
    // other process's output waits for that frame.
    expect(buffers.get('a').lineCount).toBe(7)
    expect(store.getState().revision.a).toBe(revision + 1)
    expect(buffers.peek('b')?.lineCount ?? 0).toBe(0)
    expect(clock.read() - start).toBeLessThanOrEqual(ENDED_APPLY_BUDGET_MS + 2)
    runFrame()
    expect(buffers.get('b').lineCount).toBeGreaterThan(0)
  })

  it('bumps a revision at most every FLOOD_REDRAW_MS while output waits, and at once when all is applied', async () => {
    const host = new FakeHost()
    host.processes = [info('a'), info('b')]
    const { store, sync, runFrame, frames, clock } = setupTimed(host, 2)
    await host.release()
    await sync.ready()
    runFrame()
    clock.advance(FLOOD_REDRAW_MS)
    const revision = (): number => store.getState().revision.a ?? 0
    const before = revision()
    for (let i = 0; i < 8; i++) host.write('a', `${i}\n`)
    expect(revision()).toBe(before)
    // A 2 ms budget on a clock that steps 1 ms per reading: one chunk per frame. The first
    // frame redraws; the next ones, a few ms apart, do not, until FLOOD_REDRAW_MS has passed.
    runFrame()
    expect(revision()).toBe(before + 1)
    runFrame()
    // Another process's echo meanwhile is redrawn in the next frame all the same.
    const echoBefore = store.getState().revision.b ?? 0
    host.write('b', 'echo\n')
    runFrame()
    expect(revision()).toBe(before + 1)
    expect(store.getState().revision.b).toBe(echoBefore + 1)
    clock.advance(FLOOD_REDRAW_MS)
    runFrame()
    expect(revision()).toBe(before + 2)
    // The frame that applies the rest redraws at once, and then frames stop.
    while (frames.length > 0) runFrame()
    expect(revision()).toBe(before + 3)
    expect(sync.queuedChars()).toBe(0)
    // A single echo afterwards shows in the very next frame.
    host.write('a', 'echo\n')
    runFrame()
    expect(revision()).toBe(before + 4)
  })

  /**
   * Processes `a` (on screen) and `b`, budgets long enough to apply `burst` (a flood's share
   * for one frame) within a frame, and the last full redraw FLOOD_REDRAW_MS ago.
   */
  async function floodOnScreen() {
    const host = new FakeHost()
    host.processes = [info('a'), info('b')]
    const setup = setupTimed(host, 50)
    await host.release()
    await setup.sync.ready()
    selectProcess(setup.store, 'a')
    setup.runFrame()
    setup.clock.advance(FLOOD_REDRAW_MS)
    const revision = (id: ProcessId): number => setup.store.getState().revision[id] ?? 0
    const burst = `${'x'.repeat(98)}\n`.repeat(Math.ceil(FLOOD_FRAME_CHARS / 99))
    return { host, revision, burst, ...setup }
  }

  it('redraws the process on screen at most every FLOOD_REDRAW_MS while it floods, even with nothing waiting', async () => {
    const { host, sync, runFrame, frames, clock, revision, burst } = await floodOnScreen()
    const before = revision('a')
    // A flood's share that the page applies within each frame (nothing left waiting).
    host.write('a', burst)
    runFrame()
    expect(sync.queuedChars()).toBe(0)
    expect(revision('a')).toBe(before + 1)
    host.write('a', burst)
    runFrame()
    // Applied, not redrawn: held, with frames asked for until it is due.
    expect(sync.queuedChars()).toBe(0)
    expect(revision('a')).toBe(before + 1)
    expect(frames.length).toBe(1)
    // Another process's echo meanwhile is redrawn in the next frame all the same.
    const echoBefore = revision('b')
    host.write('b', 'echo\n')
    runFrame()
    expect(revision('b')).toBe(echoBefore + 1)
    expect(revision('a')).toBe(before + 1)
    clock.advance(FLOOD_REDRAW_MS)
    runFrame()
    expect(revision('a')).toBe(before + 2)
    expect(frames.length).toBe(0)
    // The end of the flood, its last output with its exit line, is redrawn as it comes.
    host.write('a', burst)
    runFrame()
    expect(revision('a')).toBe(before + 2)
    host.write('a', '■ exited with code 0\n', 'system')
    expect(revision('a')).toBe(before + 3)
    // Once it has flooded no more for FLOOD_REDRAW_MS, an echo of it shows in the next frame.
    clock.advance(FLOOD_REDRAW_MS)
    host.write('a', 'echo\n')
    runFrame()
    expect(revision('a')).toBe(before + 4)
    runFrame()
    host.write('a', 'echo\n')
    runFrame()
    expect(revision('a')).toBe(before + 5)
  })

  it('does not hold the redraw of a flood that is not on screen', async () => {
    const { host, runFrame, revision, burst } = await floodOnScreen()
    const before = revision('b')
    host.write('b', burst)
    runFrame()
    host.write('b', burst)
    runFrame()
    expect(revision('b')).toBe(before + 2)
  })

  it('applies less per frame while frames come late, and more again once they are on time', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    const { buffers, sync, clock, runFrame } = setupTimed(host, 8)
    await host.release()
    await sync.ready()
    runFrame()
    for (let i = 0; i < 200; i++) host.write('a', `${i}\n`)
    const perFrame: number[] = []
    let before = 0
    const frameAfter = (gapMs: number): void => {
      clock.advance(gapMs)
      runFrame()
      const lines = buffers.get('a').lineCount
      perFrame.push(lines - before)
      before = lines
    }
    frameAfter(16)
    frameAfter(16)
    frameAfter(LATE_FRAME_MS + 50)
    frameAfter(LATE_FRAME_MS + 50)
    frameAfter(LATE_FRAME_MS + 50)
    for (let i = 0; i < 12; i++) frameAfter(16)
    // On time: the whole budget (8 one-ms steps, one of them the deadline's own reading).
    expect(perFrame.slice(0, 2)).toEqual([7, 7])
    // Late: halved, down to the minimum share.
    expect(perFrame[2]).toBeLessThan(perFrame[1])
    expect(perFrame[4]).toBeLessThan(perFrame[2])
    expect(perFrame[4]).toBeGreaterThanOrEqual(1)
    expect(perFrame[4]).toBeLessThanOrEqual(8 * MIN_BUDGET_SHARE)
    // On time again: back to the whole budget.
    expect(perFrame.at(-1)).toBe(7)
    expect(text(buffers.get('a')).split('|').slice(0, 3)).toEqual(['0', '1', '2'])
  })

  it('applies a large chunk in pieces across frames, with the same lines as at once', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    const { buffers, sync, frames, runFrame } = setupTimed(host, 2)
    await host.release()
    await sync.ready()
    runFrame()
    const lines = Array.from({ length: 20_000 }, (_, i) => `row ${i} ${'z'.repeat(i % 13)}`)
    host.write('a', lines.join('\n') + '\n')
    runFrame()
    const partial = buffers.get('a').lineCount
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(lines.length)
    let guard = 0
    while (frames.length > 0 && guard++ < 1000) runFrame()
    expect(buffers.get('a').lineCount).toBe(lines.length)
    expect(text(buffers.get('a'))).toBe(lines.join('|'))
  })

  it('acknowledges a batch on arrival while little waits, and otherwise only once applied', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    const { buffers, sync, frames, runFrame } = setupTimed(host, 3)
    await host.release()
    await sync.ready()
    runFrame()
    expect(host.deferred).toBe(true)
    const line = 'q'.repeat(1023) + '\n'
    const big = line.repeat(256) // 256 KiB
    const count = ACK_AHEAD_CHARS / big.length + 4
    for (let i = 0; i < count; i++) host.write('a', big)
    // Those that arrived while less than ACK_AHEAD_CHARS waited are acknowledged at once.
    expect(host.applied.length).toBe(ACK_AHEAD_CHARS / big.length)
    let guard = 0
    while (frames.length > 0 && guard++ < 10_000) {
      runFrame()
      // Never acknowledged ahead of what was applied (beyond the allowance).
      const appliedLines = buffers.get('a').lineCount
      const ackedLines = host.applied.length * 256
      expect(ackedLines).toBeLessThanOrEqual(Math.max(appliedLines, ACK_AHEAD_CHARS / 1024))
    }
    expect(host.applied.length).toBe(count)
    // In arrival order, each exactly once.
    expect(host.applied.map((b) => b.chunks[0].seq)).toEqual(
      Array.from({ length: count }, (_, i) => i),
    )
    expect(buffers.get('a').lineCount).toBe(count * 256)
  })

  it('asks for the output of the process on screen first when the page loads, and applies it first', async () => {
    const host = new FakeHost()
    host.processes = [info('a'), info('b'), info('c')]
    for (const id of ['a', 'b', 'c'])
      for (let i = 0; i < 8; i++) host.write(id, 'line\n'.repeat(8000))
    const { store, buffers, sync, runFrame } = setupTimed(host, 3)
    selectProcess(store, 'b')
    await host.releaseNext()
    expect(host.outputCalls.map(([id]) => id)).toEqual(['b', 'a', 'c'])
    // Only the output of the one on screen has come: it applies; the others wait for theirs.
    await host.releaseNext()
    runFrame()
    expect(buffers.get('b').lineCount).toBeGreaterThan(0)
    expect(buffers.peek('a')?.lineCount ?? 0).toBe(0)
    // Everyone's output has come: the one on screen goes on first, however much waits.
    await host.release()
    const before = { a: buffers.get('a').lineCount, b: buffers.get('b').lineCount }
    runFrame()
    expect(buffers.get('b').lineCount).toBeGreaterThan(before.b)
    expect(buffers.get('a').lineCount).toBe(before.a)
    await sync.ready()
    sync.flush()
    // The one on screen has all its output; the others the newest of it (one chunk here) under
    // a marker, until they come on screen.
    expect(buffers.get('b').lineCount).toBe(8 * 8000)
    for (const id of ['a', 'c']) {
      expect(buffers.get(id).lineCount).toBe(8000 + 1)
      expect(buffers.get(id).gaps()).toHaveLength(1)
    }
    host.outputCalls = []
    selectProcess(store, 'a')
    expect(host.outputCalls).toEqual([['a', -1, SNAPSHOT_BYTES]])
    await host.release()
    while (buffers.get('a').gaps().length > 0) {
      runFrame()
      await host.release()
    }
    expect(buffers.get('a').lineCount).toBe(8 * 8000)
  })

  it('gets the newest output of processes not on screen when the page loads, and the rest when they come on screen', async () => {
    const host = new FakeHost()
    host.processes = [info('a'), info('b'), { ...info('t'), terminal: { cols: 80, rows: 24 } }]
    host.write('a', 'a-line\n')
    // 60 chunks of 5,000 lines: 2.4 MB, more than a snapshot of the process on screen holds.
    for (let i = 0; i < 60; i++) host.write('b', `b${i}\n`.padStart(8, '.').repeat(5000))
    const { store, buffers, sync, frames } = setup(host)
    selectProcess(store, 'a')
    const runFrames = async (): Promise<void> => {
      for (let i = 0; i < 100 && frames.length > 0; i++) {
        frames.splice(0).forEach((f) => f())
        await host.release()
      }
    }
    await host.release()
    await sync.ready()
    sync.flush()
    expect(host.outputCalls).toEqual([
      ['a', -1, SNAPSHOT_BYTES],
      ['b', -1, BACKGROUND_SNAPSHOT_BYTES],
      // A terminal replays its output into its emulator: it gets all of it at once.
      ['t', -1, SNAPSHOT_BYTES],
    ])
    const b = buffers.get('b')
    // The newest chunk (40,000 characters fit in 64 KiB, two do not), under a marker that
    // counts the 59 chunks before it.
    expect(b.lineCount).toBe(1 + 5000)
    expect(b.gaps().map((g) => [g.beforeSeq, g.chars])).toEqual([[59, 59 * 40_000]])
    host.outputCalls = []
    selectProcess(store, 'b')
    selectProcess(store, 'a')
    selectProcess(store, 'b')
    // Asked for once: as much as a process on screen at load gets.
    expect(host.outputCalls).toEqual([['b', -1, SNAPSHOT_BYTES]])
    await runFrames()
    // 2 MiB holds the newest 52 chunks; the marker above them counts the 8 left out.
    expect(b.gaps().map((g) => [g.beforeSeq, g.chars])).toEqual([[8, 8 * 40_000]])
    expect(b.lineCount).toBe(1 + 52 * 5000)
    expect(b.line(1).text).toBe('.....b8')
    expect(b.line(b.lineCount - 1).text).toBe('....b59')
  })

  it('applies a quiet process before a flooding one', async () => {
    const host = new FakeHost()
    host.processes = [info('flood'), info('echo')]
    const { buffers, sync, runFrame } = setupTimed(host, 3)
    await host.release()
    await sync.ready()
    runFrame()
    for (let i = 0; i < 50; i++) host.write('flood', 'y\n'.repeat(1000))
    host.write('echo', 'ping\n')
    runFrame()
    expect(text(buffers.get('echo'))).toBe('ping')
    expect(buffers.get('flood').lineCount).toBeLessThan(50_000)
  })

  it('drops the oldest waiting output beyond the queue limit and marks it as a gap', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    const { buffers, sync, runFrame } = setupTimed(host, 3)
    await host.release()
    await sync.ready()
    runFrame()
    const piece = 'w'.repeat(1024 * 1024 - 1) + '\n'
    const n = MAX_QUEUED_CHARS / piece.length + 4
    for (let i = 0; i < n; i++) host.write('a', piece)
    expect(sync.queuedChars()).toBeLessThanOrEqual(MAX_QUEUED_CHARS)
    // Nothing was lost silently: acknowledged, and marked once it applies. What is queued
    // after the jump is more than a catch-up would fetch, so nothing is fetched.
    expect(host.applied.length).toBeGreaterThanOrEqual(4)
    host.outputCalls = []
    sync.flush()
    expect(host.outputCalls).toEqual([])
    const buf = buffers.get('a')
    expect(buf.gaps().length).toBe(1)
    expect(buf.lastSeq).toBe(n - 1)
    expect(sync.queuedChars()).toBe(0)
  })
})
