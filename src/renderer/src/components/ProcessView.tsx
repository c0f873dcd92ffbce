import type { ProcessId } from '../../../shared/contract'
import { useApp } from '../store/app-store'
import { OutputView } from './OutputView'
import { ProcessControls } from './ProcessControls'
import { ProcessHeader } from './ProcessHeader'

/** The main area for one process: header, output and controls. */
export function ProcessView({ id }: { id: ProcessId }) {
  const name = useApp((s) => s.processes[id]?.name)
  if (name === undefined) return null
  return (
    <section className="process-view" aria-label={`Process ${name}`}>
      <ProcessHeader id={id} />
      <OutputView id={id} />
      <ProcessControls id={id} />
    </section>
  )
}
