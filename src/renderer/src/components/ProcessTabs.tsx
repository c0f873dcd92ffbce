import { useRef, type KeyboardEvent } from 'react'

/** The views of a process below its header. */
export type ProcessTab = 'output' | 'runs'

const TABS: { tab: ProcessTab; label: string; title: string }[] = [
  { tab: 'output', label: 'Output', title: 'Live output of the current run' },
  { tab: 'runs', label: 'Runs', title: 'Every run kept on disk, with its output' },
]

/** Id of the panel the tabs control, for `aria-controls`. */
export const PROCESS_TAB_PANEL_ID = 'process-tab-panel'

/** Output | Runs. Arrow keys move between tabs, as the ARIA tabs pattern expects. */
export function ProcessTabs({
  selected,
  onSelect,
}: {
  selected: ProcessTab
  onSelect: (tab: ProcessTab) => void
}) {
  const refs = useRef<(HTMLButtonElement | null)[]>([])
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return
    event.preventDefault()
    const index = TABS.findIndex((t) => t.tab === selected)
    const next = (index + (event.key === 'ArrowRight' ? 1 : -1) + TABS.length) % TABS.length
    onSelect(TABS[next].tab)
    refs.current[next]?.focus()
  }
  return (
    <div className="tabs" role="tablist" aria-label="Process views" onKeyDown={onKeyDown}>
      {TABS.map(({ tab, label, title }, i) => (
        <button
          key={tab}
          ref={(el) => {
            refs.current[i] = el
          }}
          type="button"
          role="tab"
          id={`process-tab-${tab}`}
          className="tab"
          aria-selected={tab === selected}
          aria-controls={PROCESS_TAB_PANEL_ID}
          tabIndex={tab === selected ? 0 : -1}
          onClick={() => onSelect(tab)}
          title={title}
        >
          {label}
        </button>
      ))}
    </div>
  )
}
