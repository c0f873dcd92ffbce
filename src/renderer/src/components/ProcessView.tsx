import { lazy, Suspense, useState } from 'react'
import type { ProcessId, RunInfo } from '../../../shared/contract'
import { useApp } from '../store/app-store'
import { EditProcessForm } from './EditProcessForm'
import { OutputView } from './OutputView'
import { PastRunView } from './PastRunView'
import { ProcessControls } from './ProcessControls'
import { ProcessHeader } from './ProcessHeader'
import { PROCESS_TAB_PANEL_ID, ProcessTabs } from './ProcessTabs'
import { RunsPanel } from './RunsPanel'

/** The terminal emulator (xterm.js) is loaded only when a terminal process is shown. */
const TerminalView = lazy(() => import('./TerminalView').then((m) => ({ default: m.TerminalView })))

/** What the area between the header and the controls shows. */
type View = { kind: 'output' } | { kind: 'runs' } | { kind: 'run'; run: RunInfo } | { kind: 'edit' }

/**
 * The main area for one process: header, then its live output, its runs (or one past run's
 * output) or the edit form, then the controls. Keyed by process, so switching processes
 * starts again at the live output.
 */
export function ProcessView({ id }: { id: ProcessId }) {
  const name = useApp((s) => s.processes[id]?.name)
  // The latest run's mode: a terminal emulator for a pseudo-terminal, the line view for pipes.
  const inTerminal = useApp((s) => s.processes[id]?.terminal !== undefined)
  const [view, setView] = useState<View>({ kind: 'output' })
  if (name === undefined) return null

  const showLive = (): void => setView({ kind: 'output' })
  const showRuns = (): void => setView({ kind: 'runs' })

  let panel
  switch (view.kind) {
    case 'output':
      panel = inTerminal ? (
        <Suspense fallback={<p className="panel-message">Loading the terminal…</p>}>
          <TerminalView id={id} />
        </Suspense>
      ) : (
        <OutputView id={id} />
      )
      break
    case 'runs':
      panel = (
        <RunsPanel
          id={id}
          onOpenRun={(run) => setView({ kind: 'run', run })}
          onOpenLive={showLive}
        />
      )
      break
    case 'run':
      panel = <PastRunView id={id} run={view.run} onBackToLive={showLive} onAllRuns={showRuns} />
      break
    case 'edit':
      panel = <EditProcessForm id={id} onDone={showLive} />
      break
  }

  return (
    <section className="process-view" aria-label={`Process ${name}`}>
      <ProcessHeader id={id} onEdit={() => setView({ kind: 'edit' })} />
      {view.kind !== 'edit' && (
        <ProcessTabs
          selected={view.kind === 'output' ? 'output' : 'runs'}
          onSelect={(tab) => (tab === 'output' ? showLive() : showRuns())}
        />
      )}
      <div
        className="process-panel"
        id={PROCESS_TAB_PANEL_ID}
        role={view.kind === 'edit' ? undefined : 'tabpanel'}
        aria-labelledby={
          view.kind === 'edit'
            ? undefined
            : `process-tab-${view.kind === 'output' ? 'output' : 'runs'}`
        }
      >
        {panel}
      </div>
      <ProcessControls id={id} />
    </section>
  )
}
