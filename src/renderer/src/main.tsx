import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { getBridge } from './bridge'
import { appStore } from './store/app-store'
import { outputBuffers } from './store/output-buffers'
import { startSync } from './store/sync'
import { hardenWindow } from './lib/harden'
import { installDiagnostics } from './lib/diagnostics'
import { warmUpFirstView } from './lib/warm-up'
import './styles.css'

hardenWindow()

// Started outside React so subscriptions exist before the first fetch and are never doubled
// by StrictMode's effect replays.
const sync = startSync({
  bridge: getBridge(),
  store: appStore,
  buffers: outputBuffers,
  onError: (err) => console.warn('Corral: synchronisation failed; retrying on reconnect.', err),
})
installDiagnostics(
  outputBuffers,
  () => sync.queuedChars(),
  (id) => appStore.getState().processes[id]?.name ?? null,
)

const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root element')
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
)

// What the first view of a process would do in the frame that shows it (see warm-up.ts), done
// while the page is idle instead.
if (typeof requestIdleCallback === 'function') {
  requestIdleCallback(() => warmUpFirstView())
}
