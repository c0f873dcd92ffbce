import { useEffect, useRef, useState, type KeyboardEvent } from 'react'
import { EXPORT_FORMATS, type ExportFormat } from '../store/output-export'

const FORMATS = Object.keys(EXPORT_FORMATS) as ExportFormat[]

/** The "Export" button and its menu of formats. */
export function ExportMenu({
  onExport,
  busy,
}: {
  onExport: (format: ExportFormat) => void
  busy: boolean
}) {
  const [open, setOpen] = useState(false)
  const rootRef = useRef<HTMLDivElement>(null)
  const menuRef = useRef<HTMLDivElement>(null)

  useEffect(() => {
    if (!open) return
    menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus()
    const onDown = (e: PointerEvent): void => {
      if (!rootRef.current?.contains(e.target as Node)) setOpen(false)
    }
    document.addEventListener('pointerdown', onDown)
    return () => document.removeEventListener('pointerdown', onDown)
  }, [open])

  const onMenuKey = (e: KeyboardEvent): void => {
    const items = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])]
    const at = items.indexOf(document.activeElement as HTMLElement)
    if (e.key === 'Escape') {
      e.preventDefault()
      setOpen(false)
      rootRef.current?.querySelector<HTMLElement>('button')?.focus()
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault()
      const next = (at + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length
      items[next]?.focus()
    }
  }

  return (
    <div className="export-menu" ref={rootRef}>
      <button
        type="button"
        className="tool-button"
        aria-haspopup="menu"
        aria-expanded={open}
        disabled={busy}
        title="Download this run's output"
        onClick={() => setOpen(!open)}
      >
        {busy ? 'Exporting…' : 'Export'}
      </button>
      {open && (
        <div
          className="export-menu-list"
          role="menu"
          aria-label="Export format"
          ref={menuRef}
          onKeyDown={onMenuKey}
        >
          {FORMATS.map((format) => (
            <button
              key={format}
              type="button"
              role="menuitem"
              className="export-menu-item"
              onClick={() => {
                setOpen(false)
                onExport(format)
              }}
            >
              {EXPORT_FORMATS[format].label}
              <span className="export-menu-ext">.{EXPORT_FORMATS[format].ext}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  )
}
