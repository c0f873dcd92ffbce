import { useEffect, useState } from 'react'
import type { ProcessId, RunInfo } from '../../../shared/contract'
import { formatDuration } from '../../../shared/describe'
import { errorMessage, getBridge } from '../bridge'
import { useNow } from '../lib/use-now'
import { useApp } from '../store/app-store'
import {
  endReasonLabel,
  formatBytes,
  runLasted,
  runOutcome,
  startReasonLabel,
} from '../store/run-helpers'

/** How often the sizes in the list are refreshed while a run is live. */
const LIVE_REFRESH_MS = 2000

interface RunsPanelProps {
  id: ProcessId
  /** Open a run that has ended. */
  onOpenRun: (run: RunInfo) => void
  /** Show the current run, which is the live output. */
  onOpenLive: () => void
}

/** The runs of a process kept on disk, newest first; refetched whenever the host says they changed. */
export function RunsPanel({ id, onOpenRun, onOpenLive }: RunsPanelProps) {
  const runsRevision = useApp((s) => s.runsRevision[id] ?? 0)
  const [runs, setRuns] = useState<RunInfo[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const live = runs?.some((r) => r.endedAt === null) ?? false
  const now = useNow(live, 1000)
  // The host announces a run when it starts and ends; in between only its size changes, which
  // is worth a cheap refetch now and then while the list is on screen.
  const [poll, setPoll] = useState(0)
  useEffect(() => {
    if (!live) return
    const timer = setInterval(() => setPoll((n) => n + 1), LIVE_REFRESH_MS)
    return () => clearInterval(timer)
  }, [live])

  useEffect(() => {
    let current = true
    getBridge()
      .runs(id)
      .then((list) => {
        if (!current) return
        setRuns(list)
        setError(null)
      })
      .catch((err: unknown) => {
        if (current) setError(errorMessage(err))
      })
    // A slower, older answer must not replace a newer one.
    return () => {
      current = false
    }
  }, [id, runsRevision, poll])

  if (error) {
    return (
      <p className="panel-message form-error" role="alert">
        Could not load the runs: {error}
      </p>
    )
  }
  if (runs === null) return <p className="panel-message">Loading runs…</p>
  if (runs.length === 0) {
    return (
      <p className="panel-message">
        No runs yet. Each start is recorded here with its output, kept on disk.
      </p>
    )
  }

  return (
    <div className="runs-scroll">
      <table className="runs-table" aria-label="Runs">
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Outcome</th>
            <th scope="col">Started by</th>
            <th scope="col">Ended by</th>
            <th scope="col" className="num">
              Output
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const current = run.endedAt === null
            const open = (): void => (current ? onOpenLive() : onOpenRun(run))
            const started = new Date(run.startedAt)
            return (
              <tr
                key={run.runId}
                className={current ? 'run-row current' : 'run-row'}
                onClick={open}
              >
                <td>
                  <button
                    type="button"
                    className="link-button"
                    onClick={(e) => {
                      // The row's own click handler opens it too; open once.
                      e.stopPropagation()
                      open()
                    }}
                    title={current ? 'Show the live output' : 'Show this run’s output'}
                  >
                    Run #{run.number}
                  </button>
                  {current && <span className="tag live">live</span>}
                </td>
                <td title={started.toLocaleString()}>{started.toLocaleTimeString()}</td>
                <td className="mono-num">{formatDuration(runLasted(run, now))}</td>
                <td className={run.exit?.kind === 'code' && run.exit.code === 0 ? '' : 'outcome'}>
                  {runOutcome(run)}
                </td>
                <td>{startReasonLabel(run.startReason)}</td>
                <td>{endReasonLabel(run.endReason)}</td>
                <td className="num mono-num">{formatBytes(run.bytes)}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}
