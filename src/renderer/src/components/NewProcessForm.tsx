import { useState, type FormEvent } from 'react'
import type { ProcessInfo, ProcessSpec } from '../../../shared/contract'
import { errorMessage, getBridge } from '../bridge'
import { MOD_LABEL } from '../lib/keys'
import {
  addProcessIfUnknown,
  appStore,
  askedFrom,
  selectCreated,
  selectStarted,
  useApp,
} from '../store/app-store'
import { emptyFormValues, specFromForm, touches, type SpecFormValues } from '../store/spec-form'
import { SpecFields, type FieldError } from './SpecFields'

/** Id of the Command box, which the global Ctrl/Cmd+K shortcut focuses. */
export const COMMAND_INPUT_ID = 'new-process-command'

type Action = 'run' | 'save'

/**
 * The sidebar form that starts a process ("Run", ad hoc) or keeps it as a saved definition
 * ("Save", which starts it only if it autostarts).
 */
export function NewProcessForm() {
  const hostInfo = useApp((s) => s.hostInfo)
  const [values, setValues] = useState<SpecFormValues>(emptyFormValues)
  const [fieldError, setFieldError] = useState<FieldError | null>(null)
  const [submitError, setSubmitError] = useState<string | null>(null)
  const [moreOpen, setMoreOpen] = useState(false)
  const [busy, setBusy] = useState(false)

  const submit = async (action: Action): Promise<void> => {
    if (busy) return
    const result = specFromForm(values)
    if (!result.ok) {
      setFieldError({ field: result.field, message: result.error })
      // An error inside the collapsed section must be visible to be fixed.
      if (result.field !== 'env') setMoreOpen(true)
      return
    }
    setFieldError(null)
    const from = askedFrom(appStore, document.activeElement)
    setBusy(true)
    try {
      const bridge = getBridge()
      const spec: ProcessSpec = result.spec
      const info: ProcessInfo =
        action === 'run' ? await bridge.start(spec) : await bridge.define(spec)
      addProcessIfUnknown(appStore, info)
      if (action === 'run' || spec.autostart) selectStarted(appStore, info.id, from)
      else selectCreated(appStore, info.id, from)
      setSubmitError(null)
      // A name belongs to one process; the rest is often reused for the next one. A name typed
      // while the host was answering is the next process's: it stays.
      setValues((v) => (v.name === values.name ? { ...v, name: '' } : v))
    } catch (err) {
      setSubmitError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    void submit('run')
  }

  const onChange = (patch: Partial<SpecFormValues>): void => {
    setValues((v) => ({ ...v, ...patch }))
    if (fieldError && touches(patch, fieldError.field)) setFieldError(null)
    if ('command' in patch) setSubmitError(null)
  }

  return (
    <form className="new-process" onSubmit={onSubmit} aria-labelledby="new-process-title">
      <h2 id="new-process-title" className="section-title">
        New process
      </h2>
      <SpecFields
        idPrefix="new-process"
        values={values}
        onChange={onChange}
        error={fieldError}
        hostInfo={hostInfo}
        moreOpen={moreOpen}
        onMoreToggle={setMoreOpen}
        onSubmitShortcut={() => void submit('run')}
        commandTitle={`Command to run — Enter runs it, ${MOD_LABEL}+K comes back here`}
        autoFocus
      />
      <div className="form-row form-actions">
        {/* A plain button, not a submit: Enter in any field must keep meaning Run. */}
        <button
          type="button"
          className="button"
          disabled={busy}
          onClick={() => void submit('save')}
          title="Save as a definition that survives restarts of Corral; starts it only if Autostart is ticked"
        >
          Save
        </button>
        <button type="submit" className="button primary" disabled={busy} title="Run (Enter)">
          Run
        </button>
      </div>
      {submitError && (
        <p className="form-error" role="alert">
          {submitError}
        </p>
      )}
    </form>
  )
}
