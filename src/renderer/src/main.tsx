import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { getBridge } from './bridge'
import { appStore } from './store/app-store'
import { outputBuffers } from './store/output-buffers'
import { startSync } from './store/sync'
import { hardenWindow } from './lib/harden'
import { installDiagnostics } from './lib/diagnostics'
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

// The first time of day a page formats ("running since 14:03:07") costs about 18 ms while
// ICU loads its locale data: done once while the page is idle, not in the frame that shows a
// process just started.
if (typeof requestIdleCallback === 'function') {
  requestIdleCallback(() => new Date(0).toLocaleTimeString())
}
