/**
 * The renderer's reactive state: small, slowly changing facts only. Output text lives in
 * `output-buffers.ts`; here each process has just a revision number that is bumped (at most
 * once per frame) when its buffer changed. Every update replaces the maps it touches so
 * atomic selectors such as `(s) => s.revision[id]` see a change exactly when one happened.
 */
import { createStore, useStore, type StoreApi } from 'zustand'
import type { HostInfo, OrphanGroup, ProcessId, ProcessInfo } from '../../../shared/contract'
import type { ConnectionState } from '../bridge'

export interface AppState {
  processes: Record<ProcessId, ProcessInfo>
  /** Process ids, oldest first, as the host lists them. */
  order: ProcessId[]
  selectedId: ProcessId | null
  revision: Record<ProcessId, number>
  /** Bumped when a process's list of runs changed, so an open runs list fetches it again. */
  runsRevision: Record<ProcessId, number>
  /** Process groups an earlier life of Corral left running. */
  orphans: OrphanGroup[]
  connection: ConnectionState
  /** Whether the connection was ever open; a later drop shows the reconnect banner. */
  everConnected: boolean
  hostInfo: HostInfo | null
  /**
   * A just-started process whose stdin box should take focus as soon as it can, and where the
   * focus was when that was asked (`from`). The request lapses if the focus has moved on by the
   * time the box can take it: typing into the next command must not jump to the stdin box.
   */
  stdinFocusRequest: { id: ProcessId; from: Element | null } | null
  /**
   * How many times a process was selected by the user (a click, a shortcut, a new process of
   * theirs), not by the page (the first process to arrive, the host's list after a reconnect,
   * a neighbour of a removed one): what tells whether they moved on while a start was answered.
   */
  userSelections: number
}

export type AppStore = StoreApi<AppState>

export function createAppStore(): AppStore {
  return createStore<AppState>()(() => ({
    processes: {},
    order: [],
    selectedId: null,
    revision: {},
    runsRevision: {},
    orphans: [],
    connection: 'connecting',
    everConnected: false,
    hostInfo: null,
    stdinFocusRequest: null,
    userSelections: 0,
  }))
}

/** The store behind this page's UI. */
export const appStore = createAppStore()

/** Select from the app store; keep selectors atomic (one value, no new objects). */
export function useApp<T>(selector: (state: AppState) => T): T {
  return useStore(appStore, selector)
}

/** Add or update one process (from a `status` event). */
export function upsertProcess(store: AppStore, info: ProcessInfo): void {
  store.setState((s) => {
    const known = info.id in s.processes
    return {
      processes: { ...s.processes, [info.id]: info },
      order: known ? s.order : [...s.order, info.id],
      selectedId: s.selectedId ?? info.id,
    }
  })
}

/** Add a process only if no event has described it yet (a command's result can be stale). */
export function addProcessIfUnknown(store: AppStore, info: ProcessInfo): void {
  if (!(info.id in store.getState().processes)) upsertProcess(store, info)
}

/** Replace everything with the host's list (initial load and after a reconnect). */
export function setProcessList(store: AppStore, list: ProcessInfo[]): void {
  store.setState((s) => {
    const processes: Record<ProcessId, ProcessInfo> = {}
    for (const info of list) processes[info.id] = info
    const order = list.map((p) => p.id)
    const selectedId =
      s.selectedId !== null && s.selectedId in processes
        ? s.selectedId
        : (order[order.length - 1] ?? null)
    const revision: Record<ProcessId, number> = {}
    for (const id of order) revision[id] = s.revision[id] ?? 0
    // Runs may have changed while the page was not listening: every runs list refetches.
    const runsRevision: Record<ProcessId, number> = {}
    for (const id of order) runsRevision[id] = (s.runsRevision[id] ?? 0) + 1
    return { processes, order, selectedId, revision, runsRevision }
  })
}

/** Forget a process; selection moves to its neighbour. */
export function removeProcess(store: AppStore, id: ProcessId): void {
  store.setState((s) => {
    if (!(id in s.processes)) return s
    const processes = { ...s.processes }
    delete processes[id]
    const revision = { ...s.revision }
    delete revision[id]
    const runsRevision = { ...s.runsRevision }
    delete runsRevision[id]
    const index = s.order.indexOf(id)
    const order = s.order.filter((x) => x !== id)
    let selectedId = s.selectedId
    if (selectedId === id) selectedId = order[Math.min(index, order.length - 1)] ?? null
    return {
      processes,
      order,
      revision,
      runsRevision,
      selectedId,
      stdinFocusRequest: s.stdinFocusRequest?.id === id ? null : s.stdinFocusRequest,
    }
  })
}

/** Bump the revision of every process in `ids` in one update. */
export function bumpRevisions(store: AppStore, ids: Iterable<ProcessId>): void {
  store.setState((s) => {
    const revision = { ...s.revision }
    for (const id of ids) revision[id] = (revision[id] ?? 0) + 1
    return { revision }
  })
}

/** Note that the runs of `id` changed (a `runs` event). */
export function bumpRunsRevision(store: AppStore, id: ProcessId): void {
  store.setState((s) => {
    if (!(id in s.processes)) return s
    return { runsRevision: { ...s.runsRevision, [id]: (s.runsRevision[id] ?? 0) + 1 } }
  })
}

export function setOrphans(store: AppStore, orphans: OrphanGroup[]): void {
  store.setState({ orphans })
}

/** The user selects `id` (or nothing). */
export function selectProcess(store: AppStore, id: ProcessId | null): void {
  store.setState((s) => ({
    selectedId: id,
    userSelections: s.userSelections + 1,
    stdinFocusRequest: s.stdinFocusRequest?.id === id ? s.stdinFocusRequest : null,
  }))
}

/** Move the selection by `delta` places in the list, stopping at either end. */
export function selectRelative(store: AppStore, delta: number): void {
  const { order, selectedId } = store.getState()
  if (order.length === 0) return
  const index = selectedId === null ? -1 : order.indexOf(selectedId)
  const next = index < 0 ? (delta > 0 ? 0 : order.length - 1) : index + delta
  selectProcess(store, order[Math.max(0, Math.min(order.length - 1, next))])
}

export function setConnection(store: AppStore, connection: ConnectionState): void {
  store.setState((s) => ({
    connection,
    everConnected: s.everConnected || connection === 'open',
  }))
}

export function setHostInfo(store: AppStore, hostInfo: HostInfo): void {
  store.setState({ hostInfo })
}

/**
 * Where the user was when Run (or Save) was pressed: how many selections they had made, and
 * what had the focus. The host answers after a round trip, and by then they may have moved on.
 * The answers themselves do not count as the user's selections: of two Runs pressed in a row,
 * the second one's process ends up selected.
 */
export interface AskedFrom {
  userSelections: number
  focus: Element | null
}

/** Where the user is now, for {@link selectStarted} and {@link selectCreated}. */
export function askedFrom(store: AppStore, focus: Element | null): AskedFrom {
  return { userSelections: store.getState().userSelections, focus }
}

/** Whether the user has selected a process since `from`. */
function movedOn(store: AppStore, from: AskedFrom): boolean {
  return store.getState().userSelections !== from.userSelections
}

/**
 * Select a just-started process and ask its stdin box to take focus, unless the focus has left
 * where it was when the start was asked by then (see `takeRequestedFocus`). If the user has
 * selected another process meanwhile, neither happens: the new process shows in the list, and
 * the view they chose stays on screen.
 */
export function selectStarted(store: AppStore, id: ProcessId, from: AskedFrom): void {
  if (movedOn(store, from)) return
  store.setState({ selectedId: id, stdinFocusRequest: { id, from: from.focus } })
}

/** Select a just-saved process, unless the user has selected another one meanwhile. */
export function selectCreated(store: AppStore, id: ProcessId, from: AskedFrom): void {
  if (movedOn(store, from)) return
  store.setState({ selectedId: id, stdinFocusRequest: null })
}

export function clearStdinFocusRequest(store: AppStore): void {
  store.setState({ stdinFocusRequest: null })
}
