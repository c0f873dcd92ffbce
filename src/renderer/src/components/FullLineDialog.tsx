import { useEffect, useRef } from 'react'

/** Longest text put into the dialog; more would make the page crawl. */
const MAX_DIALOG_CHARS = 8 * 1024 * 1024

/** What the "Show all" dialog shows. */
export interface FullLine {
  text: string | null
  note: string | null
}

/** A modal with the full text of a line that was cut at the display cap. */
export function FullLineDialog({ line, onClose }: { line: FullLine; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const dialog = ref.current
    if (dialog && !dialog.open) dialog.showModal()
  }, [])
  const text = line.text
  const shown =
    text !== null && text.length > MAX_DIALOG_CHARS ? text.slice(0, MAX_DIALOG_CHARS) : text
  return (
    <dialog ref={ref} className="full-line" aria-label="Full line" onClose={onClose}>
      <div className="full-line-bar">
        <h2 className="full-line-title">
          Full line
          {text !== null && (
            <span className="full-line-size">{text.length.toLocaleString('en-US')} characters</span>
          )}
        </h2>
        <button type="button" className="button small" onClick={() => ref.current?.close()}>
          Close
        </button>
      </div>
      {line.note && <p className="full-line-note">{line.note}</p>}
      {text !== null && text.length > MAX_DIALOG_CHARS && (
        <p className="full-line-note">
          Showing the first {MAX_DIALOG_CHARS.toLocaleString('en-US')} characters; export the run
          for all of it.
        </p>
      )}
      {shown === null ? (
        <p className="full-line-note">Reading the line from the run log…</p>
      ) : (
        <pre className="full-line-text">{shown}</pre>
      )}
    </dialog>
  )
}
