import type { ProcessId, ProcessInfo, ProcessSpec } from '../../../shared/contract'
import { describeStatus, formatDuration, oneLineCommand } from '../../../shared/describe'
import { getBridge } from '../bridge'
import { useNow } from '../lib/use-now'
import { useApp } from '../store/app-store'
import {
  attemptText,
  isTicking,
  killCountdown,
  needsClock,
  policyGaveUp,
  retryCountdown,
  runDuration,
  stateTone,
} from '../store/process-helpers'
import { ProcessActions } from './ProcessActions'
import { StateDot } from './StateDot'
import { useAction } from '../lib/use-action'

/** The one-line status under the command: what happened last and what happens next. */
function statusLine(info: ProcessInfo, now: number): string {
  const status = describeStatus(info)
  const kill = killCountdown(info, now)
  if (kill !== null) return `stopping — SIGKILL in ${kill} s`
  const retry = retryCountdown(info, now)
  if (retry !== null) return `${status} — restarting in ${retry} s · ${attemptText(info)}`
  if (policyGaveUp(info)) {
    return `${status} — gave up after ${info.failedStarts} failed starts in a row; Restart tries again`
  }
  if (info.runCount === 0) return info.saved ? 'saved, not started yet' : status
  // A live run's status is just its state, which the badge shows; say since when instead.
  if (status === info.state && info.startedAt !== null) {
    return `${status} since ${new Date(info.startedAt).toLocaleTimeString()}`
  }
  return status
}

/**
 * The names of the variables the process's spec sets or unsets, so that an environment is
 * never a surprise (the New process form keeps its fields for the next process). Names
 * only: values are often secrets, and the header is on screen.
 */
function EnvChanges({ env }: { env: ProcessSpec['env'] }) {
  const entries = Object.entries(env ?? {})
  if (entries.length === 0) return null
  const set = entries.filter(([, v]) => v !== null).map(([k]) => k)
  const unset = entries.filter(([, v]) => v === null).map(([k]) => k)
  const parts = [
    ...(set.length > 0 ? [`sets ${set.join(', ')}`] : []),
    ...(unset.length > 0 ? [`unsets ${unset.join(', ')}`] : []),
  ]
  const text = `env: ${parts.join('; ')}`
  return (
    <span className="env-changes" title={text}>
      {text}
    </span>
  )
}

/** Name, command line, live status and definition actions of the selected process. */
export function ProcessHeader({ id, onEdit }: { id: ProcessId; onEdit: () => void }) {
  const info = useApp((s) => s.processes[id])
  const now = useNow(info ? needsClock(info) : false)
  const { error, act } = useAction()
  if (!info) return null

  const duration = runDuration(info, now)
  const policy = info.spec.restart ?? 'never'
  return (
    <header className="process-header">
      <div className="process-header-top">
        <StateDot info={info} />
        <h1 className="process-title">{info.name}</h1>
        <span className={`badge tone-${stateTone(info)} state-${info.state}`}>{info.state}</span>
        {info.saved && (
          <span
            className="tag"
            title={
              info.spec.autostart
                ? 'Saved definition — starts when Corral starts'
                : 'Saved definition — kept when Corral restarts'
            }
          >
            {info.spec.autostart ? 'saved · autostart' : 'saved'}
          </span>
        )}
        <dl className="facts">
          {policy !== 'never' && (
            <div title="Restart policy">
              <dt>restart</dt>
              <dd>{policy}</dd>
            </div>
          )}
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
        <ProcessActions id={id} onEdit={onEdit} act={act} />
      </div>
      <div
        className="process-command mono"
        title={info.spec.cwd ? `in ${info.spec.cwd}` : undefined}
      >
        <span className="prompt" aria-hidden="true">
          {info.spec.shell ? 'sh$' : '$'}
        </span>
        <span
          className="command-text"
          title={info.spec.command.includes('\n') ? info.spec.command : undefined}
        >
          {oneLineCommand(info.spec.command)}
        </span>
        {info.spec.cwd && <span className="cwd">in {info.spec.cwd}</span>}
        <EnvChanges env={info.spec.env} />
      </div>
      <div className="process-status-row">
        <p className={`process-status tone-${stateTone(info)} state-${info.state}`} role="status">
          {statusLine(info, now)}
        </p>
        {info.state === 'backoff' && (
          <button
            type="button"
            className="button small"
            onClick={() => void act(() => getBridge().retryNow(id))}
            title="Start it now instead of waiting for the countdown"
          >
            Retry now
          </button>
        )}
      </div>
      {error && (
        <p className="controls-error" role="alert">
          {error}
        </p>
      )}
    </header>
  )
}
