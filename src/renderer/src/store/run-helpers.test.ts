import { describe, expect, it } from 'vitest'
import type { RunInfo } from '../../../shared/contract'
import {
  endReasonLabel,
  formatBytes,
  pastRunOutput,
  pastRunTitle,
  runLasted,
  runOutcome,
  startReasonLabel,
} from './run-helpers'

function run(overrides: Partial<RunInfo> = {}): RunInfo {
  return {
    runId: 'r1',
    processId: 'p',
    number: 3,
    startedAt: 1000,
    endedAt: 3000,
    exit: { kind: 'code', code: 1 },
    startReason: 'restart',
    endReason: 'exit',
    bytes: 10,
    ...overrides,
  }
}

describe('run wording', () => {
  it('labels why runs started and ended', () => {
    expect(startReasonLabel('autostart')).toBe('autostart')
    expect(startReasonLabel('restart')).toBe('restart policy')
    expect(endReasonLabel('killed-after-grace')).toBe('killed after grace')
    expect(endReasonLabel('host-exit')).toBe('Corral exited')
    expect(endReasonLabel(null)).toBe('—')
  })

  it('describes the outcome, including runs still going and runs Corral lost track of', () => {
    expect(runOutcome(run())).toBe('exited with code 1')
    expect(runOutcome(run({ endedAt: null, exit: null }))).toBe('running')
    expect(runOutcome(run({ exit: null, endReason: 'host-exit' }))).toMatch(/^unknown/)
  })

  it('measures a live run up to now', () => {
    expect(runLasted(run(), 99_999)).toBe(2000)
    expect(runLasted(run({ endedAt: null }), 1500)).toBe(500)
  })

  it('titles a past run', () => {
    expect(pastRunTitle(run(), () => '12:00:03')).toBe(
      'Run #3 — ended 12:00:03, exited with code 1 after 2.0 s',
    )
    const failed = run({ exit: { kind: 'failed', code: 'ENOENT', reason: 'no such program' } })
    expect(pastRunTitle(failed, () => 'T')).toBe('Run #3 — ended T, failed: no such program')
  })

  it('formats byte counts', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MB')
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GB')
  })
})

/** Each row of a laid-out run as `kind:text`. */
function rowsOf(buf: ReturnType<typeof pastRunOutput>): string[] {
  return Array.from({ length: buf.lineCount }, (_, i) => buf.line(i)).map(
    (l) => `${l.kind}:${l.text}`,
  )
}

describe('pastRunOutput', () => {
  it('lays out chunks like live output and ends with how the run ended', () => {
    const buf = pastRunOutput({
      run: run(),
      chunks: [
        { seq: 4, stream: 'stdout', data: 'one\ntw', time: 0 },
        { seq: 5, stream: 'stderr', data: 'oops\n', time: 0 },
        { seq: 9, stream: 'stdout', data: 'o\n', time: 0 },
      ],
      skippedBytes: 0,
    })
    expect(rowsOf(buf)).toEqual([
      'stdout:one',
      'stdout:tw',
      'stderr:oops',
      'stdout:o',
      'system:■ exited with code 1 after 2.0 s',
    ])
    expect(buf.hasTopMarker).toBe(false)
  })

  it("shows Corral's own lines from the log, and does not add the end line twice", () => {
    const buf = pastRunOutput({
      run: run(),
      chunks: [
        { seq: 0, stream: 'system', data: '▶ started make (pid 7)\n', time: 0 },
        { seq: 1, stream: 'stdout', data: 'built\n', time: 0 },
        {
          seq: 2,
          stream: 'system',
          data: '⚠ exit status unknown\n■ exited with code 1 after 2.0 s\n',
          time: 0,
        },
      ],
      skippedBytes: 0,
    })
    expect(rowsOf(buf)).toEqual([
      'system:▶ started make (pid 7)',
      'stdout:built',
      'system:⚠ exit status unknown',
      'system:■ exited with code 1 after 2.0 s',
    ])
  })

  it('says how many earlier bytes were left out', () => {
    const buf = pastRunOutput({
      run: run({ endedAt: null, exit: null }),
      chunks: [],
      skippedBytes: 12_345,
    })
    expect(buf.hasTopMarker).toBe(true)
    expect(buf.topMarkerText()).toBe('12,345 earlier bytes not shown')
    expect(buf.lineCount).toBe(0)
  })
})
