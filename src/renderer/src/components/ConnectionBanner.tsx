import { useApp } from '../store/app-store'

/** Shown while the page has lost its connection to the host and is trying to get it back. */
export function ConnectionBanner() {
  const lost = useApp((s) => s.everConnected && s.connection !== 'open')
  if (!lost) return null
  return (
    <div className="connection-banner" role="status">
      <span className="spinner" aria-hidden="true" />
      Disconnected — reconnecting…
    </div>
  )
}
