/**
 * Keeps the store and output buffers in step with the host. Events are subscribed to before
 * anything is fetched, and live output is held back while snapshots are in flight; sequence
 * numbers then make the merge exact (no duplicate, no gap) at startup and after a reconnect.
 */
import type { CorralBridge, OutputBatch, ProcessId } from '../../../shared/contract'
import type { ConnectionState } from '../bridge'
import {
  bumpRevisions,
  bumpRunsRevision,
  removeProcess,
  setConnection,
  setHostInfo,
  setOrphans,
  setProcessList,
  upsertProcess,
  type AppStore,
} from './app-store'
import type { OutputBuffers } from './output-buffers'
import { feedTerminal, pruneTerminalFeeds, terminalFeeds } from './terminal-feeds'

/** The parts of the renderer bridge the sync needs. */
export interface SyncBridge extends Pick<
  CorralBridge,
  'on' | 'list' | 'output' | 'hostInfo' | 'orphans'
> {
  connectionState(): ConnectionState
  onConnection(listener: (state: ConnectionState) => void): () => void
}

export interface SyncOptions {
  bridge: SyncBridge
  store: AppStore
  buffers: OutputBuffers
  /** Runs a callback before the next paint; `requestAnimationFrame` in the page. */
  scheduleFrame?: (callback: () => void) => void
  /** Called when a fetch fails (the next reconnect retries). */
  onError?: (err: unknown) => void
}

export interface Sync {
  /** Resolves when the current synchronisation has been applied. */
  ready(): Promise<void>
  /** Apply pending revision bumps now (tests, and before reading state synchronously). */
  flush(): void
  dispose(): void
}

/**
 * A hidden page gets no animation frames; the timer makes sure revisions still land (cheaply,
 * since nothing renders) so the view is current the moment the page shows again.
 */
const FRAME_FALLBACK_MS = 250

function defaultScheduleFrame(callback: () => void): void {
  let done = false
  const run = (): void => {
    if (done) return
    done = true
    callback()
  }
  requestAnimationFrame(run)
  setTimeout(run, FRAME_FALLBACK_MS)
}

export function startSync(options: SyncOptions): Sync {
  const { bridge, store, buffers, onError } = options
  const scheduleFrame = options.scheduleFrame ?? defaultScheduleFrame

  const dirty = new Set<ProcessId>()
  let frameScheduled = false
  const flush = (): void => {
    frameScheduled = false
    if (dirty.size === 0) return
    const ids = [...dirty].filter((id) => id in store.getState().processes)
    dirty.clear()
    if (ids.length > 0) bumpRevisions(store, ids)
  }
  const markDirty = (id: ProcessId): void => {
    dirty.add(id)
    if (!frameScheduled) {
      frameScheduled = true
      scheduleFrame(flush)
    }
  }

  /** Output that arrived while a synchronisation was fetching snapshots. */
  let held: OutputBatch[] | null = null
  let generation = 0
  let needResync = false
  /** The connection closed since the last synchronisation started. */
  let dropped = false
  let current: Promise<void> = Promise.resolve()

  /** Live output held per process while a catch-up fetch for it is in flight. */
  const catchingUp = new Map<ProcessId, OutputBatch[]>()

  const applyBatch = (batch: OutputBatch): void => {
    const queued = catchingUp.get(batch.id)
    if (queued) {
      queued.push(batch)
      return
    }
    // Output of a process the page does not know is from one just removed. (Were it from one
    // not yet announced, the next batch's sequence jump would fetch it.)
    if (!(batch.id in store.getState().processes)) return
    const buf = buffers.get(batch.id)
    const first = batch.chunks[0]
    if (first && first.seq > buf.lastSeq + 1) {
      // Chunks are numbered densely, so a jump means events were missed (a host may skip a
      // slow client's output): fetch the difference before applying anything newer.
      catchUp(batch)
      return
    }
    let changed = false
    for (const chunk of batch.chunks) changed = buf.apply(chunk) || changed
    feedTerminal(store, batch.id, batch.chunks)
    if (changed) markDirty(batch.id)
  }

  const catchUp = (batch: OutputBatch): void => {
    const { id } = batch
    catchingUp.set(id, [batch])
    const last = buffers.get(id).lastSeq
    ;(last >= 0 ? bridge.output(id, last) : bridge.output(id))
      .then((snap) => {
        if (id in store.getState().processes) {
          buffers.get(id).applySnapshot(snap)
          feedTerminal(store, id, snap.chunks)
        }
      })
      .catch(() => {
        // Safe to ignore: the process is gone or the connection dropped, and a reconnect
        // resynchronises everything anyway. The held chunks are still applied below.
      })
      .finally(() => {
        const pending = catchingUp.get(id) ?? []
        catchingUp.delete(id)
        if (!(id in store.getState().processes)) return
        const buf = buffers.get(id)
        for (const b of pending) for (const chunk of b.chunks) buf.apply(chunk)
        for (const b of pending) feedTerminal(store, id, b.chunks)
        markDirty(id)
      })
  }

  const synchronise = async (): Promise<void> => {
    const gen = ++generation
    held ??= []
    if (!store.getState().hostInfo) {
      bridge
        .hostInfo()
        .then((info) => setHostInfo(store, info))
        .catch((err: unknown) => onError?.(err))
    }
    // Orphans can only disappear (ended elsewhere) while the page was away; ask again.
    bridge
      .orphans()
      .then((orphans) => {
        if (gen === generation) setOrphans(store, orphans)
      })
      .catch((err: unknown) => onError?.(err))
    try {
      const list = await bridge.list()
      if (gen !== generation) return
      setProcessList(store, list)
      const known = new Set(list.map((p) => p.id))
      for (const id of buffers.ids()) if (!known.has(id)) buffers.delete(id)
      pruneTerminalFeeds(known)
      const snapshots = await Promise.all(
        list.map((p) => {
          const last = buffers.peek(p.id)?.lastSeq ?? -1
          return (last >= 0 ? bridge.output(p.id, last) : bridge.output(p.id)).catch(
            // The process was removed after the list was taken; its `removed` event follows.
            () => null,
          )
        }),
      )
      if (gen !== generation) return
      for (const snap of snapshots) {
        if (!snap || !(snap.id in store.getState().processes)) continue
        buffers.get(snap.id).applySnapshot(snap)
        feedTerminal(store, snap.id, snap.chunks)
        markDirty(snap.id)
      }
      const pending = held ?? []
      held = null
      needResync = false
      for (const batch of pending) applyBatch(batch)
    } catch (err) {
      if (gen !== generation) return
      // Calls fail when the connection drops; release held output and retry on reconnect.
      const pending = held ?? []
      held = null
      needResync = true
      for (const batch of pending) applyBatch(batch)
      onError?.(err)
    }
  }

  const unsubscribers = [
    bridge.on('status', (info) => upsertProcess(store, info)),
    bridge.on('removed', ({ id }) => {
      removeProcess(store, id)
      buffers.delete(id)
      terminalFeeds.delete(id)
    }),
    bridge.on('runs', ({ id }) => bumpRunsRevision(store, id)),
    bridge.on('orphans', (orphans) => setOrphans(store, orphans)),
    bridge.on('output', (batch) => {
      if (held) held.push(batch)
      else applyBatch(batch)
    }),
    bridge.onConnection((state) => {
      setConnection(store, state)
      if (state === 'closed') dropped = true
      else if (state === 'open' && (dropped || needResync)) {
        // Events sent while the connection was down are not replayed: fetch what was missed.
        dropped = false
        current = synchronise()
      }
    }),
  ]

  setConnection(store, bridge.connectionState())
  current = synchronise()

  return {
    ready: () => current,
    flush,
    dispose: () => {
      for (const off of unsubscribers) off()
    },
  }
}
