import { describe, expect, it } from 'vitest'
import type {
  CorralEvents,
  EventName,
  HostInfo,
  OrphanGroup,
  OutputChunk,
  OutputSnapshot,
  ProcessId,
  ProcessInfo,
} from '../../../shared/contract'
import type { ConnectionState } from '../bridge'
import { createAppStore } from './app-store'
import { OutputBuffers, type ProcessOutput } from './output-buffers'
import { startSync, type SyncBridge } from './sync'

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
  outputCalls: [ProcessId, number | undefined][] = []

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
  output(id: ProcessId, afterSeq?: number): Promise<OutputSnapshot> {
    this.outputCalls.push([id, afterSeq])
    const all = this.chunks.get(id) ?? []
    const snap = all.filter((c) => c.seq > (afterSeq ?? -1))
    return this.gated(() => ({ id, chunks: snap, firstSeq: all[0]?.seq ?? 0, droppedChars: 0 }))
  }
  /** Produce output: retained by the host and pushed as an event. */
  write(id: ProcessId, data: string): void {
    const list = this.chunks.get(id) ?? []
    const chunk: OutputChunk = { seq: list.length, stream: 'stdout', data, time: 0 }
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
    expect(host.outputCalls).toEqual([
      ['a', 0],
      ['b', undefined],
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
})

describe('startSync catch-up', () => {
  it('fetches missed output when a live batch skips sequence numbers', async () => {
    const host = new FakeHost()
    host.processes = [info('a')]
    host.write('a', 'one\n')
    const { buffers, sync } = setup(host)
    await host.release()
    await sync.ready()
    // The host retains two chunks the page never receives as events...
    const list = host.chunks.get('a') ?? []
    list.push({ seq: 1, stream: 'stdout', data: 'two\n', time: 0 })
    list.push({ seq: 2, stream: 'stderr', data: 'three\n', time: 0 })
    host.outputCalls = []
    // ...then the next event arrives, and more while the catch-up is in flight.
    host.write('a', 'four\n')
    host.write('a', 'five\n')
    expect(host.outputCalls).toEqual([['a', 0]])
    expect(text(buffers.peek('a'))).toBe('one')
    await host.release()
    expect(text(buffers.peek('a'))).toBe('one|two|three|four|five')
  })

  it('ignores output for a process it does not know', async () => {
    const host = new FakeHost()
    const { buffers, sync } = setup(host)
    await host.release()
    await sync.ready()
    host.write('ghost', 'boo\n')
    expect(buffers.peek('ghost')).toBeUndefined()
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
