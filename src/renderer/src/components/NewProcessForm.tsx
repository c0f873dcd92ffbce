import { useState, type FormEvent, type KeyboardEvent } from 'react'
import type { ProcessSpec } from '../../../shared/contract'
import { parseEnvLines } from '../../../shared/env-lines'
import { errorMessage, getBridge } from '../bridge'
import { MOD_LABEL, isModKey } from '../lib/keys'
import { addProcessIfUnknown, appStore, selectStarted, useApp } from '../store/app-store'

/** Id of the Command box, which the global Ctrl/Cmd+K shortcut focuses. */
export const COMMAND_INPUT_ID = 'new-process-command'

/** The sidebar form that starts a process. */
export function NewProcessForm() {
  const hostInfo = useApp((s) => s.hostInfo)
  const [command, setCommand] = useState('')
  const [cwd, setCwd] = useState('')
  const [env, setEnv] = useState('')
  const [name, setName] = useState('')
  const [shell, setShell] = useState(false)
  const [envError, setEnvError] = useState<string | null>(null)
  const [startError, setStartError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const run = async (): Promise<void> => {
    if (busy) return
    const parsed = parseEnvLines(env)
    if (!parsed.ok) {
      setEnvError(parsed.error)
      return
    }
    setEnvError(null)
    const spec: ProcessSpec = { command }
    if (shell) spec.shell = true
    if (cwd.trim() !== '') spec.cwd = cwd.trim()
    if (Object.keys(parsed.env).length > 0) spec.env = parsed.env
    if (name.trim() !== '') spec.name = name.trim()
    setBusy(true)
    try {
      const info = await getBridge().start(spec)
      addProcessIfUnknown(appStore, info)
      selectStarted(appStore, info.id)
      setStartError(null)
      // A name belongs to one process; the rest is often reused for the next run.
      setName('')
    } catch (err) {
      setStartError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    void run()
  }

  const onEnvKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key === 'Enter' && isModKey(event)) {
      event.preventDefault()
      void run()
    }
  }

  const shellName = hostInfo?.shell ?? 'the shell'

  return (
    <form className="new-process" onSubmit={onSubmit} aria-labelledby="new-process-title">
      <h2 id="new-process-title" className="section-title">
        New process
      </h2>
      <label className="field">
        <span className="field-label">Command</span>
        <input
          id={COMMAND_INPUT_ID}
          className="mono"
          type="text"
          value={command}
          onChange={(e) => {
            setCommand(e.target.value)
            setStartError(null)
          }}
          placeholder="e.g. ping -c 3 127.0.0.1"
          title={`Command to run — Enter runs it, ${MOD_LABEL}+K comes back here`}
          autoComplete="off"
          autoCapitalize="off"
          autoCorrect="off"
          spellCheck={false}
          autoFocus
        />
      </label>
      <label className="field">
        <span className="field-label">Working directory</span>
        <input
          className="mono"
          type="text"
          value={cwd}
          onChange={(e) => setCwd(e.target.value)}
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
          value={env}
          onChange={(e) => {
            setEnv(e.target.value)
            setEnvError(null)
          }}
          onKeyDown={onEnvKeyDown}
          placeholder={'KEY=value sets, KEY= unsets'}
          title={`One KEY=VALUE per line; KEY= unsets a variable — ${MOD_LABEL}+Enter runs`}
          aria-invalid={envError !== null}
          aria-describedby={envError ? 'env-error' : undefined}
          spellCheck={false}
        />
      </label>
      {envError && (
        <p id="env-error" className="form-error" role="alert">
          {envError}
        </p>
      )}
      <label className="field">
        <span className="field-label">Name</span>
        <input
          type="text"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="defaults to the program's name"
          autoComplete="off"
        />
      </label>
      <div className="form-row">
        <label
          className="checkbox"
          title={`Run the command line with ${shellName} -c (pipes, globs, $VARS)`}
        >
          <input type="checkbox" checked={shell} onChange={(e) => setShell(e.target.checked)} />
          Run in shell
        </label>
        <button type="submit" className="button primary" disabled={busy} title="Run (Enter)">
          Run
        </button>
      </div>
      {startError && (
        <p className="form-error" role="alert">
          {startError}
        </p>
      )}
    </form>
  )
}
