import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { ManagedProcess } from '../../src/main/core/managed-process'
import { readBudget } from '../../src/main/core/pacer'
import type { OutputChunk } from '../../src/shared/contract'
import { describeStatus } from '../../src/shared/describe'
import { RUN_MARK_VAR, runMark } from '../../src/main/core/run-mark'
import {
  alive,
  liveGroupMembers,
  nodeFixture,
  numberedLines,
  OUTPUT_WORKER,
  pgidOf,
  pidsWithEnv,
  Recorder,
  sleep,
  streamText,
} from '../helpers'

let rec: Recorder
afterEach(async () => {
  await rec?.supervisor.shutdown()
})

/**
 * With a data directory, runs have logs, and on Linux their output is spooled to files next
 * to them (see spool.ts) rather than read through pipes. Each supervisor gets a fresh one.
 */
const SPOOLED = {
  get dataDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-spool-'))
    spoolDirs.push(dir)
    return dir
  },
}
const spoolDirs: string[] = []
afterAll(() => {
  for (const dir of spoolDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe.each([
  ['read on this thread', {}],
  ['read by the output worker', { outputWorkerScript: OUTPUT_WORKER }],
  ['spooled to files next to the run log', SPOOLED],
])('output (%s)', (_mode, mode) => {
  it('keeps the order of writes across stdout and stderr', async () => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command: nodeFixture('interleave.mjs', '30') })
    await rec.ended(p.id)
    const lines = rec.text(p.id).trimEnd().split('\n')
    expect(lines).toEqual(
      Array.from({ length: 30 }, (_, i) => `line ${i} ${i % 2 === 0 ? 'out' : 'err'}`),
    )
    // And each line came on the stream it was written to.
    expect(rec.text(p.id, 'stderr')).toContain('line 1 err')
    expect(rec.text(p.id, 'stdout')).not.toContain('err')
    const seqs = rec.chunks.get(p.id)!.map((c) => c.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
  })

  it('decodes UTF-8 split across reads and replaces invalid bytes with U+FFFD', async () => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command: nodeFixture('utf8-split.mjs') })
    await rec.ended(p.id)
    const out = rec.text(p.id, 'stdout')
    expect(out).toContain('héllo wörld — 日本語 🎉\n')
    expect(out).toContain('bad:\uFFFD\uFFFD \uFFFD(\n')
    // It really arrived in many pieces: the decoder, not luck, joined them.
    expect(rec.chunks.get(p.id)!.filter((c) => c.stream === 'stdout').length).toBeGreaterThan(3)
  })

  it('reports the exit only after output written by a grandchild just before the end', async () => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command: nodeFixture('late-grandchild.mjs') })
    const end = await rec.ended(p.id)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    expect(rec.text(p.id)).toContain('grandchild late output')
    const lastOutput = rec.timeline.findLastIndex((e) => e.kind === 'output' && e.id === p.id)
    const exitIdx = rec.timeline.findIndex(
      (e) => e.kind === 'status' && e.id === p.id && e.state === 'exited',
    )
    expect(lastOutput).toBeLessThan(exitIdx)
  })

  it('serves a snapshot for reloads: dense sequence numbers, tail after a given seq', async () => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command: nodeFixture('interleave.mjs', '10') })
    await rec.ended(p.id)
    const snap = rec.supervisor.output(p.id)
    expect(snap.firstSeq).toBe(0)
    expect(snap.chunks.map((c) => c.seq)).toEqual(snap.chunks.map((_, i) => i))
    // The snapshot holds exactly what the events delivered, nothing more or less.
    expect(snap.chunks).toEqual(rec.chunks.get(p.id))
    const tail = rec.supervisor.output(p.id, 3)
    expect(tail.chunks[0].seq).toBe(4)
    expect(tail.chunks).toEqual(snap.chunks.slice(4))
  })

  it('bounds the retained output and says how much was dropped', async () => {
    rec = new Recorder({ bufferChars: 64 * 1024, ...mode })
    const p = await rec.start({ command: nodeFixture('flood.mjs', '1000000') })
    await rec.ended(p.id)
    const snap = rec.supervisor.output(p.id)
    const kept = snap.chunks.reduce((n, c) => n + c.data.length, 0)
    expect(kept).toBeLessThanOrEqual(64 * 1024)
    expect(snap.firstSeq).toBeGreaterThan(0)
    const delivered = rec.chunks.get(p.id)!.reduce((n, c) => n + c.data.length, 0)
    // The worker's ring this small reuses memory before this thread reads some chunks: their
    // events carry no bytes (a viewer offers them from the run log), but they are counted.
    const gone = rec.gone.get(p.id) ?? 0
    expect(snap.droppedChars + kept).toBe(delivered + gone)
    // Every byte still reached the event stream, in order, or was reported gone.
    expect(rec.text(p.id, 'stdout').length + gone).toBeGreaterThanOrEqual(1_000_000)
    const seqs = rec.chunks.get(p.id)!.map((c) => c.seq)
    expect(seqs).toEqual(seqs.map((_, i) => i))
  })

  // The read budget is this thread's pipes' (the worker reads as fast as its log allows;
  // spool files have their own budget, tested in spool.test.ts).
  it.skipIf('outputWorkerScript' in mode || 'dataDir' in mode)(
    'delivers every byte of many processes flooding at once, in order, while the read budget pauses them again and again',
    async () => {
      rec = new Recorder({ ...mode })
      const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-flood-'))
      const file = path.join(dir, 'lines.txt')
      const content = numberedLines(40_000)
      writeFileSync(file, content)
      // Each byte read counts as a KiB against the turn's budget (1 MiB), so that however
      // fast this machine runs `cat` (which writes as fast as the pipe takes it), a read of
      // 1 KiB or more spends the turn's budget: every process is paused and resumed again
      // and again, mid-flood. (How the budget is shared is tested in pacer.test.ts.)
      const proto = ManagedProcess.prototype as unknown as {
        hold(reason: string, on: boolean): void
      }
      const hold = vi.spyOn(proto, 'hold')
      const spend = readBudget.spend.bind(readBudget)
      const spent = vi
        .spyOn(readBudget, 'spend')
        .mockImplementation((bytes, reader) => spend(bytes * 1024, reader))
      try {
        const ps = await Promise.all(
          Array.from({ length: 12 }, () => rec.start({ command: `cat ${file}`, shell: true })),
        )
        await Promise.all(ps.map((p) => rec.ended(p.id, 60_000)))
        for (const p of ps) expect(rec.text(p.id, 'stdout') === content).toBe(true)
        // The budget did pause them: more turn pauses than processes, so not only one each.
        const pauses = hold.mock.calls.filter(([reason, on]) => reason === 'turn' && on)
        expect(pauses.length).toBeGreaterThan(ps.length)
      } finally {
        spent.mockRestore()
        hold.mockRestore()
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )

  it("logs every byte to the run's log: read back, it equals what was shown", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-log-'))
    try {
      rec = new Recorder({ ...mode, dataDir })
      const p = await rec.start({ command: nodeFixture('interleave.mjs', '40') })
      const end = await rec.ended(p.id)
      const [run] = rec.supervisor.runs(p.id)
      expect(run.runId).toBe(end.runId)
      const shown = rec.text(p.id)
      expect(run.bytes).toBe(Buffer.byteLength(shown))
      const back = await rec.supervisor.runOutput(p.id, run.runId)
      expect(streamText(back.chunks)).toBe(shown)
      // The same numbering as the live events, Corral's own lines included: the log has the
      // "started" line and (but for the worker, which hands the end back) how the run ended.
      const live = rec.chunks.get(p.id)!
      const logged = (c: OutputChunk): string => `${c.seq} ${c.stream} ${c.data}`
      const expected = live.map(logged)
      if ('outputWorkerScript' in mode) expected.pop()
      expect(back.chunks.map(logged)).toEqual(expected)
      expect(back.chunks[0].data).toMatch(/^▶ started /)
    } finally {
      await rec.supervisor.shutdown()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('limits a snapshot to the newest output within a byte budget and counts the rest', async () => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command: nodeFixture('flood.mjs', '1000000') })
    await rec.ended(p.id)
    const all = rec.supervisor.output(p.id)
    // Sizes are bytes of program output and characters of Corral's own lines.
    const size = (cs: OutputChunk[]): number =>
      cs.reduce(
        (n, c) => n + (c.stream === 'system' ? c.data.length : Buffer.byteLength(c.data)),
        0,
      )
    const total = size(all.chunks)
    expect(all.chunks.length).toBeGreaterThan(3)
    for (const [afterSeq, limit] of [
      [-1, 64 * 1024],
      [1, 64 * 1024],
      [-1, 256 * 1024],
      [-1, 0],
    ] as const) {
      const snap = rec.supervisor.output(p.id, afterSeq, limit)
      // The newest chunks, ending with the last one (Corral's exit line), at least that one.
      expect(snap.chunks.at(-1)!.stream).toBe('system')
      expect(snap.chunks).toEqual(all.chunks.slice(all.chunks.length - snap.chunks.length))
      // Within the limit; or the exit line alone; or the program's output before it, within
      // twice the limit.
      if (size(snap.chunks) > limit && snap.chunks.length > 1) {
        expect(snap.chunks.slice(1).every((c) => c.stream === 'system')).toBe(true)
        expect(size(snap.chunks)).toBeLessThanOrEqual(2 * limit)
      }
      expect(snap.firstSeq).toBe(snap.chunks[0].seq)
      // What was left out counts as dropped, so a view can say how much it is missing.
      expect(snap.droppedChars + size(snap.chunks)).toBe(total)
    }
    // A budget larger than what is there changes nothing.
    expect(rec.supervisor.output(p.id, 1, 1e9)).toEqual(rec.supervisor.output(p.id, 1))
  })
})

describe.each([
  ['read on this thread', {}],
  ['read by the output worker', { outputWorkerScript: OUTPUT_WORKER }],
  ['spooled to files next to the run log', SPOOLED],
])('stdin (%s)', (_mode, mode) => {
  it('writes lines and closes input (EOF)', async () => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command: 'cat' })
    await rec.supervisor.write(p.id, 'hello\n')
    await rec.waitForText(p.id, 'hello\n')
    rec.supervisor.closeStdin(p.id)
    const end = await rec.ended(p.id)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
  })

  it('survives EPIPE when the child closed its input', async () => {
    rec = new Recorder({ ...mode })
    // The shell closes its stdin and keeps running.
    const p = await rec.start({ command: 'exec 0<&-; echo closed; sleep 2', shell: true })
    await rec.waitForText(p.id, 'closed')
    const big = 'x'.repeat(256 * 1024)
    const results = await Promise.allSettled([1, 2, 3].map(() => rec.supervisor.write(p.id, big)))
    expect(results.some((r) => r.status === 'rejected')).toBe(true)
    const err = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason
    expect(err.code).toBe('STDIN_CLOSED')
    // The host is fine and the process is still running.
    expect(rec.supervisor.list()[0].state).toBe('running')
  })

  it('shows a line typed as stream stdin ahead of the answer, and logs it; a secret goes only to the program', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-typed-'))
    try {
      rec = new Recorder({ ...mode, dataDir })
      const p = await rec.start({ command: 'cat' })
      await rec.supervisor.write(p.id, 'hello\n')
      await rec.waitForText(p.id, 'hello\n')
      await rec.supervisor.write(p.id, 'hunter2\n', { echo: false })
      await rec.waitForText(p.id, 'hello\nhunter2\n')
      rec.supervisor.closeStdin(p.id)
      await rec.ended(p.id)
      const typed = (chunks: readonly OutputChunk[]): string[] =>
        chunks.filter((c) => c.stream === 'stdin').map((c) => `${c.seq} ${c.data}`)
      const live = rec.chunks.get(p.id)!
      const [hello] = live.filter((c) => c.stream === 'stdin')
      expect(typed(live)).toEqual([`${hello.seq} hello\n`])
      expect(hello.seq).toBeLessThan(live.find((c) => c.stream === 'stdout')!.seq)
      // The program's output alone is what it wrote; the run's size counts only that.
      expect(rec.text(p.id)).toBe('hello\nhunter2\n')
      const [run] = rec.supervisor.runs(p.id)
      expect(run.bytes).toBe(Buffer.byteLength('hello\nhunter2\n'))
      const back = await rec.supervisor.runOutput(p.id, run.runId)
      expect(typed(back.chunks)).toEqual(typed(live))
    } finally {
      await rec.supervisor.shutdown()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('refuses to write to a process that has ended, with a clear message', async () => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command: 'true' })
    await rec.ended(p.id)
    await expect(rec.supervisor.write(p.id, 'x\n')).rejects.toMatchObject({
      code: 'NOT_RUNNING',
      message: 'Cannot write to "true": it has ended (exited with code 0).',
    })
    // What was captured stays.
    expect(rec.supervisor.output(p.id).chunks.length).toBeGreaterThan(0)
  })
})

describe.each([
  ['read on this thread', {}],
  ['read by the output worker', { outputWorkerScript: OUTPUT_WORKER }],
  ['spooled to files next to the run log', SPOOLED],
])('signals and stop (%s)', (_mode, mode) => {
  it('Stop reaches the whole process group: nothing is left behind', async () => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command: 'sleep 300 & sleep 301', shell: true })
    const pid = p.pid!
    await sleep(200)
    expect(liveGroupMembers(pid).length).toBeGreaterThanOrEqual(2)
    const info = await rec.supervisor.stop(p.id)
    expect(info.state).toBe('stopped')
    expect(info.exit).toEqual({ kind: 'signal', signal: 'SIGTERM', afterGrace: false })
    // Signalled with the leader, the others may take a moment to go on a busy machine.
    await expect.poll(() => liveGroupMembers(pid), { timeout: 2000 }).toEqual([])
  })

  // A process that makes a session of its own (setsid, a daemon) leaves the run's group, and
  // the group's signal misses it; it is found by the mark in its environment (run-mark.ts).
  it.runIf(process.platform === 'linux')(
    'Stop and Kill reach processes that left the group, even ones that ignore SIGTERM',
    async () => {
      rec = new Recorder({ ...mode, stopGraceMs: 400 })
      const p = await rec.start({
        command: `setsid sleep 302 & setsid sh -c "trap '' TERM; sleep 303" & echo $!; wait`,
        shell: true,
      })
      const pid = p.pid!
      await rec.waitForText(p.id, '\n')
      // The run's processes outside its group (its signal alone would leave them): once the
      // shell's forks have become them, the two setsid'd ones and the sleep in the second's
      // session.
      const outside = (id: string, leader: number): number[] =>
        pidsWithEnv(`${RUN_MARK_VAR}=${runMark(id, 1)}`).filter((other) => pgidOf(other) !== leader)
      await expect.poll(() => outside(p.id, pid), { timeout: 5000 }).toHaveLength(3)
      const escaped = outside(p.id, pid)
      const info = await rec.supervisor.stop(p.id)
      expect(info.state).toBe('stopped')
      await expect.poll(() => escaped.filter(alive), { timeout: 3000 }).toEqual([])
      // Kill, on a run whose escaped process would ignore SIGTERM.
      const q = await rec.start({
        command: `setsid sh -c "trap '' TERM; sleep 304" & wait`,
        shell: true,
      })
      await expect.poll(() => outside(q.id, q.pid!), { timeout: 5000 }).toHaveLength(2)
      const left = outside(q.id, q.pid!)
      await rec.supervisor.kill(q.id)
      await expect.poll(() => left.filter(alive), { timeout: 3000 }).toEqual([])
    },
  )

  it.runIf(process.platform === 'linux' && !('outputWorkerScript' in mode))(
    'a run whose process exited while another holds its output says which, and Stop ends it',
    async () => {
      rec = new Recorder({ ...mode })
      const p = await rec.start({
        command: 'echo launching; setsid sleep 305 & echo parent done',
        shell: true,
      })
      await expect
        .poll(() => rec.text(p.id, 'system'), { timeout: 10_000 })
        .toContain('holds its output open')
      const said = rec.text(p.id, 'system')
      const m =
        /⚠ pid (\d+) exited, but pid (\d+) \(sleep 305\), started by it, holds its output open/.exec(
          said,
        )
      expect(m, said).not.toBeNull()
      expect(Number(m![1])).toBe(p.pid)
      const holder = Number(m![2])
      expect(alive(holder)).toBe(true)
      // The run is still on: its output can still come.
      expect(rec.supervisor.list().find((i) => i.id === p.id)!.state).toBe('running')
      const info = await rec.supervisor.stop(p.id)
      expect(info.state).toBe('stopped')
      expect(info.exit).toEqual({ kind: 'code', code: 0 })
      await expect.poll(() => alive(holder), { timeout: 3000 }).toBe(false)
    },
  )

  it('escalates to SIGKILL after the grace period when SIGTERM is ignored', async () => {
    rec = new Recorder({ ...mode, stopGraceMs: 400 })
    const p = await rec.start({ command: "trap '' TERM; echo ready; sleep 300", shell: true })
    await rec.waitForText(p.id, 'ready')
    const stopping = rec.supervisor.stop(p.id)
    const during = await rec.until(p.id, (s) => s.state === 'stopping' && s.killDeadline !== null)
    expect(during.killDeadline! - Date.now()).toBeLessThanOrEqual(400)
    const info = await stopping
    expect(info.exit).toEqual({ kind: 'signal', signal: 'SIGKILL', afterGrace: true })
    expect(describeStatus(info)).toMatch(
      /^killed by SIGKILL \(did not stop within the grace period\) after/,
    )
    await expect.poll(() => liveGroupMembers(p.pid!), { timeout: 2000 }).toEqual([])
  })

  it('Kill sends SIGKILL at once; Interrupt sends SIGINT', async () => {
    rec = new Recorder({ ...mode })
    const a = await rec.start({ command: 'sleep 300' })
    const killed = await rec.supervisor.kill(a.id)
    expect(killed.exit).toEqual({ kind: 'signal', signal: 'SIGKILL', afterGrace: false })
    const b = await rec.start({ command: 'sleep 300' })
    rec.supervisor.signal(b.id, 'SIGINT')
    const end = await rec.ended(b.id)
    expect(end.exit).toEqual({ kind: 'signal', signal: 'SIGINT', afterGrace: false })
    expect(describeStatus(end)).toMatch(/^killed by SIGINT after \d+ ms$/)
  })

  it('restarts a finished process with a new run, keeping sequence numbers increasing', async () => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command: 'echo once' })
    await rec.ended(p.id)
    const before = rec.supervisor.output(p.id).chunks.at(-1)!.seq
    const again = await rec.supervisor.restart(p.id)
    expect(again.runCount).toBe(2)
    await rec.until(p.id, (s) => s.runCount === 2 && s.state === 'exited')
    const after = rec.supervisor.output(p.id, before).chunks
    expect(after.length).toBeGreaterThan(0)
    expect(after.map((c) => c.data).join('')).toContain('once')
  })

  it('shutdown stops every child', async () => {
    rec = new Recorder({ ...mode })
    const a = await rec.start({ command: 'sleep 300' })
    const b = await rec.start({ command: 'sleep 5 & sleep 6; wait', shell: true })
    await rec.supervisor.shutdown()
    for (const p of [a, b]) {
      await expect.poll(() => liveGroupMembers(p.pid!), { timeout: 2000 }).toEqual([])
    }
    expect(rec.supervisor.list().map((p) => p.state)).toEqual(['stopped', 'stopped'])
  })
})

describe.each([
  ['read on this thread', {}],
  ['read by the output worker', { outputWorkerScript: OUTPUT_WORKER }],
  ['spooled to files next to the run log', SPOOLED],
])('bad input (%s)', (_mode, mode) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-bad-'))
  const notExec = path.join(dir, 'script.sh')
  writeFileSync(notExec, '#!/bin/sh\necho hi\n')
  chmodSync(notExec, 0o644)

  it.each([
    [
      'no-such-program-xyz --flag',
      undefined,
      'failed: program not found: no-such-program-xyz (not on PATH)',
    ],
    ['ls', '/no/such/dir', 'failed: working directory does not exist: /no/such/dir'],
    [notExec, undefined, `failed: not executable: ${notExec} (permission denied; try chmod +x)`],
    [dir, undefined, `failed: not executable: ${dir} is a directory`],
    ['./missing.sh', dir, `failed: program not found: ${path.join(dir, 'missing.sh')}`],
  ])('%s (cwd %s) -> %s', async (command, cwd, message) => {
    rec = new Recorder({ ...mode })
    const p = await rec.start({ command, cwd })
    const end = await rec.ended(p.id)
    expect(end.state).toBe('fatal')
    expect(describeStatus(end)).toBe(message)
    expect(rec.text(p.id, 'system')).toContain(message)
  })

  it.each([
    ['', 'EMPTY_COMMAND', 'Enter a command to run.'],
    ['   ', 'EMPTY_COMMAND', 'Enter a command to run.'],
    ["echo 'oops", 'BAD_COMMAND_LINE', 'The command line has an unterminated single quote.'],
  ])('rejects the command line %j', async (command, code, message) => {
    rec = new Recorder({ ...mode })
    await expect(rec.start({ command })).rejects.toMatchObject({ code, message })
    expect(rec.supervisor.list()).toEqual([])
  })
})

describe('launch', () => {
  it('adds PYTHONUNBUFFERED, applies KEY=VALUE and unsets KEY=', async () => {
    rec = new Recorder()
    process.env.CORRAL_TEST_UNSET_ME = 'present'
    const p = await rec.start({
      command: 'env',
      env: { CORRAL_A: 'one two', CORRAL_TEST_UNSET_ME: null },
    })
    await rec.ended(p.id)
    const out = rec.text(p.id, 'stdout')
    expect(out).toMatch(/^PYTHONUNBUFFERED=1$/m)
    expect(out).toMatch(/^CORRAL_A=one two$/m)
    expect(out).not.toContain('CORRAL_TEST_UNSET_ME')
    expect(out).toMatch(/^FORCE_COLOR=1$/m)
    expect(out).toMatch(/^CLICOLOR_FORCE=1$/m)
    const plain = await rec.start({ command: 'env', color: false, env: { FORCE_COLOR: null } })
    await rec.ended(plain.id)
    expect(rec.text(plain.id, 'stdout')).not.toMatch(/FORCE_COLOR|CLICOLOR_FORCE/)
  })

  it.runIf(existsSync('/bin/bash'))(
    "a bash command runs without the user's ~/.bashrc, even when Corral was started with no SHLVL",
    async () => {
      const home = mkdtempSync(path.join(os.tmpdir(), 'corral-home-'))
      writeFileSync(path.join(home, '.bashrc'), 'echo bashrc-ran\n')
      const saved = { HOME: process.env.HOME, SHELL: process.env.SHELL, SHLVL: process.env.SHLVL }
      try {
        rec = new Recorder()
        // As from a desktop launcher: bash, the user's shell, started with no SHLVL at all.
        Object.assign(process.env, { HOME: home, SHELL: '/bin/bash' })
        delete process.env.SHLVL
        const p = await rec.start({ command: 'echo "level $SHLVL"', shell: true })
        await rec.ended(p.id)
        expect(rec.text(p.id)).toBe('level 2\n')
        // Where the user sets SHLVL themselves, that is what the command sees.
        const own = await rec.start({
          command: 'echo "level $SHLVL"',
          shell: true,
          env: { SHLVL: '4' },
        })
        await rec.ended(own.id)
        expect(rec.text(own.id)).toBe('level 5\n')
      } finally {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key]
          else process.env[key] = value
        }
        rmSync(home, { recursive: true, force: true })
      }
    },
  )

  it('passes quoted arguments verbatim without a shell, and uses the shell when asked', async () => {
    rec = new Recorder()
    const a = await rec.start({ command: `printf '%s|' "a b" 'c$HOME' d\\ e` })
    await rec.ended(a.id)
    expect(rec.text(a.id, 'stdout')).toBe('a b|c$HOME|d e|')
    const b = await rec.start({ command: 'echo $((1+2)) | tr 3 X', shell: true })
    await rec.ended(b.id)
    expect(rec.text(b.id, 'stdout')).toBe('X\n')
  })

  it('runs in the given working directory', async () => {
    rec = new Recorder()
    const p = await rec.start({ command: 'pwd', cwd: os.tmpdir() })
    await rec.ended(p.id)
    expect(rec.text(p.id, 'stdout').trim()).toBe(os.tmpdir())
  })
})
