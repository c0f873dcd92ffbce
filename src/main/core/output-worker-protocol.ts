/**
 * Messages between the main thread and the output worker (see `docs/output-worker.md` and
 * `output-tap.ts`). The main thread keeps the control plane of a run (its state machine,
 * signals, the run index); the worker owns its data plane: it launches the child through the
 * spawner, reads its output, numbers it, writes the run log and keeps the bytes in shared
 * rings, and tells the main thread what it did once per turn of its loop.
 */
import type { OutputStream, OwnStream, ProcessId } from '../../shared/contract'
import type { LaunchPlan } from './launch'

/** What the main thread hands the worker when it starts it (`workerData`). */
export interface OutputWorkerData {
  /** The spawner program the worker starts children through. */
  spawnerScript: string
  /** The memory of the retention budget shared with the main thread. */
  budget: SharedArrayBuffer
}

/** Main -> worker. `id` names one run (one launch). */
export type ToOutputWorker =
  /** Start `plan`; its output is retained in the ring of `proc`, at most `ringMax` bytes. */
  | { t: 'launch'; id: number; proc: ProcessId; plan: LaunchPlan; ringMax: number }
  /**
   * Start reading the run's output, numbering chunks from `seq`, logging them to `log` (a
   * file path; none when null). Until then the child's output waits in its pipes.
   */
  | { t: 'attach'; id: number; seq: number; log: string | null }
  /** One of Corral's own lines during the run: numbered in order with the output. */
  | { t: 'say'; id: number; text: string; stream: OwnStream }
  /** Write to the child's stdin; answered with `wrote`. */
  | { t: 'write'; id: number; wid: number; data: string }
  /** Close the child's stdin. */
  | { t: 'endInput'; id: number }
  /** Answer `settled` once every log has written what it was given before this message. */
  | { t: 'settle'; rid: number }
  /** The process is gone: give its ring's memory back. */
  | { t: 'dispose'; proc: ProcessId }
  /** Corral is shutting down: let the spawner go once nothing is left to hear about. */
  | { t: 'close' }

/** One chunk the worker numbered: program output (bytes in the ring) or one of Corral's lines. */
export type TapChunk =
  | {
      seq: number
      stream: Exclude<OutputStream, OwnStream>
      time: number
      at: number
      size: number
    }
  | { seq: number; stream: OwnStream; time: number; text: string }

/** What one run produced in one turn of the worker. */
export interface TapRunOutput {
  id: number
  chunks: TapChunk[]
  /** Bytes of output appended to the run log. */
  logged: number
}

/** Worker -> main. */
export type FromOutputWorker =
  /** The child runs. `control` is the control words of its process's ring (shared). */
  | { t: 'launched'; id: number; pid: number; control: SharedArrayBuffer }
  | { t: 'failed'; id: number; error: { code?: string; message: string } }
  /**
   * One turn's output. `segments` (ring memory put to use, per process) come first: every
   * offset in the chunks lies in a segment announced here or earlier.
   */
  | {
      t: 'out'
      segments: [proc: ProcessId, block: number, memory: SharedArrayBuffer][]
      runs: TapRunOutput[]
    }
  | { t: 'wrote'; id: number; wid: number; error?: string }
  /** The child's stdin closed (it closed it, or exited). */
  | { t: 'inputClosed'; id: number }
  /**
   * The run is over: the child exited, its output streams ended, all of it was reported and
   * its log is written and closed. `seq` is the next sequence number (numbering goes back to
   * the main thread). Both null: the exit status could not be learnt.
   */
  | { t: 'closed'; id: number; code: number | null; signal: NodeJS.Signals | null; seq: number }
  | { t: 'settled'; rid: number }
