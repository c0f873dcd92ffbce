import { existsSync, readFileSync } from 'node:fs'
import { procStat } from './proc'
import path from 'node:path'
import { expect } from 'vitest'
import {
  isOwnStream,
  type OutputChunk,
  type OutputStream,
  type ProcessInfo,
  type ProcessSpec,
} from '../src/shared/contract'
import { Supervisor, type SupervisorOptions } from '../src/main/core/supervisor'
import { byteSizeOf, keptTextOf } from '../src/main/core/utf8'

/** Absolute path of a test fixture program. */
export const fixture = (name: string): string => path.join(__dirname, 'fixtures', name)

/** A command line that runs a Node fixture with this Node. */
export const nodeFixture = (name: string, ...args: string[]): string =>
  [process.execPath, fixture(name), ...args].map((a) => `'${a}'`).join(' ')

/**
 * The spawner program as built (`npm run build`). Tests start children through it, as Corral
 * does on POSIX; `{ spawnerScript: undefined }` starts them in the test process instead.
 */
export const SPAWNER = path.join(__dirname, '../out/main/spawner.js')

/** The output worker as built: `{ outputWorkerScript: OUTPUT_WORKER }` reads output there. */
export const OUTPUT_WORKER = path.join(__dirname, '../out/main/output-worker.js')

/** A supervisor plus everything it published, for assertions. */
export class Recorder {
  readonly supervisor: Supervisor
  readonly statuses: ProcessInfo[] = []
  readonly chunks = new Map<string, OutputChunk[]>()
  /** Per process: bytes of output chunks that were no longer kept when their event came. */
  readonly gone = new Map<string, number>()
  /** Every event in order, as [kind, id] pairs, to assert output-before-exit ordering. */
  readonly timeline: { kind: 'status' | 'output'; id: string; state?: string }[] = []

  constructor(options: SupervisorOptions = {}) {
    if (!('spawnerScript' in options) && !existsSync(SPAWNER)) {
      throw new Error(`${SPAWNER} is missing: run \`npm run build\` before the tests`)
    }
    this.supervisor = new Supervisor({ spawnerScript: SPAWNER, ...options })
    this.supervisor.subscribe((event, payload) => {
      if (event === 'status') {
        const info = payload as ProcessInfo
        this.statuses.push(info)
        this.timeline.push({ kind: 'status', id: info.id, state: info.state })
      } else if (event === 'output') {
        const batch = payload as { id: string; chunks: OutputChunk[] }
        const list = this.chunks.get(batch.id) ?? []
        // Kept as a transport sends them: a chunk's own bytes are not kept past its event.
        // A chunk whose bytes are gone already (see keptTextOf) is kept empty and counted.
        for (const chunk of batch.chunks) {
          const data = keptTextOf(chunk)
          if (data === null) {
            this.gone.set(batch.id, (this.gone.get(batch.id) ?? 0) + byteSizeOf(chunk))
          }
          list.push({ seq: chunk.seq, stream: chunk.stream, data: data ?? '', time: chunk.time })
        }
        this.chunks.set(batch.id, list)
        this.timeline.push({ kind: 'output', id: batch.id })
      }
    })
  }

  start(spec: ProcessSpec): Promise<ProcessInfo> {
    return this.supervisor.start(spec)
  }

  /** Text of one stream (or all program output) received as events. */
  text(id: string, stream?: OutputStream): string {
    return streamText(this.chunks.get(id) ?? [], stream)
  }

  /** Resolve with the first status of `id` that matches. */
  async until(
    id: string,
    pred: (info: ProcessInfo) => boolean,
    timeoutMs = 15_000,
  ): Promise<ProcessInfo> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = this.statuses.find((s) => s.id === id && pred(s))
      if (hit) return hit
      if (Date.now() > deadline) {
        throw new Error(
          `timed out; last status: ${JSON.stringify(this.statuses.filter((s) => s.id === id).at(-1))}`,
        )
      }
      await sleep(10)
    }
  }

  /** Resolve once the process has ended (exited, stopped or fatal). */
  ended(id: string, timeoutMs?: number): Promise<ProcessInfo> {
    return this.until(
      id,
      (s) => s.state === 'exited' || s.state === 'stopped' || s.state === 'fatal',
      timeoutMs,
    )
  }

  /** Resolve once the output of `id` contains `text`. */
  async waitForText(id: string, text: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.text(id).includes(text)) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${JSON.stringify(text)}; got ${JSON.stringify(this.text(id).slice(-500))}`,
        )
      await sleep(10)
    }
  }
}

/** `count` numbered 100-byte lines, the content of the flood fixtures written to files. */
export const numberedLines = (count: number): string =>
  Array.from(
    { length: count },
    (_, i) => `${String(i).padStart(10, '0')} ${'x'.repeat(88)}\n`,
  ).join('')

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The nice of `pid`'s autogroup (the scheduling group of its session), from /proc. */
export const groupNice = (pid: number): number =>
  Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))![1])

/** Parent pid and command line of `pid`, from /proc. */
export function parentOf(pid: number): { ppid: number; cmdline: string } {
  const ppid = Number(procStat(pid)![1])
  return { ppid, cmdline: readFileSync(`/proc/${ppid}/cmdline`, 'utf8').replace(/\0/g, ' ') }
}

/**
 * Kill the program (`name`: corral-forker or corral-spawner) that started a `cat` under `rec`:
 * the child runs on and still echoes, its end is noticed (with its status unknown), and the
 * next start goes through a new one.
 */
export async function expectChildrenOutlive(rec: Recorder, name: string): Promise<void> {
  const p = await rec.start({ command: 'cat' })
  const launcher = parentOf(p.pid!)
  expect(launcher.cmdline).toContain(name)
  process.kill(launcher.ppid, 'SIGKILL')
  await sleep(200)
  await rec.supervisor.write(p.id, `after ${name}\n`)
  await rec.waitForText(p.id, `after ${name}\n`)
  rec.supervisor.closeStdin(p.id)
  const end = await rec.ended(p.id)
  expect(end.exit).toEqual({ kind: 'code', code: -1 })
  expect(rec.text(p.id, 'system')).toContain('exit status unknown')
  const q = await rec.start({ command: 'sleep 30' })
  const parent = parentOf(q.pid!)
  expect(parent.ppid).not.toBe(launcher.ppid)
  expect(parent.cmdline).toContain(name)
  await rec.supervisor.kill(q.id)
}

export { alive, liveGroupMembers, pgidOf, pidsWithEnv } from './proc'

/** Text of one stream of `chunks`, or of all program output (everything but Corral's lines). */
export function streamText(chunks: readonly OutputChunk[], stream?: OutputStream): string {
  return chunks
    .filter((c) => (stream ? c.stream === stream : !isOwnStream(c.stream)))
    .map((c) => c.data)
    .join('')
}
