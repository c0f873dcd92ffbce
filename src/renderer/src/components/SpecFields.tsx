import type { KeyboardEvent } from 'react'
import { RESTART_POLICIES, STOP_SIGNALS, type HostInfo } from '../../../shared/contract'
import { MOD_LABEL, isModKey } from '../lib/keys'
import type { SpecFormField, SpecFormValues } from '../store/spec-form'

/** A problem with one field, shown under it and marked on it. */
export interface FieldError {
  field: SpecFormField
  message: string
}

interface SpecFieldsProps {
  /** Prefix of the element ids, unique per form on the page. */
  idPrefix: string
  values: SpecFormValues
  onChange: (patch: Partial<SpecFormValues>) => void
  error: FieldError | null
  hostInfo: HostInfo | null
  moreOpen: boolean
  onMoreToggle: (open: boolean) => void
  /** Ctrl/Cmd+Enter in the Environment box (where Enter makes a new line). */
  onSubmitShortcut: () => void
  /** Title of the Command box, which says what Enter does in this form. */
  commandTitle: string
  autoFocus?: boolean
}

/** Lines the Command box grows to before it scrolls. */
const COMMAND_MAX_ROWS = 8

const POLICY_HELP: Record<(typeof RESTART_POLICIES)[number], string> = {
  never: 'never restart automatically',
  'on-failure': 'restart when it exits with a code not in Success codes, or is killed by a signal',
  always: 'restart whenever it ends, unless you stopped it',
}

/**
 * The fields of a process definition, shared by the New process form and the Edit panel so
 * both accept exactly the same things. The supervision settings sit in a collapsed "More
 * options" section: most ad-hoc commands never need them.
 */
export function SpecFields(props: SpecFieldsProps) {
  const { idPrefix, values, onChange, error, hostInfo } = props
  const errorId = (field: SpecFormField) => `${idPrefix}-${field}-error`
  const invalid = (field: SpecFormField) => error?.field === field
  const describedBy = (field: SpecFormField) => (invalid(field) ? errorId(field) : undefined)
  const errorText = (field: SpecFormField) =>
    invalid(field) && (
      <p id={errorId(field)} className="form-error" role="alert">
        {error?.message}
      </p>
    )

  const onEnvKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key === 'Enter' && isModKey(event)) {
      event.preventDefault()
      props.onSubmitShortcut()
    }
  }

  /**
   * Enter submits, as in a one-line box; Shift+Enter starts a new line, and a pasted script
   * keeps its lines (for Run in shell; without it a line break separates arguments).
   */
  const onCommandKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return
    event.preventDefault()
    event.currentTarget.form?.requestSubmit()
  }

  const shellName = hostInfo?.shell ?? 'the shell'
  const graceDefault = String((hostInfo?.stopGraceMs ?? 5000) / 1000)
  const codesApply = values.restart === 'on-failure'
  // Until the host has said otherwise, assume it can (the box stays usable while loading).
  const terminalAvailable = hostInfo?.terminal?.available !== false
  const terminalTitle = terminalAvailable
    ? 'Run in a pseudo-terminal: REPLs, password prompts and full-screen programs (top, vi) work, and the output shows in a terminal'
    : `Terminal mode is not available on this host: ${hostInfo?.terminal?.reason ?? 'unknown reason'}`

  return (
    <>
      <label className="field">
        <span className="field-label">Command</span>
        <textarea
          id={`${idPrefix}-command`}
          className="mono command-box"
          rows={Math.min(COMMAND_MAX_ROWS, values.command.split('\n').length)}
          wrap="off"
          value={values.command}
          onChange={(e) => onChange({ command: e.target.value })}
          onKeyDown={onCommandKeyDown}
          placeholder="e.g. ping -c 3 127.0.0.1"
          title={`${props.commandTitle} · Shift+Enter starts a new line`}
          autoComplete="off"
          autoCapitalize="off"
          autoCorrect="off"
          spellCheck={false}
          autoFocus={props.autoFocus}
        />
      </label>
      <label className="field">
        <span className="field-label">Working directory</span>
        <input
          className="mono"
          type="text"
          value={values.cwd}
          onChange={(e) => onChange({ cwd: e.target.value })}
          placeholder={hostInfo?.homeDir ?? 'home directory'}
          autoComplete="off"
          spellCheck={false}
        />
      </label>
      <label className="field">
        <span className="field-label">Environment</span>
        <textarea
          className="mono"
          rows={2}
          value={values.env}
          onChange={(e) => onChange({ env: e.target.value })}
          onKeyDown={onEnvKeyDown}
          placeholder={'KEY=value sets, KEY= unsets'}
          title={`One KEY=VALUE per line; KEY= unsets a variable — ${MOD_LABEL}+Enter submits`}
          aria-invalid={invalid('env')}
          aria-describedby={describedBy('env')}
          spellCheck={false}
        />
      </label>
      {errorText('env')}
      <label className="field">
        <span className="field-label">Name</span>
        <input
          type="text"
          value={values.name}
          onChange={(e) => onChange({ name: e.target.value })}
          placeholder="defaults to the program's name"
          autoComplete="off"
        />
      </label>
      <label
        className="checkbox"
        title={`Run the command line with ${shellName} -c (pipes, globs, $VARS)`}
      >
        <input
          type="checkbox"
          checked={values.shell}
          onChange={(e) => onChange({ shell: e.target.checked })}
        />
        Run in shell
      </label>
      <label className="checkbox" title={terminalTitle}>
        <input
          type="checkbox"
          checked={values.terminal ?? false}
          disabled={!terminalAvailable}
          onChange={(e) => onChange({ terminal: e.target.checked })}
        />
        Run in terminal
      </label>
      <details
        className="more-options"
        open={props.moreOpen}
        onToggle={(e) => props.onMoreToggle(e.currentTarget.open)}
      >
        <summary>More options</summary>
        <div className="more-grid">
          <label className="field" title={POLICY_HELP[values.restart]}>
            <span className="field-label">Restart policy</span>
            <select
              value={values.restart}
              onChange={(e) => onChange({ restart: e.target.value as SpecFormValues['restart'] })}
            >
              {RESTART_POLICIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label
            className="field"
            title={
              codesApply
                ? 'Exit codes that count as success, comma-separated'
                : 'Only used by the on-failure policy'
            }
          >
            <span className="field-label">Success codes</span>
            <input
              className="mono"
              type="text"
              inputMode="numeric"
              value={values.successCodes}
              onChange={(e) => onChange({ successCodes: e.target.value })}
              placeholder="0"
              disabled={!codesApply}
              aria-invalid={invalid('successCodes')}
              aria-describedby={describedBy('successCodes')}
              autoComplete="off"
              spellCheck={false}
            />
          </label>
          <label className="field" title="Signal sent to the process group on Stop">
            <span className="field-label">Stop signal</span>
            <select
              value={values.stopSignal}
              onChange={(e) =>
                onChange({ stopSignal: e.target.value as SpecFormValues['stopSignal'] })
              }
            >
              {STOP_SIGNALS.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label className="field" title="Seconds between the stop signal and SIGKILL">
            <span className="field-label">Grace period (s)</span>
            <input
              className="mono"
              type="text"
              inputMode="decimal"
              value={values.graceSeconds}
              onChange={(e) => onChange({ graceSeconds: e.target.value })}
              placeholder={graceDefault}
              aria-invalid={invalid('graceSeconds')}
              aria-describedby={describedBy('graceSeconds')}
              autoComplete="off"
              spellCheck={false}
            />
          </label>
        </div>
        {errorText('successCodes')}
        {errorText('graceSeconds')}
        <label className="checkbox" title="Start when Corral starts (saved definitions only)">
          <input
            type="checkbox"
            checked={values.autostart}
            onChange={(e) => onChange({ autostart: e.target.checked })}
          />
          Autostart
        </label>
      </details>
    </>
  )
}
