import type { ProcessId } from '../../../shared/contract'
import { describeStatus, formatDuration } from '../../../shared/describe'
import { useNow } from '../lib/use-now'
import { useApp } from '../store/app-store'
import { isTicking, killCountdown, runDuration, stateTone } from '../store/process-helpers'
import { StateDot } from './StateDot'

/** Name, command line and live status of the selected process. */
export function ProcessHeader({ id }: { id: ProcessId }) {
  const info = useApp((s) => s.processes[id])
  const now = useNow(info ? isTicking(info) : false)
  if (!info) return null
  const duration = runDuration(info, now)
  const countdown = killCountdown(info, now)
  const status = describeStatus(info)
  // A live run's status is just its state, which the badge shows; say since when instead.
  const statusText =
    countdown !== null
      ? `stopping — SIGKILL in ${countdown} s`
      : status === info.state && info.startedAt !== null
        ? `${status} since ${new Date(info.startedAt).toLocaleTimeString()}`
        : status
  return (
    <header className="process-header">
      <div className="process-header-top">
        <StateDot info={info} />
        <h1 className="process-title">{info.name}</h1>
        <span className={`badge tone-${stateTone(info)}`}>{info.state}</span>
        <dl className="facts">
          {info.pid !== null && (
            <div>
              <dt>pid</dt>
              <dd>{info.pid}</dd>
            </div>
          )}
          {duration !== null && (
            <div title={isTicking(info) ? 'Running for' : 'Last run lasted'}>
              <dt>time</dt>
              <dd className="duration">{formatDuration(duration)}</dd>
            </div>
          )}
          {info.runCount > 1 && (
            <div>
              <dt>run</dt>
              <dd>#{info.runCount}</dd>
            </div>
          )}
        </dl>
      </div>
      <div
        className="process-command mono"
        title={info.spec.cwd ? `in ${info.spec.cwd}` : undefined}
      >
        <span className="prompt" aria-hidden="true">
          {info.spec.shell ? 'sh$' : '$'}
        </span>
        <span className="command-text">{info.spec.command}</span>
        {info.spec.cwd && <span className="cwd">in {info.spec.cwd}</span>}
      </div>
      <p className={`process-status tone-${stateTone(info)}`} role="status">
        {statusText}
      </p>
    </header>
  )
}
