import { useState } from 'react'
import { useApp } from '../store/app-store'

/** Problems the host found at startup (an invalid definitions file…), as it worded them. */
export function HostWarnings() {
  const warnings = useApp((s) => s.hostInfo?.warnings)
  const [dismissed, setDismissed] = useState(false)
  if (dismissed || !warnings || warnings.length === 0) return null
  return (
    <div className="banner banner-warn" role="alert">
      <div className="banner-body">
        <p className="banner-title">Corral started with a problem</p>
        <ul className="warning-list">
          {warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      </div>
      <button
        type="button"
        className="button small"
        onClick={() => setDismissed(true)}
        aria-label="Dismiss warnings"
        title="Hide these warnings until Corral starts again"
      >
        Dismiss
      </button>
    </div>
  )
}
