import { useEffect, useRef, type KeyboardEvent } from 'react'
import type { ProcessId } from '../../../shared/contract'
import { describeStatus, oneLineCommand } from '../../../shared/describe'
import { useNow } from '../lib/use-now'
import { appStore, selectProcess, useApp } from '../store/app-store'
import { retryCountdown } from '../store/process-helpers'
import { StateDot } from './StateDot'

/** One row of the Processes list; clicking it selects the process. */
export function ProcessListItem({ id }: { id: ProcessId }) {
  const info = useApp((s) => s.processes[id])
  const selected = useApp((s) => s.selectedId === id)
  const ref = useRef<HTMLLIElement>(null)
  const now = useNow(info?.state === 'backoff', 1000)

  useEffect(() => {
    // Keyboard selection (Alt+Arrow) and new processes must stay visible in a long list.
    if (selected) ref.current?.scrollIntoView({ block: 'nearest' })
  }, [selected])

  if (!info) return null
  const status = describeStatus(info)
  // While a run is live the status is just the state, so the command line is more useful.
  const retry = retryCountdown(info, now)
  const sub =
    retry !== null
      ? `restarting in ${retry} s · ${status}`
      : status === info.state
        ? oneLineCommand(info.spec.command)
        : status
  const select = (): void => selectProcess(appStore, id)
  const onKeyDown = (event: KeyboardEvent<HTMLLIElement>): void => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault()
      select()
    }
  }
  // The item itself is the click target rather than a nested button: a button would be named
  // by its text ("… stopped", "killed by …") and collide with the Stop and Kill buttons.
  // Named for screen readers by its process and state (a list item is not named by its
  // text, and was by its title, the same for every item); the title describes it.
  const label =
    sub === info.state ? `${info.name}: ${info.state}` : `${info.name}: ${info.state}, ${sub}`
  return (
    <li
      ref={ref}
      className={selected ? 'process-item selected' : 'process-item'}
      aria-current={selected ? 'true' : undefined}
      tabIndex={0}
      aria-label={label}
      onClick={select}
      onKeyDown={onKeyDown}
      title="Alt+↑ / Alt+↓ move between processes"
    >
      <StateDot info={info} />
      <span className="process-item-text">
        <span className="process-item-top">
          <span className="process-name">{info.name}</span>
          {info.saved && (
            <span className="tag" title="Saved definition — kept when Corral restarts">
              saved
            </span>
          )}
          <span className={`process-state state-${info.state}`}>{info.state}</span>
        </span>
        <span className="process-item-sub">{sub}</span>
      </span>
    </li>
  )
}
