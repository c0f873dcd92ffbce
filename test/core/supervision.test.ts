import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { spawn } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { backgroundIo } from '../../src/main/core/io-lane'
import { readLog } from '../../src/main/core/run-store'
import { FakeClock } from '../fake-clock'
import { nodeFixture, Recorder, sleep } from '../helpers'

let rec: Recorder
afterEach(async () => {
  await rec?.supervisor.shutdown()
})

const tmpDir = () => mkdtempSync(path.join(os.tmpdir(), 'corral-sup-'))

/** Wait for the process to reach `state` with the given run count. */
const reach = (id: string, state: string, runCount: number) =>
  rec.until(id, (s) => s.state === state && s.runCount === runCount)

describe('state machine with a fake clock and real processes', () => {
  it('crash loop: starting -> backoff 1, 2, 4, 8, 16 s -> fatal; Restart starts over', async () => {
    const clock = new FakeClock()
    rec = new Recorder({ clock })
    const p = await rec.start({ command: 'exit 3', shell: true, restart: 'on-failure' })
    const delays: number[] = []
    for (let run = 1; run <= 5; run++) {
      const s = await reach(p.id, 'backoff', run)
      delays.push(s.nextRetryAt! - clock.now())
      expect(s.failedStarts).toBe(run)
      expect(s.exit).toEqual({ kind: 'code', code: 3 })
      clock.advance(s.nextRetryAt! - clock.now())
    }
    const fatal = await reach(p.id, 'fatal', 6)
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000])
    expect(fatal.failedStarts).toBe(6)
    expect(fatal.nextRetryAt).toBeNull()
    expect(clock.pending()).toEqual([])
    // States seen, in order, for the first run.
    const states = rec.statuses
      .filter((s) => s.id === p.id && s.runCount === 1)
      .map((s) => s.state)
      .filter((state, i, all) => i === 0 || state !== all[i - 1])
    expect(states).toEqual(['starting', 'running', 'backoff'])
    await rec.supervisor.restart(p.id)
    const again = await reach(p.id, 'backoff', 7)
    expect(again.nextRetryAt! - clock.now()).toBe(1000)
  })

  it('Stop during backoff goes straight to stopped and cancels the retry', async () => {
    const clock = new FakeClock()
    rec = new Recorder({ clock })
    const p = await rec.start({ command: 'false', restart: 'always' })
    await reach(p.id, 'backoff', 1)
    const info = await rec.supervisor.stop(p.id)
    expect(info.state).toBe('stopped')
    expect(info.nextRetryAt).toBeNull()
    expect(clock.pending()).toEqual([])
    // The output's last word is not the restart it announced.
    const said = rec.text(p.id, 'system').trimEnd().split('\n')
    expect(said.at(-2)).toMatch(/^↻ restarting in 1\.0 s \(retry 1 of 5 after failed starts\)$/)
    expect(said.at(-1)).toBe('■ restart cancelled: stopped')
    clock.advance(60_000)
    await sleep(50)
    expect(rec.supervisor.list()[0].runCount).toBe(1)
  })

  it('Retry now starts at once and keeps counting failed starts', async () => {
    const clock = new FakeClock()
    rec = new Recorder({ clock })
    const p = await rec.start({ command: 'false', restart: 'always' })
    await reach(p.id, 'backoff', 1)
    await rec.supervisor.retryNow(p.id)
    const s = await reach(p.id, 'backoff', 2)
    expect(s.failedStarts).toBe(2)
    expect(s.nextRetryAt! - clock.now()).toBe(2000)
    await expect(rec.supervisor.retryNow('nope')).rejects.toMatchObject({ code: 'NO_SUCH_PROCESS' })
  })

  it('resets the backoff after 30 s up; a signal not sent by the user is a failure', async () => {
    const clock = new FakeClock()
    rec = new Recorder({ clock })
    const p = await rec.start({ command: 'sleep 300', restart: 'on-failure' })
    // Crash quickly three times to build up the backoff.
    for (let run = 1; run <= 3; run++) {
      const running = await reach(p.id, 'running', run)
      process.kill(-running.pid!, 'SIGSEGV')
      const s = await reach(p.id, 'backoff', run)
      clock.advance(s.nextRetryAt! - clock.now())
    }
    const running = await reach(p.id, 'running', 4)
    clock.advance(30_000)
    process.kill(-running.pid!, 'SIGSEGV')
    const s = await reach(p.id, 'backoff', 4)
    expect(s.exit).toEqual({ kind: 'signal', signal: 'SIGSEGV', afterGrace: false })
    expect(s.nextRetryAt! - clock.now()).toBe(1000)
    expect(s.failedStarts).toBe(0)
  })

  it('success codes end the run as exited; a user stop is never restarted', async () => {
    const clock = new FakeClock()
    rec = new Recorder({ clock })
    const ok = await rec.start({
      command: 'exit 3',
      shell: true,
      restart: 'on-failure',
      successCodes: [0, 3],
    })
    expect((await rec.ended(ok.id)).state).toBe('exited')
    const p = await rec.start({ command: 'sleep 300', restart: 'always' })
    const stopped = await rec.supervisor.stop(p.id)
    expect(stopped.state).toBe('stopped')
    expect(clock.pending().length).toBeLessThanOrEqual(1) // only the SIGKILL escalation timer
  })

  it('a real crash loop reaches fatal on the real clock', async () => {
    rec = new Recorder()
    const p = await rec.start({ command: 'false', restart: 'always', maxRetries: 1 })
    const s = await rec.until(p.id, (i) => i.state === 'fatal', 10_000)
    expect(s.runCount).toBe(2)
  })
})

describe('the record of live process groups', () => {
  it('is on disk once a child runs, without waiting for the background lane', async () => {
    const dataDir = tmpDir()
    rec = new Recorder({ dataDir })
    // Hold the lane that run indexes, logs and the leader's start time go through, as 200
    // starts at once (or a slow disk) keep it busy: a host killed meanwhile left no record.
    let release = (): void => {}
    const held = backgroundIo.run(() => new Promise<void>((r) => (release = r)))
    try {
      const p = await rec.start({ command: 'sleep 30', name: 'recorded' })
      const { pid } = await rec.until(p.id, (s) => s.state === 'running')
      const file = path.join(dataDir, 'process-groups.json')
      const recorded = (): { pgid: number; name: string; leaderStart: string | null }[] => {
        try {
          return JSON.parse(readFileSync(file, 'utf8'))
        } catch {
          return []
        }
      }
      const deadline = Date.now() + 5000
      while (!recorded().some((g) => g.pgid === pid) && Date.now() < deadline) await sleep(10)
      expect(recorded()).toEqual([expect.objectContaining({ pgid: pid, name: 'recorded' })])
      // Its leader's start time (which tells the group from a later one with its id) follows.
      expect(recorded()[0].leaderStart).toBeNull()
      release()
      await held
      while (recorded()[0]?.leaderStart == null && Date.now() < deadline) await sleep(10)
      expect(recorded()[0].leaderStart).toMatch(/^\d+$/)
    } finally {
      release()
      await held
    }
  })
})

describe('the warm-up run at startup', () => {
  it('runs a process unseen: never listed or announced, and nothing of it is left on disk', async () => {
    const dataDir = tmpDir()
    const runs = path.join(dataDir, 'runs')
    rec = new Recorder({ dataDir })
    // What the folder of run logs holds, polled while the warm-up runs.
    const seen = new Set<string>()
    const look = (): void => {
      for (const n of existsSync(runs) ? readdirSync(runs) : []) seen.add(n)
    }
    let warming = true
    const warmed = rec.supervisor.warmUp().finally(() => (warming = false))
    while (warming) {
      look()
      expect(rec.supervisor.list()).toEqual([])
      await sleep(1)
    }
    await warmed
    // It ran: its run log was made (that is what it warms), under an id of its own.
    expect([...seen].some((n) => n.startsWith('w-'))).toBe(true)
    expect(rec.supervisor.list()).toEqual([])
    expect(rec.timeline).toEqual([])
    await rec.supervisor.logsWritten()
    // A process's folder of logs, or the warm-up's being deleted (lists start with a dot too).
    const left = (): string[] =>
      readdirSync(runs).filter((n) => !n.startsWith('.') || n.includes('w-'))
    for (const deadline = Date.now() + 10_000; left().length > 0; await sleep(10)) {
      if (Date.now() > deadline) throw new Error(`left behind: ${left().join(', ')}`)
    }
    // Nor is it on this Corral's list of ad-hoc processes, whose logs go when it ends.
    const adHoc = path.join(runs, `.ad-hoc-${process.pid}.json`)
    if (existsSync(adHoc)) expect(readFileSync(adHoc, 'utf8')).not.toContain('w-')
    // Nor in the record of process groups, once its last write is done: writes that follow
    // one another at once are spaced 100 ms apart (GROUPS_WRITE_SPACING_MS).
    const groups = path.join(dataDir, 'process-groups.json')
    const recorded = (): unknown[] =>
      existsSync(groups) ? (JSON.parse(readFileSync(groups, 'utf8')) as unknown[]) : []
    for (const deadline = Date.now() + 5_000; recorded().length > 0; await sleep(10)) {
      if (Date.now() > deadline) break
    }
    expect(recorded()).toEqual([])
    // The first process someone starts runs as ever, and is the only one listed.
    const first = await rec.start({ command: 'echo first', name: 'first' })
    await rec.ended(first.id)
    expect(rec.text(first.id)).toContain('first\n')
    expect(rec.supervisor.list().map((p) => p.name)).toEqual(['first'])
  })

  it('does not hold up a shutdown that comes while it runs', async () => {
    rec = new Recorder({ dataDir: tmpDir() })
    const warmed = rec.supervisor.warmUp()
    await rec.supervisor.shutdown()
    await warmed
    expect(rec.supervisor.list()).toEqual([])
    expect(rec.timeline).toEqual([])
  })

  it('a shutdown says where its time went', async () => {
    rec = new Recorder({ dataDir: tmpDir(), stopGraceMs: 400 })
    const p = await rec.start({ command: "trap '' TERM; echo ready; sleep 300", shell: true })
    await rec.waitForText(p.id, 'ready')
    const times = await rec.supervisor.shutdown()
    // The process ignored SIGTERM: stopping it took the grace period, then SIGKILL.
    expect(times.processes).toBeGreaterThanOrEqual(380)
    expect(Object.keys(times)).toEqual(['processes', 'groups', 'logs', 'definitions'])
    for (const ms of Object.values(times)) expect(ms).toBeGreaterThanOrEqual(0)
  })
})

describe('saved definitions', () => {
  it('survive a restart of the supervisor and autostart', async () => {
    const dataDir = tmpDir()
    rec = new Recorder({ dataDir })
    const saved = await rec.supervisor.define({
      command: 'sleep 300',
      name: 'keeper',
      autostart: true,
      restart: 'always',
    })
    expect(saved.saved).toBe(true)
    const plain = await rec.supervisor.define({ command: 'echo hi', name: 'manual' })
    expect(plain.state).toBe('stopped')
    const copy = await rec.supervisor.duplicate(plain.id)
    expect(copy.name).toBe('manual copy')
    await rec.supervisor.update(copy.id, { command: 'echo changed', name: 'edited' })
    await rec.supervisor.shutdown()

    rec = new Recorder({ dataDir })
    expect(rec.supervisor.warnings).toEqual([])
    expect(rec.supervisor.list().map((p) => [p.name, p.state, p.spec.command])).toEqual([
      ['keeper', 'stopped', 'sleep 300'],
      ['manual', 'stopped', 'echo hi'],
      ['edited', 'stopped', 'echo changed'],
    ])
    await rec.supervisor.autostart()
    const keeper = rec.supervisor.list()[0]
    expect(keeper.state).toBe('running')
    const runs = rec.supervisor.runs(keeper.id)
    expect(runs.map((r) => [r.number, r.startReason, r.endReason])).toEqual([
      [2, 'autostart', null],
      // The first life ended by shutting down, not by the user.
      [1, 'user', 'host-exit'],
    ])
    await rec.supervisor.remove(rec.supervisor.list()[2].id)
    expect(
      JSON.parse(readFileSync(path.join(dataDir, 'definitions.json'), 'utf8')).definitions,
    ).toHaveLength(2)
  })

  it('saves definitions off the event loop, and says so when the file cannot be written', async () => {
    const dataDir = tmpDir()
    rec = new Recorder({ dataDir })
    const file = path.join(dataDir, 'definitions.json')
    const saving = rec.supervisor.define({ command: 'echo one', name: 'one' })
    // Nothing is written in the call itself (an fsync during a flood's writeback took
    // 160-280 ms there); it is on disk once the call resolves.
    expect(existsSync(file)).toBe(false)
    await saving
    expect(JSON.parse(readFileSync(file, 'utf8')).definitions).toHaveLength(1)
    // A file that cannot be replaced (here a directory in its place) is a clear error.
    rmSync(file)
    mkdirSync(file)
    await expect(rec.supervisor.define({ command: 'echo two', name: 'two' })).rejects.toMatchObject(
      {
        code: 'STORAGE',
        message: expect.stringContaining(`Could not save to ${file}`),
      },
    )
  })

  it('a change that cannot be saved is not made: define, duplicate, update and remove', async () => {
    const dataDir = tmpDir()
    rec = new Recorder({ dataDir })
    const file = path.join(dataDir, 'definitions.json')
    const removed: string[] = []
    rec.supervisor.subscribe((event, payload) => {
      if (event === 'removed') removed.push((payload as { id: string }).id)
    })
    const kept = await rec.supervisor.define({ command: 'echo kept', name: 'kept' })
    await rec.supervisor.start({ command: 'true', name: 'ad-hoc' })
    const onDisk = readFileSync(file, 'utf8')
    // The run logs' root, once Corral's own list of its ad-hoc processes is written and no
    // rewrite of it is half done (a temporary file, then renamed), as one can be after a
    // start or a change.
    const settledRuns = async (): Promise<string[]> => {
      const runs = path.join(dataDir, 'runs')
      const list = `.ad-hoc-${process.pid}.json`
      await expect
        .poll(() => {
          const names = readdirSync(runs)
          return names.includes(list) && !names.some((n) => n.endsWith('.tmp'))
        })
        .toBe(true)
      return readdirSync(runs)
    }
    const logs = await settledRuns()
    const listed = () => rec.supervisor.list().map((p) => [p.name, p.saved, p.spec.command])
    const before = listed()
    // A directory in the file's place: every save fails from here on.
    rmSync(file)
    mkdirSync(file)
    const storage = {
      code: 'STORAGE',
      message: expect.stringContaining(`Could not save to ${file}`),
    }
    await expect(rec.supervisor.define({ command: 'echo new', name: 'new' })).rejects.toMatchObject(
      storage,
    )
    await expect(rec.supervisor.duplicate(kept.id)).rejects.toMatchObject(storage)
    await expect(
      rec.supervisor.update(kept.id, { command: 'echo edited', name: 'edited' }),
    ).rejects.toMatchObject(storage)
    const adHoc = rec.supervisor.list().find((p) => p.name === 'ad-hoc')!
    await expect(
      rec.supervisor.update(adHoc.id, { command: 'echo saved', name: 'saved' }),
    ).rejects.toMatchObject(storage)
    await expect(rec.supervisor.remove(kept.id)).rejects.toMatchObject(storage)
    expect(listed()).toEqual(before)
    // The two processes that were added and then forgotten were announced as removed.
    expect(removed).toHaveLength(2)
    expect(removed).not.toContain(kept.id)
    // The saved process keeps its run logs, and it is all still there on the next start.
    expect(await settledRuns()).toEqual(logs)
    rmSync(file, { recursive: true })
    writeFileSync(file, onDisk)
    await rec.supervisor.shutdown()
    rec = new Recorder({ dataDir })
    expect(rec.supervisor.list().map((p) => [p.name, p.spec.command])).toEqual([
      ['kept', 'echo kept'],
    ])
  })

  it('a save interrupted before the rename leaves the old file intact', async () => {
    const dataDir = tmpDir()
    rec = new Recorder({ dataDir })
    await rec.supervisor.define({ command: 'echo one', name: 'one' })
    const file = path.join(dataDir, 'definitions.json')
    // What a crash mid-save leaves: a half-written temporary file beside the real one.
    writeFileSync(
      path.join(dataDir, `.definitions.json.99999.tmp`),
      '{"version":1,"definitions":[{"id":"d-x","sp',
    )
    rec = new Recorder({ dataDir })
    expect(rec.supervisor.warnings).toEqual([])
    expect(rec.supervisor.list().map((p) => p.name)).toEqual(['one'])
    expect(readdirSync(dataDir).filter((n) => n.endsWith('.tmp'))).toEqual([])
    expect(JSON.parse(readFileSync(file, 'utf8')).definitions).toHaveLength(1)
  })

  it.each([
    ['{ not json', /it is not valid JSON/],
    ['{"version":2,"definitions":[]}', /expected \{ "version": 1/],
    [
      '{"version":1,"definitions":[{"id":"d-1","spec":{"command":7}}]}',
      /definition 1 was skipped: .* at "spec.command"/,
    ],
  ])(
    'an invalid file (%s) gives a message naming the file and the problem; Corral still starts',
    (text, problem) => {
      const dataDir = tmpDir()
      const file = path.join(dataDir, 'definitions.json')
      writeFileSync(file, text)
      rec = new Recorder({ dataDir })
      expect(rec.supervisor.warnings[0]).toContain(file)
      expect(rec.supervisor.warnings[0]).toMatch(problem)
      expect(rec.supervisor.warnings[1]).toMatch(/kept at .*definitions\.json\.invalid-/)
      expect(rec.supervisor.list()).toEqual([])
    },
  )
})

describe('run history and logs on disk', () => {
  it('records every run with why it started and ended', async () => {
    const clock = new FakeClock()
    rec = new Recorder({ dataDir: tmpDir(), clock })
    const p = await rec.start({
      command: 'exit 2',
      shell: true,
      restart: 'on-failure',
      maxRetries: 1,
    })
    const s = await reach(p.id, 'backoff', 1)
    clock.advance(s.nextRetryAt! - clock.now())
    await reach(p.id, 'fatal', 2)
    const b = await rec.start({ command: 'sleep 300' })
    await rec.supervisor.stop(b.id)
    const runs = rec.supervisor.runs(p.id)
    expect(runs.map((r) => [r.number, r.startReason, r.endReason, r.exit])).toEqual([
      [2, 'restart', 'exit', { kind: 'code', code: 2 }],
      [1, 'user', 'exit', { kind: 'code', code: 2 }],
    ])
    expect(rec.supervisor.runs(b.id)[0]).toMatchObject({
      startReason: 'user',
      endReason: 'user-stop',
    })
  })

  it('keeps every byte of a 50 MB mixed stdout/stderr burst, in order, on disk', async () => {
    const dataDir = tmpDir()
    rec = new Recorder({ dataDir, bufferChars: 1024 * 1024 })
    const p = await rec.start({ command: nodeFixture('burst.mjs', String(50 * 1024 * 1024)) })
    const end = await rec.ended(p.id, 60_000)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    await rec.supervisor.logsWritten()
    const run = rec.supervisor.runs(p.id)[0]
    expect(run.bytes).toBe(50 * 1024 * 1024)
    const { records } = await readLog(path.join(dataDir, 'runs', p.id, `${run.runId}.log`))
    const out = Buffer.concat(records.filter((r) => r.stream === 'stdout').map((r) => r.data))
    const err = Buffer.concat(records.filter((r) => r.stream === 'stderr').map((r) => r.data))
    const expected = expectedBurst(50 * 1024 * 1024)
    expect(out.equals(expected.stdout)).toBe(true)
    expect(err.equals(expected.stderr)).toBe(true)
    const times = records.map((r) => r.time)
    expect(times).toEqual([...times].sort((a, b) => a - b))
  })

  it('shows a past run exactly as written and prunes beyond the retention limit', async () => {
    const dataDir = tmpDir()
    rec = new Recorder({ dataDir })
    const p = await rec.start({
      command: `printf 'run\\n\\033[31mred\\033[0m\\n'; printf 'oops\\n' >&2`,
      shell: true,
    })
    await rec.ended(p.id)
    const first = rec.supervisor.runs(p.id)[0]
    for (let i = 0; i < 21; i++) {
      await rec.supervisor.restart(p.id)
      await rec.until(p.id, (s) => s.runCount === i + 2 && s.state === 'exited')
    }
    const runs = rec.supervisor.runs(p.id)
    expect(runs).toHaveLength(20)
    expect(runs[0].number).toBe(22)
    expect(runs.at(-1)!.number).toBe(3)
    expect(
      readdirSync(path.join(dataDir, 'runs', p.id)).filter((n) => n.endsWith('.log')),
    ).toHaveLength(20)
    await expect(async () => rec.supervisor.runOutput(p.id, first.runId)).rejects.toMatchObject({
      code: 'NO_SUCH_RUN',
    })
    const past = await rec.supervisor.runOutput(p.id, runs[5].runId)
    expect(
      past.chunks
        .filter((c) => c.stream === 'stdout')
        .map((c) => c.data)
        .join(''),
    ).toBe('run\n\x1b[31mred\x1b[0m\n')
    expect(
      past.chunks
        .filter((c) => c.stream === 'stderr')
        .map((c) => c.data)
        .join(''),
    ).toBe('oops\n')
  })
})

describe('run logs of ad-hoc processes', () => {
  it('are deleted when the process is removed, and once the Corral that ran them has ended', async () => {
    const dataDir = tmpDir()
    const runs = path.join(dataDir, 'runs')
    // The list of a Corral's ad-hoc processes.
    const listOf = (pid: number): string => path.join(runs, `.ad-hoc-${pid}.json`)
    const listed = (pid: number): string[] => {
      try {
        return (JSON.parse(readFileSync(listOf(pid), 'utf8')) as string[]).sort()
      } catch {
        return []
      }
    }
    // The processes with logs (not those being deleted in the background, nor lists).
    const withLogs = (): string[] =>
      readdirSync(runs)
        .filter((n) => !n.startsWith('.'))
        .sort()
    const until = async (what: () => boolean): Promise<void> => {
      for (const deadline = Date.now() + 10_000; !what(); await sleep(10)) {
        if (Date.now() > deadline) throw new Error('timed out')
      }
    }
    rec = new Recorder({ dataDir })
    // Removed: its logs go with it, as Remove says.
    const gone = await rec.start({ command: 'echo gone', name: 'gone' })
    await rec.ended(gone.id)
    await rec.supervisor.logsWritten()
    expect(readdirSync(path.join(runs, gone.id)).filter((n) => n.endsWith('.log'))).toHaveLength(1)
    await rec.supervisor.remove(gone.id)
    expect(withLogs()).not.toContain(gone.id)
    await until(() => withLogs().length === 0 && listed(process.pid).length === 0)
    // Left behind when this Corral ends: an ad-hoc process, one saved after it ran, a saved
    // one, and an ad-hoc process of another Corral on the same folder that still runs.
    const [left, other, savedLater] = await Promise.all(
      ['left', 'other', 'saved later'].map((name) => rec.start({ command: 'true', name })),
    )
    const saved = await rec.supervisor.define({ command: 'true', name: 'saved' })
    await rec.supervisor.restart(saved.id)
    for (const p of [left, other, savedLater, saved]) await rec.ended(p.id)
    await rec.supervisor.update(savedLater.id, { command: 'true', name: 'saved later' })
    await rec.supervisor.logsWritten()
    expect(listed(process.pid)).toEqual([left.id, other.id].sort())
    // "other" was another Corral's, which still runs.
    const otherCorral = spawn('sleep', ['30'])
    await until(() => otherCorral.pid !== undefined)
    // A process of unknown kind (say, a definition that could not be read): kept.
    mkdirSync(path.join(runs, 'p-unknown'))
    writeFileSync(path.join(runs, 'p-unknown', 'runs.json'), '{}')
    await rec.supervisor.shutdown()
    writeFileSync(listOf(process.pid), JSON.stringify([left.id]))
    writeFileSync(listOf(otherCorral.pid!), JSON.stringify([other.id]))

    const before = withLogs()
    rec = new Recorder({ dataDir })
    expect(withLogs()).toEqual(before.filter((n) => n !== left.id))
    expect(existsSync(listOf(otherCorral.pid!))).toBe(true)
    // The other Corral has ended: the next start deletes what it left too.
    await rec.supervisor.shutdown()
    otherCorral.kill()
    await new Promise((resolve) => otherCorral.once('exit', resolve))
    rec = new Recorder({ dataDir })
    expect(withLogs()).toEqual([saved.id, savedLater.id, 'p-unknown'].sort())
    expect(existsSync(listOf(otherCorral.pid!))).toBe(false)
    // Saved processes keep their runs.
    expect(rec.supervisor.runs(savedLater.id)).toHaveLength(1)
    expect(rec.supervisor.runs(saved.id)).toHaveLength(1)
  })
})

describe('reading a range of the current run back from disk', () => {
  it('returns chunks with their live sequence numbers, limited to the range', async () => {
    rec = new Recorder({ dataDir: tmpDir() })
    const p = await rec.start({ command: nodeFixture('interleave.mjs', '12') })
    await rec.ended(p.id)
    // Corral's own lines are logged with the program's output, "started" first.
    const live = rec.chunks.get(p.id)!
    expect(live[0].data).toMatch(/^▶ started /)
    const runId = rec.supervisor.runs(p.id)[0].runId
    const all = await rec.supervisor.runOutput(p.id, runId)
    expect(all.chunks).toEqual(live)
    const from = live[2].seq
    const to = live[6].seq
    const part = await rec.supervisor.runOutput(p.id, runId, { afterSeq: from, beforeSeq: to })
    expect(part.chunks).toEqual(live.filter((c) => c.seq > from && c.seq < to))
    const newest = await rec.supervisor.runOutput(p.id, runId, {
      limitBytes: Buffer.byteLength(live.at(-1)!.data),
    })
    expect(newest.chunks).toEqual([live.at(-1)])
    expect(newest.skippedBytes).toBe(
      live.slice(0, -1).reduce((n, c) => n + Buffer.byteLength(c.data), 0),
    )
  })
})

/** What burst.mjs writes for `total` bytes: see the fixture. */
function expectedBurst(total: number): { stdout: Buffer; stderr: Buffer } {
  const parts: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] }
  let written = 0
  for (let i = 0; written < total; i++) {
    const size = Math.min(1000 + ((i * 7919) % 30_000), total - written)
    const block = Buffer.alloc(size, String.fromCharCode(97 + (i % 26)))
    block.write(`#${i}:`, 0)
    ;(i % 3 === 0 ? parts.stderr : parts.stdout).push(block)
    written += size
  }
  return { stdout: Buffer.concat(parts.stdout), stderr: Buffer.concat(parts.stderr) }
}
