import { useEffect, useState } from 'react'
import type { ProcessId, RunInfo } from '../../../shared/contract'
import { errorMessage, getBridge } from '../bridge'
import { pastRunOutput, pastRunTitle, type PastRunOutput } from '../store/run-helpers'
import { OutputView } from './OutputView'

interface PastRunViewProps {
  id: ProcessId
  run: RunInfo
  onBackToLive: () => void
  onAllRuns: () => void
}

/**
 * One finished run's output, read back from its log on disk and laid out exactly like live
 * output. A finished run never changes, so it is fetched once.
 */
export function PastRunView({ id, run, onBackToLive, onAllRuns }: PastRunViewProps) {
  const [buffer, setBuffer] = useState<PastRunOutput | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    let current = true
    getBridge()
      .runOutput(id, run.runId)
      .then((out) => {
        if (current) setBuffer(pastRunOutput(out))
      })
      .catch((err: unknown) => {
        if (current) setError(errorMessage(err))
      })
    return () => {
      current = false
    }
  }, [id, run.runId])

  const title = pastRunTitle(run, (ms) => new Date(ms).toLocaleTimeString())

  return (
    <div className="past-run">
      <div className="past-run-bar">
        <h2 className="past-run-title" title={new Date(run.startedAt).toLocaleString()}>
          {title}
        </h2>
        <button type="button" className="button small" onClick={onAllRuns}>
          All runs
        </button>
        <button type="button" className="button small" onClick={onBackToLive}>
          Back to live output
        </button>
      </div>
      {error ? (
        <p className="panel-message form-error" role="alert">
          Could not read run #{run.number}: {error}
        </p>
      ) : buffer === null ? (
        <p className="panel-message">Reading run #{run.number}…</p>
      ) : (
        <OutputView
          key={run.runId}
          id={id}
          buffer={buffer}
          label="Run output"
          emptyText="This run wrote no output."
        />
      )}
    </div>
  )
}
