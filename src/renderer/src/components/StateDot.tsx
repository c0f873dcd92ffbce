import type { ProcessInfo } from '../../../shared/contract'
import { stateTone } from '../store/process-helpers'

/** The coloured dot that summarises a process's state at a glance. */
export function StateDot({ info }: { info: ProcessInfo }) {
  return <span className={`state-dot tone-${stateTone(info)}`} aria-hidden="true" />
}
