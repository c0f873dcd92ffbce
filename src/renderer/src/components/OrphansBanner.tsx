import { useState } from 'react'
import { oneLineCommand } from '../../../shared/describe'
import { errorMessage, getBridge } from '../bridge'
import { appStore, setOrphans, useApp } from '../store/app-store'

/**
 * Process groups an earlier life of Corral started and could not end (it was killed along
 * with its watchdog). They are reported, never silently adopted or left behind.
 */
export function OrphansBanner() {
  const orphans = useApp((s) => s.orphans)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  if (orphans.length === 0) return null

  const endThem = async (): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      const left = await getBridge().endOrphans()
      setOrphans(appStore, left)
      if (left.length > 0) setError('Some of them are still running.')
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  const n = orphans.length
  return (
    <div className="banner banner-warn" role="alert">
      <div className="banner-body">
        <p className="banner-title">
          {n === 1
            ? '1 process from a previous session is still running'
            : `${n} processes from a previous session are still running`}
        </p>
        <ul className="orphan-list" aria-label="Processes from a previous session">
          {orphans.map((o) => (
            <li key={o.pgid}>
              <strong>{o.name}</strong> <code>{oneLineCommand(o.command)}</code>{' '}
              <span className="muted">
                {o.pids.length === 1 ? 'pid' : 'pids'} {o.pids.join(', ')} · started{' '}
                {new Date(o.startedAt).toLocaleString()}
              </span>
            </li>
          ))}
        </ul>
        {error && <p className="banner-error">{error}</p>}
      </div>
      <button
        type="button"
        className="button small"
        disabled={busy}
        onClick={() => void endThem()}
        title="Send each group its stop signal, then SIGKILL after the grace period"
      >
        {busy ? 'Ending…' : 'End them'}
      </button>
    </div>
  )
}
