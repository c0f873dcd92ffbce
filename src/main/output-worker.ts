/**
 * Corral's output worker: a worker thread of the host that owns the data plane of every
 * pipe-mode run (see `docs/output-worker.md` and `core/output-tap.ts`). It starts children
 * through the spawner, reads and logs their output and keeps it in shared memory, so the
 * host's event loop does no work per byte of output that no viewer is shown.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { OutputTap } from './core/output-tap'
import type { OutputWorkerData, ToOutputWorker } from './core/output-worker-protocol'
import { RetentionBudget } from './core/shared-ring'
import { SpawnerClient } from './core/spawner-client'

const port = parentPort
if (port) {
  const data = workerData as OutputWorkerData
  const spawner = new SpawnerClient(data.spawnerScript)
  spawner.warmUp()
  const tap = new OutputTap(
    spawner,
    new RetentionBudget(data.budget),
    (msg) => port.postMessage(msg),
    () => spawner.close(),
  )
  port.on('message', (msg: ToOutputWorker) => tap.receive(msg))
}
