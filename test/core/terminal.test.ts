import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { OutputChunk, ProcessInfo } from '../../src/shared/contract'
import { Host } from '../../src/main/core/host'
import { ManagedProcess } from '../../src/main/core/managed-process'
import {
  FLOW_HIGH_WATER_BYTES,
  FLOW_STALL_MS,
  FlowControl,
  ptyAvailability,
} from '../../src/main/core/pty'
import { readLog } from '../../src/main/core/run-store'
import { liveGroupMembers, Recorder, sleep } from '../helpers'

const pty = ptyAvailability()
if (!pty.available) console.warn(`Terminal tests skipped: ${pty.reason}`)
const describePty = pty.available ? describe : describe.skip

let rec: Recorder | undefined
const managed: ManagedProcess[] = []
afterEach(async () => {
  await rec?.supervisor.shutdown()
  rec = undefined
  for (const p of managed.splice(0)) {
    await p.kill()
    p.reapGroup()
  }
})

/** Pids of live processes whose command line is exactly `argv`. */
function pidsRunning(argv: string[]): number[] {
  const want = argv.join('\0')
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0$/, '')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (cmd === want && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') out.push(Number(entry))
    } catch {
      // Gone while we looked: not running.
    }
  }
  return out
}

async function until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

describePty('terminal mode', () => {
  it('gives the program a terminal: isatty is true for stdin and stdout', async () => {
    rec = new Recorder()
    const p = await rec.start({
      command: `python3 -c 'import sys;print(sys.stdin.isatty(), sys.stdout.isatty())'`,
      terminal: true,
    })
    expect(p.terminal).toEqual({ cols: 80, rows: 24 })
    const end = await rec.ended(p.id)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    // A terminal turns \n into \r\n.
    expect(rec.text(p.id, 'stdout')).toContain('True True\r\n')
    expect(rec.text(p.id, 'stderr')).toBe('')
  })

  it('resizes: the program sees the new size and the next run starts with it', async () => {
    rec = new Recorder()
    const p = await rec.start({
      command: `stty size; tput cols; read x; stty size; tput cols`,
      shell: true,
      terminal: true,
    })
    await rec.waitForText(p.id, '24 80\r\n80\r\n')
    rec.supervisor.resize(p.id, 132, 43)
    await rec.until(p.id, (s) => s.terminal?.cols === 132 && s.terminal.rows === 43)
    await rec.supervisor.write(p.id, '\r')
    await rec.waitForText(p.id, '43 132\r\n132\r\n')
    await rec.ended(p.id)
    await rec.supervisor.restart(p.id)
    await rec.waitForText(p.id, '43 132\r\n132\r\n43 132')
  })

  it('refuses to resize a process that does not run in a terminal', async () => {
    rec = new Recorder()
    const p = await rec.start({ command: 'true' })
    expect(p.terminal).toBeUndefined()
    expect(() => rec!.supervisor.resize(p.id, 100, 30)).toThrow(
      expect.objectContaining({ code: 'NOT_A_TERMINAL' }),
    )
    // Acknowledging output of a pipe process is harmless.
    expect(() => rec!.supervisor.ack(p.id, 100)).not.toThrow()
  })

  it('Ctrl-C typed into the terminal interrupts sleep and the run ends', async () => {
    rec = new Recorder()
    const p = await rec.start({ command: 'sleep 30', terminal: true })
    await rec.until(p.id, (s) => s.state === 'running')
    // Give sleep a moment to exec (before that the child's line discipline is not set up).
    await sleep(100)
    await rec.supervisor.write(p.id, '\x03')
    const end = await rec.ended(p.id, 5000)
    expect(end.exit).toEqual({ kind: 'signal', signal: 'SIGINT', afterGrace: false })
  })

  it('Send EOF types Ctrl-D: cat reads end of file and ends', async () => {
    rec = new Recorder()
    // Under a shell: a session leader that exits as the terminal's last reader can race the
    // kernel's hang-up and end by SIGHUP; cat's own exit status is what this is about.
    const p = await rec.start({ command: 'cat; echo "cat-exit=$?"', shell: true, terminal: true })
    await rec.supervisor.write(p.id, 'echoed\r')
    // The terminal's echo, then cat's copy: cat is running and reading.
    await rec.waitForText(p.id, 'echoed\r\nechoed\r\n')
    // The terminal echoes what is typed; Corral adds no echo of its own.
    expect(rec.chunks.get(p.id)!.some((c) => c.stream === 'stdin')).toBe(false)
    rec.supervisor.closeStdin(p.id)
    await rec.ended(p.id, 5000)
    expect(rec.text(p.id, 'stdout')).toContain('cat-exit=0')
  })

  it('records the terminal output in the run log on disk, every byte', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-term-'))
    rec = new Recorder({ dataDir })
    const p = await rec.start({
      command: `printf 'héllo \\033[31mred\\033[0m 日本\\n'; seq 1 2000`,
      shell: true,
      terminal: true,
    })
    const end = await rec.ended(p.id)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    await rec.supervisor.logsWritten()
    const file = path.join(dataDir, 'runs', p.id, `${end.runId}.log`)
    const { records } = await readLog(file)
    const program = records.filter((r) => r.stream !== 'system')
    const logged = Buffer.concat(program.map((r) => r.data)).toString('utf8')
    expect(records.filter((r) => r.stream === 'stderr')).toEqual([])
    expect(logged).toContain('héllo \x1b[31mred\x1b[0m 日本\r\n')
    expect(logged).toContain('1999\r\n2000\r\n')
    expect(logged).toBe(rec.text(p.id, 'stdout'))
    // The sequence numbers on disk are the ones the chunks had live.
    const live = rec.chunks.get(p.id)!
    expect(records.map((r) => `${r.seq} ${r.stream}`)).toEqual(
      live.map((c: OutputChunk) => `${c.seq} ${c.stream}`),
    )
  })

  it('Stop reaches the whole group, and the foreground job of an interactive shell', async () => {
    rec = new Recorder({ stopGraceMs: 1000 })
    const p = await rec.start({
      command: 'sleep 3101 & sleep 3102 & wait',
      shell: true,
      terminal: true,
    })
    await until(() => liveGroupMembers(p.pid!).length === 3, 'three group members')
    const stopped = await rec.supervisor.stop(p.id)
    expect(stopped.state).toBe('stopped')
    await until(() => liveGroupMembers(p.pid!).length === 0, 'the group to end')

    // bash -i ignores SIGTERM and runs each job in a group of its own.
    const shell = await rec.start({ command: 'bash --norc --noprofile -i', terminal: true })
    await rec.supervisor.write(shell.id, 'sleep 3103\r')
    await until(() => pidsRunning(['sleep', '3103']).length === 1, 'the foreground job')
    const job = pidsRunning(['sleep', '3103'])[0]
    expect(liveGroupMembers(shell.pid!)).not.toContain(job)
    await rec.supervisor.stop(shell.id)
    await until(() => pidsRunning(['sleep', '3103']).length === 0, 'the job to end')
  })

  it('says "program not found" for a missing program, as in pipe mode', async () => {
    rec = new Recorder()
    const p = await rec.start({ command: 'no-such-program-corral-test --flag', terminal: true })
    const end = await rec.ended(p.id)
    expect(end.state).toBe('fatal')
    expect(end.exit).toEqual({
      kind: 'failed',
      code: 'ENOENT',
      reason: 'program not found: no-such-program-corral-test (not on PATH)',
    })
    const missingCwd = await rec.start({ command: 'true', cwd: '/no/such/dir', terminal: true })
    const end2 = await rec.ended(missingCwd.id)
    expect(end2.exit).toMatchObject({ kind: 'failed', code: 'ENOTDIR_CWD' })
  })

  it('reports terminal availability in hostInfo', async () => {
    rec = new Recorder()
    const result = await new Host(rec.supervisor).call('hostInfo', [])
    expect(result).toMatchObject({ ok: true, value: { terminal: { available: true } } })
  })

  it('validates resize and ack payloads', async () => {
    rec = new Recorder()
    const host = new Host(rec.supervisor)
    const p = await rec.start({ command: 'sleep 5', terminal: true })
    for (const args of [
      [p.id, 0, 24],
      [p.id, 80, 1001],
      [p.id, 80.5, 24],
      [p.id, '80', 24],
      [p.id, 80],
    ]) {
      expect(await host.call('resize', args)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PAYLOAD' },
      })
    }
    expect(await host.call('resize', [p.id, 1000, 1])).toEqual({ ok: true, value: null })
    expect(await host.call('ack', [p.id, -1])).toMatchObject({ ok: false })
    expect(await host.call('ack', [p.id, 4096])).toEqual({ ok: true, value: null })
    expect(await host.call('start', [{ command: 'x', terminal: 'yes' }])).toMatchObject({
      ok: false,
      error: { code: 'INVALID_PAYLOAD' },
    })
  })
})

describePty('terminal flow control', () => {
  /** A terminal process driven directly, with the bytes it delivered counted. */
  function flood(): { proc: ManagedProcess; delivered: () => number } {
    let bytes = 0
    const proc = new ManagedProcess({
      id: 'flood',
      spec: { command: 'yes', terminal: true },
      saved: false,
      onStatus: (_info: ProcessInfo) => {},
      onOutput: (chunks) => {
        for (const c of chunks) if (c.stream === 'stdout') bytes += Buffer.byteLength(c.data)
      },
    })
    managed.push(proc)
    return { proc, delivered: () => bytes }
  }

  it('pauses above the high watermark and resumes when the viewer acknowledges', async () => {
    const { proc, delivered } = flood()
    await proc.start()
    proc.ack(0) // a viewer is watching
    await until(() => proc.flowState?.paused === true, 'the pause')
    await sleep(200)
    const atPause = delivered()
    expect(atPause).toBeGreaterThan(FLOW_HIGH_WATER_BYTES)
    await sleep(300)
    // Paused: at most what was already read when the pause began trickles out.
    expect(delivered()).toBe(atPause)
    proc.ack(atPause)
    expect(proc.flowState?.paused).toBe(false)
    await until(() => delivered() > atPause + FLOW_HIGH_WATER_BYTES, 'output to flow again')
  })

  it('runs at full speed when nobody acknowledges, and forgives a viewer that went away', async () => {
    const { proc, delivered } = flood()
    await proc.start()
    // Nobody has acknowledged anything: no pause, however much is sent.
    await until(() => delivered() > 10 * FLOW_HIGH_WATER_BYTES, 'a flood')
    expect(proc.flowState?.paused).toBe(false)
    proc.ack(0)
    await until(() => proc.flowState?.paused === true, 'the pause')
    const pausedAt = Date.now()
    // The viewer never acknowledges again: the pause is forgiven after the stall time.
    await until(() => proc.flowState?.paused === false, 'the pause to be forgiven', 5000)
    expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(FLOW_STALL_MS - 50)
    const after = delivered()
    await until(() => delivered() > after + 10 * FLOW_HIGH_WATER_BYTES, 'full speed again')
    expect(proc.flowState?.paused).toBe(false)
  })

  it('keeps the output a paused program wrote just before it ended', async () => {
    let text = ''
    /** Times reading paused during the run. */
    let pauses = 0
    const proc = new ManagedProcess({
      id: 'burst',
      spec: {
        // More than the high watermark, and a rest small enough to fit in the terminal's
        // kernel buffer: the program exits while reading is paused.
        command: `python3 -c "import sys; sys.stdout.write('x' * 103000 + 'END')"`,
        terminal: true,
      },
      saved: false,
      onStatus: () => {},
      onOutput: (chunks) => {
        for (const c of chunks) if (c.stream === 'stdout') text += c.data
        // Read as output is handed on: the output that made reading pause is handed on
        // within a turn or two, well before the run's end can be noticed (polled every 50 ms
        // while paused); a timer polling the pause could run too late on a busy machine.
        pauses = proc.flowState?.pauses ?? pauses
      },
    })
    managed.push(proc)
    await proc.start()
    proc.ack(0)
    const started = Date.now()
    await proc.waitEnded()
    expect(pauses).toBeGreaterThan(0)
    expect(text.endsWith('END')).toBe(true)
    expect(text.length).toBe(103003)
    // Reading resumed because the program ended, not because the stall was forgiven.
    expect(Date.now() - started).toBeLessThan(FLOW_STALL_MS)
  })
})

describe('FlowControl', () => {
  it('follows the watermarks and clamps over-acknowledgement', () => {
    const events: string[] = []
    const timers: (() => void)[] = []
    const flow = new FlowControl(
      () => events.push('pause'),
      () => events.push('resume'),
      { setTimeout: (fn) => timers.push(fn), clearTimeout: () => {} },
      100,
      10,
      1000,
    )
    flow.sent(1000)
    expect(events).toEqual([]) // not armed yet
    flow.ack(5000)
    expect(flow.pending).toBe(0)
    flow.sent(60)
    flow.sent(60)
    expect(events).toEqual(['pause'])
    flow.ack(100)
    expect(events).toEqual(['pause']) // 20 left, above the low watermark
    flow.ack(10)
    expect(events).toEqual(['pause', 'resume'])
    flow.sent(200)
    expect(events).toEqual(['pause', 'resume', 'pause'])
    timers.at(-1)!() // no acknowledgement within the stall time
    expect(events).toEqual(['pause', 'resume', 'pause', 'resume'])
    flow.sent(1000)
    expect(flow.paused).toBe(false) // disarmed until the next acknowledgement
  })
})
