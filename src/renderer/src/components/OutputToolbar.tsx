import type { RefObject } from 'react'
import type { ExportFormat } from '../store/output-export'
import type { StreamFilter } from '../store/row-index'
import type { SearchQuery } from '../store/search'
import { ExportMenu } from './ExportMenu'

/** What the search found, as the toolbar shows it. */
export interface SearchStatus {
  /** 1-based index of the current match, or 0 when none is selected. */
  current: number
  count: number
  capped: boolean
  searching: boolean
  error: string | null
}

interface OutputToolbarProps {
  query: SearchQuery
  onQuery: (query: SearchQuery) => void
  status: SearchStatus
  onNext: () => void
  onPrevious: () => void
  filter: StreamFilter
  onFilter: (filter: StreamFilter) => void
  timestamps: boolean
  onTimestamps: (on: boolean) => void
  wrap: boolean
  onWrap: (on: boolean) => void
  onExport: (format: ExportFormat) => void
  exporting: boolean
  onClear: () => void
  searchRef: RefObject<HTMLInputElement | null>
}

/** Search, filters, export and clear, above the log. Every control has an accessible name. */
export function OutputToolbar(props: OutputToolbarProps) {
  const { query, onQuery, status, filter, onFilter } = props
  const hasMatches = status.count > 0
  return (
    <div className="output-toolbar" role="toolbar" aria-label="Output tools">
      <div className="output-search">
        <input
          ref={props.searchRef}
          type="text"
          className="output-search-input"
          aria-label="Search output"
          placeholder="Search output"
          spellCheck={false}
          value={query.text}
          aria-invalid={status.error !== null}
          onChange={(e) => onQuery({ ...query, text: e.target.value })}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault()
              if (e.shiftKey) props.onPrevious()
              else props.onNext()
            } else if (e.key === 'Escape' && query.text !== '') {
              e.preventDefault()
              onQuery({ ...query, text: '' })
            }
          }}
        />
        <span
          className={`output-search-count${status.error ? ' is-error' : ''}`}
          role="status"
          title={status.error ?? undefined}
        >
          {searchCountText(query, status)}
        </span>
        <button
          type="button"
          className={`tool-toggle${query.caseSensitive ? ' is-on' : ''}`}
          aria-pressed={query.caseSensitive}
          aria-label="Match case"
          title="Match case"
          onClick={() => onQuery({ ...query, caseSensitive: !query.caseSensitive })}
        >
          Aa
        </button>
        <button
          type="button"
          className={`tool-toggle${query.regex ? ' is-on' : ''}`}
          aria-pressed={query.regex}
          aria-label="Regular expression"
          title="Regular expression"
          onClick={() => onQuery({ ...query, regex: !query.regex })}
        >
          .*
        </button>
        <button
          type="button"
          className="tool-button"
          aria-label="Previous match"
          title="Previous match (Shift+Enter)"
          disabled={!hasMatches}
          onClick={props.onPrevious}
        >
          ↑
        </button>
        <button
          type="button"
          className="tool-button"
          aria-label="Next match"
          title="Next match (Enter)"
          disabled={!hasMatches}
          onClick={props.onNext}
        >
          ↓
        </button>
      </div>
      <span className="tool-divider" aria-hidden="true" />
      {/* Filters and view toggles wrap as one group, never one by one. */}
      <div className="tool-group">
        <button
          type="button"
          className={`tool-toggle tool-stream stream-stdout${filter.stdout ? ' is-on' : ''}`}
          aria-pressed={filter.stdout}
          title={filter.stdout ? 'Hide stdout' : 'Show stdout'}
          onClick={() => onFilter({ ...filter, stdout: !filter.stdout })}
        >
          stdout
        </button>
        <button
          type="button"
          className={`tool-toggle tool-stream stream-stderr${filter.stderr ? ' is-on' : ''}`}
          aria-pressed={filter.stderr}
          title={filter.stderr ? 'Hide stderr' : 'Show stderr'}
          onClick={() => onFilter({ ...filter, stderr: !filter.stderr })}
        >
          stderr
        </button>
        <button
          type="button"
          className={`tool-toggle${props.timestamps ? ' is-on' : ''}`}
          aria-pressed={props.timestamps}
          title="Show when each line arrived"
          onClick={() => props.onTimestamps(!props.timestamps)}
        >
          Timestamps
        </button>
        <button
          type="button"
          className={`tool-toggle${props.wrap ? ' is-on' : ''}`}
          aria-pressed={props.wrap}
          title="Wrap long lines"
          onClick={() => props.onWrap(!props.wrap)}
        >
          Wrap
        </button>
      </div>
      {/* Kept together at the right end, on the next row when the toolbar wraps. */}
      <div className="tool-end">
        <ExportMenu onExport={props.onExport} busy={props.exporting} />
        <button
          type="button"
          className="tool-button"
          title="Clear the view (the process keeps running; new output still shows)"
          onClick={props.onClear}
        >
          Clear view
        </button>
      </div>
    </div>
  )
}

function searchCountText(query: SearchQuery, status: SearchStatus): string {
  if (query.text === '') return ''
  if (status.error) return 'Invalid pattern'
  if (status.count === 0) return status.searching ? 'Searching…' : 'No results'
  const count = `${status.count.toLocaleString('en-US')}${status.capped ? '+' : ''}`
  const more = status.searching ? '…' : ''
  if (status.current === 0) return `${count} found${more}`
  return `${status.current.toLocaleString('en-US')} of ${count}${more}`
}
