import { useEffect } from 'react'
import { COMMAND_INPUT_ID, NewProcessForm } from './components/NewProcessForm'
import { ConnectionBanner } from './components/ConnectionBanner'
import { EmptyState } from './components/EmptyState'
import { HostWarnings } from './components/HostWarnings'
import { OrphansBanner } from './components/OrphansBanner'
import { ProcessList } from './components/ProcessList'
import { ProcessView } from './components/ProcessView'
import { isModKey } from './lib/keys'
import { appStore, selectRelative, useApp } from './store/app-store'

/** Shortcuts that work wherever focus is; each is also named in its control's title. */
function onGlobalKeyDown(event: KeyboardEvent): void {
  if (isModKey(event) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'k') {
    event.preventDefault()
    const input = document.getElementById(COMMAND_INPUT_ID)
    if (input instanceof HTMLTextAreaElement || input instanceof HTMLInputElement) {
      input.focus()
      input.select()
    }
  } else if (
    event.altKey &&
    !isModKey(event) &&
    (event.key === 'ArrowUp' || event.key === 'ArrowDown')
  ) {
    event.preventDefault()
    selectRelative(appStore, event.key === 'ArrowUp' ? -1 : 1)
  }
}

export function App() {
  const selectedId = useApp((s) => s.selectedId)
  const hasProcesses = useApp((s) => s.order.length > 0)

  useEffect(() => {
    window.addEventListener('keydown', onGlobalKeyDown)
    return () => window.removeEventListener('keydown', onGlobalKeyDown)
  }, [])

  return (
    <div className="app">
      <ConnectionBanner />
      <HostWarnings />
      <OrphansBanner />
      <div className="layout">
        <aside className="sidebar">
          <NewProcessForm />
          <ProcessList />
        </aside>
        <main className="main">
          {selectedId !== null && hasProcesses ? (
            <ProcessView key={selectedId} id={selectedId} />
          ) : (
            <EmptyState />
          )}
        </main>
      </div>
    </div>
  )
}
