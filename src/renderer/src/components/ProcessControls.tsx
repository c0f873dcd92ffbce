import { useEffect, useReducer, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import type { ProcessId } from '../../../shared/contract'
import { getBridge } from '../bridge'
import { useApp } from '../store/app-store'
import { takeRequestedFocus } from '../lib/focus-request'
import { canSignal, canStop, canWrite } from '../store/process-helpers'
import { useAction } from '../lib/use-action'

/** Lines sent per process, kept for the page's life so switching processes keeps them. */
const stdinHistory = new Map<ProcessId, string[]>()
const MAX_HISTORY = 200
/** Processes whose input is typed as a secret (see the Hide toggle), for the page's life. */
const secretInput = new Set<ProcessId>()

/** The stdin box and the lifecycle buttons for the selected process. */
export function ProcessControls({ id }: { id: ProcessId }) {
  const info = useApp((s) => s.processes[id])
  const focusRequested = useApp((s) => s.stdinFocusRequest?.id === id)
  const graceMs = useApp((s) => s.hostInfo?.stopGraceMs ?? null)
  const [line, setLine] = useState('')
  // Whether this process's input is a secret lives in `secretInput`; toggling re-renders.
  const secret = secretInput.has(id)
  const [, toggled] = useReducer((n: number) => n + 1, 0)
  const { error, act } = useAction()
  const inputRef = useRef<HTMLInputElement>(null)
  /** Position while browsing history (null: editing a new line) and the line being edited. */
  const historyPos = useRef<number | null>(null)
  const draft = useRef('')

  const writable = info ? canWrite(info) : false
  // In a terminal, typing goes into the terminal view (which also takes the focus request).
  const inTerminal = info?.terminal !== undefined

  useEffect(() => {
    // A just-started process may report `running` a moment after start() resolves.
    if (focusRequested && writable && !inTerminal) {
      takeRequestedFocus(() => inputRef.current?.focus())
    }
  }, [focusRequested, writable, inTerminal])

  if (!info) return null

  const bridge = getBridge()

  const send = async (event: FormEvent): Promise<void> => {
    event.preventDefault()
    const text = line
    const history = stdinHistory.get(id) ?? []
    // A secret is not kept for ↑ to bring back, nor shown in the output.
    if (!secret && text !== '' && history[history.length - 1] !== text) {
      history.push(text)
      if (history.length > MAX_HISTORY) history.shift()
      stdinHistory.set(id, history)
    }
    historyPos.current = null
    setLine('')
    const ok = await act(() => bridge.write(id, text + '\n', { echo: !secret }))
    // Give the line back so a rejected send does not lose what was typed.
    if (!ok) setLine((current) => (current === '' ? text : current))
  }

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    const history = stdinHistory.get(id) ?? []
    if (event.key === 'Escape') {
      event.currentTarget.blur()
    } else if (event.key === 'ArrowUp' && !event.altKey && history.length > 0) {
      event.preventDefault()
      if (historyPos.current === null) draft.current = line
      const pos =
        historyPos.current === null ? history.length - 1 : Math.max(0, historyPos.current - 1)
      historyPos.current = pos
      setLine(history[pos])
    } else if (event.key === 'ArrowDown' && !event.altKey && historyPos.current !== null) {
      event.preventDefault()
      const pos = historyPos.current + 1
      if (pos >= history.length) {
        historyPos.current = null
        setLine(draft.current)
      } else {
        historyPos.current = pos
        setLine(history[pos])
      }
    } else if (event.key === 'd' && event.ctrlKey && !event.metaKey && line === '') {
      event.preventDefault()
      void act(() => bridge.closeStdin(id))
    }
  }

  const signalable = canSignal(info)
  const stoppable = canStop(info)
  // A saved definition that never ran is started, not restarted.
  const startLabel = info.runCount === 0 ? 'Start' : 'Restart'
  const specGraceMs = info.spec.stopGraceMs ?? graceMs
  const graceText = specGraceMs === null ? 'the grace period' : `${specGraceMs / 1000} s`
  const stopSignal = info.spec.stopSignal ?? 'SIGTERM'
  const stdinPlaceholder = writable
    ? secret
      ? 'Type a secret: not shown, not logged'
      : 'Type a line and press Enter'
    : info.state === 'running'
      ? 'Standard input is closed'
      : 'Not running'

  return (
    <div className="controls">
      {error && (
        <p className="controls-error" role="alert">
          {error}
        </p>
      )}
      <div className="controls-bar">
        {!inTerminal && (
          <form className="stdin" onSubmit={(e) => void send(e)}>
            <span className="stdin-prompt mono" aria-hidden="true">
              ›
            </span>
            <input
              id="stdin-input"
              ref={inputRef}
              className="mono"
              type={secret ? 'password' : 'text'}
              aria-label="Standard input"
              value={line}
              disabled={!writable}
              onChange={(e) => {
                setLine(e.target.value)
                historyPos.current = null
              }}
              onKeyDown={onKeyDown}
              placeholder={stdinPlaceholder}
              title="Enter sends the line · ↑/↓ history · Ctrl+D on an empty line sends EOF · Esc leaves"
              autoComplete="off"
              autoCapitalize="off"
              autoCorrect="off"
              spellCheck={false}
            />
            <button
              type="button"
              className={`tool-toggle stdin-secret${secret ? ' is-on' : ''}`}
              aria-pressed={secret}
              aria-label="Hide typed input"
              title={
                secret
                  ? 'Hiding what you type: it goes to the program only, not into the output or the run’s log'
                  : 'Hide what you type (a password): not shown in the output, not kept in the run’s log'
              }
              onClick={() => {
                if (secret) secretInput.delete(id)
                else secretInput.add(id)
                toggled()
                inputRef.current?.focus()
              }}
            >
              Hide
            </button>
          </form>
        )}
        {inTerminal && <span className="controls-spacer" />}
        <button
          type="button"
          className="button"
          disabled={!writable}
          onClick={() => void act(() => bridge.closeStdin(id))}
          title={
            inTerminal
              ? 'Type Ctrl+D into the terminal (end of file for the program reading it)'
              : 'Close standard input (end of file) — Ctrl+D on an empty line'
          }
        >
          Send EOF
        </button>
        <span className="divider" aria-hidden="true" />
        {/* The process's buttons stay together when the bar wraps on a narrow window. */}
        <div className="controls-group">
          <button
            type="button"
            className="button"
            disabled={!signalable}
            onClick={() => void act(() => bridge.signal(id, 'SIGINT'))}
            title="Send SIGINT to the process group, like Ctrl+C in a terminal"
          >
            Interrupt
          </button>
          <button
            type="button"
            className="button"
            disabled={!stoppable}
            onClick={() => void act(() => bridge.stop(id))}
            title={
              info.state === 'backoff'
                ? 'Cancel the pending restart'
                : `Send ${stopSignal} to the process group, then SIGKILL after ${graceText}`
            }
          >
            Stop
          </button>
          <button
            type="button"
            className="button danger"
            disabled={!signalable}
            onClick={() => void act(() => bridge.kill(id))}
            title="Send SIGKILL to the process group now"
          >
            Kill
          </button>
          <button
            type="button"
            className="button"
            onClick={() => void act(() => bridge.restart(id))}
            title={
              signalable
                ? 'Stop this run and start the command again'
                : info.runCount === 0
                  ? 'Start this process'
                  : 'Run the command again'
            }
          >
            {startLabel}
          </button>
        </div>
      </div>
    </div>
  )
}
