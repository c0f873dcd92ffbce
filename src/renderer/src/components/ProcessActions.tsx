import { useEffect, useRef, useState } from 'react'
import type { ProcessId } from '../../../shared/contract'
import { getBridge } from '../bridge'
import {
  addProcessIfUnknown,
  appStore,
  askedFrom,
  removeProcess,
  selectCreated,
  useApp,
} from '../store/app-store'
import { outputBuffers } from '../store/output-buffers'
import { canRemove } from '../store/process-helpers'

interface ProcessActionsProps {
  id: ProcessId
  onEdit: () => void
  /** Runs a bridge call, reporting its failure where the header shows errors. */
  act: (action: () => Promise<unknown>) => Promise<boolean>
}

/**
 * What can be done to a process's definition: edit it, copy it, or delete it. Deleting a
 * saved definition also deletes its run logs, so it asks first; removing an ad-hoc process
 * only forgets output still in memory, so it does not.
 */
export function ProcessActions({ id, onEdit, act }: ProcessActionsProps) {
  const saved = useApp((s) => s.processes[id]?.saved ?? false)
  const removable = useApp((s) => (s.processes[id] ? canRemove(s.processes[id]) : false))
  const [confirming, setConfirming] = useState(false)
  const cancelRef = useRef<HTMLButtonElement>(null)
  const deleteRef = useRef<HTMLButtonElement>(null)
  const wasConfirming = useRef(false)

  useEffect(() => {
    // Keyboard users land on the safe choice, and back on Delete when they back out.
    if (confirming) cancelRef.current?.focus()
    else if (wasConfirming.current) deleteRef.current?.focus()
    wasConfirming.current = confirming
  }, [confirming])

  useEffect(() => {
    // A process that started running in the meantime cannot be deleted any more.
    if (!removable) setConfirming(false)
  }, [removable])

  const bridge = getBridge()

  const remove = (): void => {
    void act(async () => {
      await bridge.remove(id)
      removeProcess(appStore, id)
      outputBuffers.delete(id)
    })
  }

  const duplicate = (): void => {
    const from = askedFrom(appStore, null)
    void act(async () => {
      const copy = await bridge.duplicate(id)
      addProcessIfUnknown(appStore, copy)
      selectCreated(appStore, copy.id, from)
    })
  }

  if (confirming) {
    return (
      <div
        className="process-actions confirm"
        role="group"
        aria-label="Confirm delete"
        onKeyDown={(e) => {
          if (e.key === 'Escape') setConfirming(false)
        }}
      >
        <span className="confirm-text">Delete this definition and its run logs?</span>
        <button type="button" className="button small danger" onClick={remove}>
          Yes, delete
        </button>
        <button
          ref={cancelRef}
          type="button"
          className="button small"
          onClick={() => setConfirming(false)}
        >
          Cancel
        </button>
      </div>
    )
  }

  return (
    <div className="process-actions">
      <button
        type="button"
        className="button small"
        onClick={onEdit}
        title={saved ? 'Edit this definition' : 'Edit and save this process as a definition'}
      >
        Edit
      </button>
      <button
        type="button"
        className="button small"
        onClick={duplicate}
        title="Save a copy of this definition under a new name"
      >
        Duplicate
      </button>
      {saved ? (
        <button
          ref={deleteRef}
          type="button"
          className="button small danger"
          disabled={!removable}
          onClick={() => setConfirming(true)}
          title={
            removable
              ? 'Delete this saved definition and its run logs'
              : 'Stop it first: a running or restarting process cannot be deleted'
          }
        >
          Delete
        </button>
      ) : (
        <button
          type="button"
          className="button small"
          disabled={!removable}
          onClick={remove}
          title="Remove this process and its output from the list"
        >
          Remove
        </button>
      )}
    </div>
  )
}
