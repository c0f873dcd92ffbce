import { useApp } from '../store/app-store'
import { ProcessListItem } from './ProcessListItem'

/** Every managed process, oldest first. */
export function ProcessList() {
  const order = useApp((s) => s.order)
  return (
    <section className="process-list-section" aria-labelledby="process-list-title">
      <h2 id="process-list-title" className="section-title">
        Processes <span className="count">{order.length}</span>
      </h2>
      {order.length === 0 ? (
        <p className="list-empty">None yet.</p>
      ) : (
        <ul className="process-list" aria-label="Processes">
          {order.map((id) => (
            <ProcessListItem key={id} id={id} />
          ))}
        </ul>
      )}
    </section>
  )
}
