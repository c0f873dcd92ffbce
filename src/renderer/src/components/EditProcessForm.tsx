import { useState, type FormEvent, type KeyboardEvent } from 'react'
import type { ProcessId } from '../../../shared/contract'
import { errorMessage, getBridge } from '../bridge'
import { useApp } from '../store/app-store'
import { formFromSpec, specFromForm, touches, type SpecFormValues } from '../store/spec-form'
import { SpecFields, type FieldError } from './SpecFields'

/**
 * Edit a process's definition in place of its output. Saving an ad-hoc process makes it a
 * saved definition; a change applies from the next run, never to the one in progress.
 */
export function EditProcessForm({ id, onDone }: { id: ProcessId; onDone: () => void }) {
  const info = useApp((s) => s.processes[id])
  const hostInfo = useApp((s) => s.hostInfo)
  // The form starts from the spec as it was when editing began; later status events (a run
  // ending) must not overwrite what the user is typing.
  const [initial] = useState(() => info?.spec)
  const [values, setValues] = useState<SpecFormValues>(() =>
    formFromSpec(initial ?? { command: '' }),
  )
  const [fieldError, setFieldError] = useState<FieldError | null>(null)
  const [saveError, setSaveError] = useState<string | null>(null)
  const [moreOpen, setMoreOpen] = useState(true)
  const [busy, setBusy] = useState(false)

  if (!info) return null

  const save = async (): Promise<void> => {
    if (busy) return
    const result = specFromForm(values, initial)
    if (!result.ok) {
      setFieldError({ field: result.field, message: result.error })
      if (result.field !== 'env') setMoreOpen(true)
      return
    }
    setFieldError(null)
    setBusy(true)
    try {
      // The host's status event carries the new spec to the store.
      await getBridge().update(id, result.spec)
      onDone()
    } catch (err) {
      setSaveError(errorMessage(err))
      setBusy(false)
    }
  }

  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    void save()
  }

  const onKeyDown = (event: KeyboardEvent<HTMLFormElement>): void => {
    if (event.key === 'Escape') {
      event.preventDefault()
      onDone()
    }
  }

  const onChange = (patch: Partial<SpecFormValues>): void => {
    setValues((v) => ({ ...v, ...patch }))
    if (fieldError && touches(patch, fieldError.field)) setFieldError(null)
    setSaveError(null)
  }

  const alive = info.state === 'starting' || info.state === 'running' || info.state === 'stopping'

  return (
    <div className="edit-panel">
      <form
        className="edit-form"
        onSubmit={onSubmit}
        onKeyDown={onKeyDown}
        aria-labelledby="edit-process-title"
      >
        <h2 id="edit-process-title" className="edit-title">
          Edit “{info.name}”
        </h2>
        <p className="edit-note">
          {info.saved
            ? 'Changes are saved to the definition'
            : 'Saving keeps this process as a definition that survives restarts of Corral'}
          {alive ? ' and apply from its next run.' : '.'}
        </p>
        <SpecFields
          idPrefix="edit-process"
          values={values}
          onChange={onChange}
          error={fieldError}
          hostInfo={hostInfo}
          moreOpen={moreOpen}
          onMoreToggle={setMoreOpen}
          onSubmitShortcut={() => void save()}
          commandTitle="Command line — Enter saves, Esc cancels"
          autoFocus
        />
        {saveError && (
          <p className="form-error" role="alert">
            {saveError}
          </p>
        )}
        <div className="form-row form-actions">
          <button type="button" className="button" onClick={onDone} title="Discard changes (Esc)">
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy} title="Save (Enter)">
            Save
          </button>
        </div>
      </form>
    </div>
  )
}
