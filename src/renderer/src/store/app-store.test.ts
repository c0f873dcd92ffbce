import { describe, expect, it } from 'vitest'
import type { ProcessInfo } from '../../../shared/contract'
import {
  addProcessIfUnknown,
  askedFrom,
  createAppStore,
  removeProcess,
  selectCreated,
  selectProcess,
  selectRelative,
  selectStarted,
  setProcessList,
} from './app-store'

const info = (id: string): ProcessInfo =>
  ({ id, name: id, state: 'running', spec: { command: 'true' } }) as unknown as ProcessInfo

describe('selecting a process the host has just started or saved', () => {
  const focus = {} as Element

  it('selects it and asks its input to take the focus when the user stayed where they were', () => {
    const store = createAppStore()
    addProcessIfUnknown(store, info('a'))
    selectProcess(store, 'a')
    const from = askedFrom(store, focus)
    addProcessIfUnknown(store, info('b'))
    selectStarted(store, 'b', from)
    expect(store.getState().selectedId).toBe('b')
    expect(store.getState().stdinFocusRequest).toEqual({ id: 'b', from: focus })
  })

  it('leaves the selection alone when the user chose a process before the answer', () => {
    const store = createAppStore()
    for (const id of ['a', 'c']) addProcessIfUnknown(store, info(id))
    selectProcess(store, 'a')
    const from = askedFrom(store, focus)
    // The user clicks "c" in the list while the start is on its way.
    selectProcess(store, 'c')
    addProcessIfUnknown(store, info('b'))
    selectStarted(store, 'b', from)
    expect(store.getState().selectedId).toBe('c')
    expect(store.getState().stdinFocusRequest).toBeNull()
    expect(store.getState().order).toContain('b')

    const saved = askedFrom(store, null)
    selectRelative(store, -1)
    selectCreated(store, 'd', saved)
    expect(store.getState().selectedId).toBe('a')
  })

  it('selects it when only the page changed the selection meanwhile', () => {
    const store = createAppStore()
    // Run pressed before the host's list arrived; the list selects its last process.
    const from = askedFrom(store, focus)
    setProcessList(store, [info('old'), info('older')])
    expect(store.getState().selectedId).toBe('older')
    addProcessIfUnknown(store, info('new'))
    removeProcess(store, 'older')
    selectStarted(store, 'new', from)
    expect(store.getState().selectedId).toBe('new')
    expect(store.getState().stdinFocusRequest).toEqual({ id: 'new', from: focus })
  })

  it('of two Runs pressed in a row, selects the second one answered', () => {
    const store = createAppStore()
    const first = askedFrom(store, focus)
    const second = askedFrom(store, focus)
    for (const id of ['p1', 'p2']) addProcessIfUnknown(store, info(id))
    selectStarted(store, 'p1', first)
    selectStarted(store, 'p2', second)
    expect(store.getState().selectedId).toBe('p2')
  })

  it('selects a saved process, without a focus request, when the user did not move on', () => {
    const store = createAppStore()
    const from = askedFrom(store, null)
    addProcessIfUnknown(store, info('d'))
    addProcessIfUnknown(store, info('e'))
    selectCreated(store, 'e', from)
    expect(store.getState().selectedId).toBe('e')
    expect(store.getState().stdinFocusRequest).toBeNull()
  })
})
