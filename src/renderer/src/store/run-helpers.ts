/** Pure wording for the run history, shared by the runs list and the past-run view. */
import type { EndReason, RunInfo, RunOutput, StartReason } from '../../../shared/contract'
import { describeExit, formatBytes, formatDuration } from '../../../shared/describe'
import { ProcessOutput } from './output-buffers'

const START_REASONS: Record<StartReason, string> = {
  user: 'user',
  autostart: 'autostart',
  restart: 'restart policy',
}

const END_REASONS: Record<EndReason, string> = {
  exit: 'exited',
  'user-stop': 'user stop',
  'killed-after-grace': 'killed after grace',
  'failed-to-start': 'failed to start',
  'host-exit': 'Corral exited',
}

/** Why a run started, as the runs list shows it. */
export function startReasonLabel(reason: StartReason): string {
  return START_REASONS[reason]
}

/** Why a run ended, as the runs list shows it; a live run has not ended. */
export function endReasonLabel(reason: EndReason | null): string {
  return reason === null ? '—' : END_REASONS[reason]
}

/** How a run ended; a run cut short by Corral's own exit has no exit status on record. */
export function runOutcome(run: RunInfo): string {
  if (run.exit) return describeExit(run.exit)
  if (run.endedAt === null) return 'running'
  return 'unknown (Corral was not running when it ended)'
}

/** Milliseconds a run lasted (so far, for a live run). */
export function runLasted(run: RunInfo, now: number): number {
  return Math.max(0, (run.endedAt ?? now) - run.startedAt)
}

/** The heading of a past run's view: `Run #3 — ended 14:02:11, exited with code 1 after 2.0 s`. */
export function pastRunTitle(run: RunInfo, formatTime: (ms: number) => string): string {
  if (run.endedAt === null) return `Run #${run.number} — running`
  const lasted =
    run.exit && run.exit.kind !== 'failed'
      ? ` after ${formatDuration(run.endedAt - run.startedAt)}`
      : ''
  return `Run #${run.number} — ended ${formatTime(run.endedAt)}, ${runOutcome(run)}${lasted}`
}

/**
 * A past run's output laid out by the same line builder as live output, so both look alike.
 * When the host left out the oldest part of a long log, the top marker says how much.
 */
export class PastRunOutput extends ProcessOutput {
  constructor(readonly skippedBytes: number) {
    super()
    this.earlierOutputLost = skippedBytes > 0
  }

  override topMarkerText(): string {
    if (this.droppedLines > 0 || this.skippedBytes === 0) return super.topMarkerText()
    const n = this.skippedBytes
    return `${n.toLocaleString('en-US')} earlier ${n === 1 ? 'byte' : 'bytes'} not shown`
  }
}

/**
 * Lay out a run read back from disk. The log holds the line saying how the run ended, except
 * for logs written before Corral recorded its own lines, runs it did not see end (it was
 * killed), and runs read by the output worker: then that line is added from the run's record.
 */
export function pastRunOutput(out: RunOutput): PastRunOutput {
  const buffer = new PastRunOutput(out.skippedBytes)
  for (const chunk of out.chunks) buffer.apply(chunk)
  const { run } = out
  const last = out.chunks[out.chunks.length - 1]
  // Corral's last line in the log, when it is the "■ exited …" one.
  const endLogged = last?.stream === 'system' && /(^|\n)■ [^\n]*\n?$/.test(last.data)
  if (run.endedAt !== null && !endLogged) {
    const lasted =
      run.exit && run.exit.kind !== 'failed'
        ? ` after ${formatDuration(run.endedAt - run.startedAt)}`
        : ''
    buffer.apply({
      seq: buffer.lastSeq + 1,
      stream: 'system',
      data: `■ ${runOutcome(run)}${lasted}\n`,
      time: run.endedAt,
    })
  }
  return buffer
}

export { formatBytes }
