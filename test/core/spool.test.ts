import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RECORD_HEADER_BYTES } from '../../src/main/core/run-store'
import {
  SPOOL_BYTES_PER_TURN,
  SPOOL_SKIP_BEHIND_BYTES,
  spoolAvailable,
  SpoolTail,
} from '../../src/main/core/spool'
import { numberedLines, Recorder, sleep, streamText } from '../helpers'

// Spooled output: the child writes its output into files next to its run log, which Corral
// follows (see spool.ts). Linux only.
describe.skipIf(!spoolAvailable)('spooled output', () => {
  let dataDir: string
  let rec: Recorder
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-spool-'))
  })
  afterEach(async () => {
    await rec?.supervisor.shutdown()
    rmSync(dataDir, { recursive: true, force: true })
  })

  /** The files of the one run of process `id`. */
  function runFiles(id: string): { log: string; stdout: string; stderr: string } {
    const dir = path.join(dataDir, 'runs', id)
    // The spool files are made before the child starts; the log is opened in the background.
    const stdout = readdirSync(dir).find((f) => f.endsWith('.stdout'))!
    const base = path.join(dir, stdout.replace(/\.stdout$/, ''))
    return { log: `${base}.log`, stdout: `${base}.stdout`, stderr: `${base}.stderr` }
  }

  /**
   * Hold every spool read back until `release()`, so that the children can write all they
   * will first; the tails that tried to read are in `held`. Released, reads go through `read`
   * (the real read unless given).
   */
  function gateReads(read?: (want: number, real: (want: number) => number) => number) {
    let gated = true
    const held = new Set<SpoolTail>()
    const original = SpoolTail.prototype.readSome
    const spy = vi.spyOn(SpoolTail.prototype, 'readSome')
    spy.mockImplementation(function (this: SpoolTail, want: number) {
      if (gated) {
        held.add(this)
        return 0
      }
      const real = (n: number): number => original.call(this, n)
      return read ? read(want, real) : real(want)
    })
    const release = (): void => {
      gated = false
      for (const tail of held) tail.wakeUp()
    }
    // A failed check must not leave the children's output unread.
    const restore = (): void => {
      release()
      spy.mockRestore()
    }
    return { held, release, restore }
  }

  it('the child writes its output to spool files; the run log records only where it is', async () => {
    rec = new Recorder({ dataDir })
    const script = 'for i in $(seq 1 2000); do echo "out $i"; echo "err $i" >&2; done'
    const p = await rec.start({ command: script, shell: true })
    await rec.ended(p.id)
    const files = runFiles(p.id)
    const out = rec.text(p.id, 'stdout')
    const err = rec.text(p.id, 'stderr')
    expect(out.split('\n')[1999]).toBe('out 2000')
    expect(err.split('\n')[1999]).toBe('err 2000')
    // Every byte shown is in the spool file of its stream, and the log holds no copy of it.
    expect(statSync(files.stdout).size).toBe(Buffer.byteLength(out))
    expect(statSync(files.stderr).size).toBe(Buffer.byteLength(err))
    const records = rec.chunks.get(p.id)!.filter((c) => c.stream !== 'system').length
    // Corral's own lines ("started", "exited") are the only bytes the log itself holds.
    const own = rec.chunks.get(p.id)!.filter((c) => c.stream === 'system')
    const ownBytes = own.reduce((n, c) => n + RECORD_HEADER_BYTES + Buffer.byteLength(c.data), 0)
    expect(own.length).toBe(2)
    await rec.supervisor.logsWritten()
    expect(statSync(files.log).size).toBe(records * (RECORD_HEADER_BYTES + 8) + ownBytes)
    // Read back through the log, it is what was shown, chunk for chunk.
    const back = await rec.supervisor.runOutput(p.id, rec.supervisor.runs(p.id)[0].runId)
    expect(streamText(back.chunks, 'stdout')).toBe(out)
    expect(streamText(back.chunks, 'stderr')).toBe(err)
    // A range of it, as the view loads what it skipped.
    const mid = back.chunks[Math.floor(back.chunks.length / 2)].seq
    const part = await rec.supervisor.runOutput(p.id, back.run.runId, { afterSeq: mid })
    expect(part.chunks.map((c) => c.seq)).toEqual(
      back.chunks.filter((c) => c.seq > mid).map((c) => c.seq),
    )
  })

  it('many floods at once: every byte in order, at most the turn budget read per turn', async () => {
    rec = new Recorder({ dataDir })
    const file = path.join(dataDir, 'lines.txt')
    const content = numberedLines(40_000)
    writeFileSync(file, content)
    // Reads that happen in the same turn of the reader share one macrotask: a microtask
    // queued by the first of them runs only after the last.
    const turns: number[] = []
    let open = false
    // Nothing is read until every child has written all it will, so that the first turns
    // find twelve floods with more than the budget ready, however fast this machine reads.
    const gate = gateReads((want, real) => {
      if (!open) {
        open = true
        turns.push(0)
        queueMicrotask(() => (open = false))
      }
      const n = real(want)
      turns[turns.length - 1] += n
      return n
    })
    try {
      const ps = await Promise.all(
        Array.from({ length: 12 }, () => rec.start({ command: `cat ${file}`, shell: true })),
      )
      // Shown by a viewer, each is read at its own rate and only skipped 8 MiB behind.
      rec.supervisor.viewing(
        {},
        ps.map((p) => p.id),
      )
      const written = (): number => ps.reduce((n, p) => n + statSync(runFiles(p.id).stdout).size, 0)
      // Each tail (stdout and stderr of each child) has tried to read once, at its start.
      const deadline = Date.now() + 30_000
      while ((written() < 12 * content.length || gate.held.size < 24) && Date.now() < deadline) {
        await sleep(20)
      }
      expect(gate.held.size).toBe(24)
      gate.release()
      await Promise.all(ps.map((p) => rec.ended(p.id, 60_000)))
      for (const p of ps) expect(rec.text(p.id, 'stdout') === content).toBe(true)
      expect(turns.reduce((a, b) => a + b, 0)).toBe(12 * content.length)
      expect(Math.max(...turns)).toBeLessThanOrEqual(SPOOL_BYTES_PER_TURN)
      // The budget bit: some turns read all of it (twelve floods have more than that ready).
      expect(turns.filter((t) => t === SPOOL_BYTES_PER_TURN).length).toBeGreaterThan(0)
    } finally {
      gate.restore()
    }
  })

  it('processes no viewer shows share a read rate, and skip 1 MiB behind when many flood; one shown is read whole', async () => {
    rec = new Recorder({ dataDir })
    const file = path.join(dataDir, 'six.txt')
    const content = numberedLines(60_000)
    writeFileSync(file, content)
    const size = Buffer.byteLength(content)
    expect(size).toBeGreaterThan(4 * 1024 * 1024)
    expect(size).toBeLessThan(SPOOL_SKIP_BEHIND_BYTES)
    // Nothing is read until every child has written all of it, so all are far behind.
    const gate = gateReads()
    try {
      const command = `cat ${file}; sleep 0.2`
      const shown = await rec.start({ command, shell: true })
      const background = await Promise.all(
        Array.from({ length: 8 }, () => rec.start({ command, shell: true })),
      )
      rec.supervisor.viewing({}, [shown.id])
      const all = [shown, ...background]
      const written = (id: string): number => statSync(runFiles(id).stdout).size
      const deadline = Date.now() + 30_000
      while (
        (all.some((p) => written(p.id) < size) || gate.held.size < 2 * all.length) &&
        Date.now() < deadline
      )
        await sleep(20)
      gate.release()
      await Promise.all(all.map((p) => rec.ended(p.id)))
      // Shown: read whole, whatever else floods.
      expect(rec.gone.get(shown.id) ?? 0).toBe(0)
      expect(rec.text(shown.id, 'stdout') === content).toBe(true)
      // The others: 48 MB against a shared burst of 16 MiB and 32 MiB/s, so most was skipped
      // (on disk, in the log); each one's last line was read.
      const last = content.slice(content.lastIndexOf('\n', content.length - 2) + 1)
      let gone = 0
      for (const p of background) {
        const kept = rec.text(p.id, 'stdout')
        expect(Buffer.byteLength(kept) + (rec.gone.get(p.id) ?? 0)).toBe(size)
        expect(kept.endsWith(last)).toBe(true)
        gone += rec.gone.get(p.id) ?? 0
      }
      expect(gone).toBeGreaterThan(16 * 1024 * 1024)
    } finally {
      gate.restore()
    }
  })

  it('far behind a flood, skips the middle unread: on disk and in the log, loadable by record', async () => {
    rec = new Recorder({ dataDir })
    const file = path.join(dataDir, 'flood.txt')
    // 48 MB of lines with two- to four-byte characters, so cuts can fall inside one.
    const line = (i: number): string => `${String(i).padStart(8, '0')} é€😀 ${'x'.repeat(80)}\n`
    const content = Array.from({ length: 480_000 }, (_, i) => line(i)).join('')
    writeFileSync(file, content)
    const size = Buffer.byteLength(content)
    const p = await rec.start({ command: `cat ${file}`, shell: true })
    const end = await rec.ended(p.id, 60_000)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    // `cat` writes far faster than one turn's reading: most of it was skipped, not read.
    const gone = rec.gone.get(p.id) ?? 0
    expect(gone).toBeGreaterThan(SPOOL_SKIP_BEHIND_BYTES)
    const shown = rec.text(p.id, 'stdout')
    expect(Buffer.byteLength(shown) + gone).toBe(size)
    expect(shown.endsWith(line(479_999))).toBe(true)
    expect(shown).not.toContain('\uFFFD')
    // The log has all of it, in order, and every skipped record decodes on its own.
    const runId = rec.supervisor.runs(p.id)[0].runId
    const back = await rec.supervisor.runOutput(p.id, runId, { limitBytes: 2 * size })
    expect(back.skippedBytes).toBe(0)
    expect(streamText(back.chunks) === content).toBe(true)
    const skipped = rec.chunks.get(p.id)!.filter((c) => c.stream === 'stdout' && c.data === '')
    expect(skipped.length).toBeGreaterThan(8)
    for (const c of skipped.slice(0, 20)) {
      const one = await rec.supervisor.runOutput(p.id, runId, {
        afterSeq: c.seq - 1,
        beforeSeq: c.seq + 1,
      })
      expect(one.chunks.length).toBe(1)
      expect(one.chunks[0].data.length).toBeGreaterThan(0)
      expect(one.chunks[0].data).not.toContain('\uFFFD')
    }
  })

  it('a program that opens /dev/stdout or /dev/stderr itself loses nothing written before', async () => {
    rec = new Recorder({ dataDir })
    // As shell scripts say errors: `> /dev/stderr` opens the file anew, truncating it.
    const p = await rec.start({
      command:
        'echo first-err >&2; echo first-out; sleep 0.2; echo opened-err > /dev/stderr; ' +
        'echo opened-out > /dev/stdout; sleep 0.2; echo last-err >&2; echo last-out',
      shell: true,
    })
    const end = await rec.ended(p.id)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    expect(rec.text(p.id, 'stdout')).toBe('first-out\nopened-out\nlast-out\n')
    expect(rec.text(p.id, 'stderr')).toBe('first-err\nopened-err\nlast-err\n')
    // The spool files and the run log have all of it too.
    const files = runFiles(p.id)
    expect(readFileSync(files.stdout, 'utf8')).toBe('first-out\nopened-out\nlast-out\n')
    expect(readFileSync(files.stderr, 'utf8')).toBe('first-err\nopened-err\nlast-err\n')
    const runId = rec.supervisor.runs(p.id)[0].runId
    const back = await rec.supervisor.runOutput(p.id, runId, { limitBytes: 1 << 20 })
    expect(streamText(back.chunks, 'stdout')).toBe('first-out\nopened-out\nlast-out\n')
    expect(streamText(back.chunks, 'stderr')).toBe('first-err\nopened-err\nlast-err\n')
  })

  it('without the forker (no relay), output goes through pipes: opening /dev/stderr cannot truncate what was written', async () => {
    process.env.CORRAL_FORKER = '0'
    try {
      rec = new Recorder({ dataDir })
    } finally {
      delete process.env.CORRAL_FORKER
    }
    const p = await rec.start({
      command:
        'echo first-err >&2; sleep 0.2; echo opened-err > /dev/stderr; sleep 0.2; echo last-err >&2',
      shell: true,
    })
    const end = await rec.ended(p.id)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    // Node's pipes are socket pairs, which Linux does not let a program open anew: the shell
    // says so, and everything written before and after is there, in order.
    const err = rec.text(p.id, 'stderr').split('\n')
    expect(err[0]).toBe('first-err')
    expect(err[1]).toContain('/dev/stderr')
    expect(err.slice(2)).toEqual(['last-err', ''])
    // No spool files: the run log has it all.
    const dir = path.join(dataDir, 'runs', p.id)
    expect(readdirSync(dir).filter((f) => /\.std(out|err)$/.test(f))).toEqual([])
    const runId = rec.supervisor.runs(p.id)[0].runId
    const back = await rec.supervisor.runOutput(p.id, runId, { limitBytes: 1 << 20 })
    expect(streamText(back.chunks, 'stderr')).toBe(rec.text(p.id, 'stderr'))
  })

  it('a run ends when its leader exits and what is left of its group does not hold the output', async () => {
    rec = new Recorder({ dataDir })
    const p = await rec.start({ command: 'sleep 30 >/dev/null 2>&1 & echo started', shell: true })
    const end = await rec.ended(p.id, 5000)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    expect(rec.text(p.id)).toBe('started\n')
  })

  it('a run waits for a background member of its group that still writes, as with a pipe', async () => {
    rec = new Recorder({ dataDir })
    const p = await rec.start({
      command: '(sleep 0.6; echo late) & echo early',
      shell: true,
    })
    const end = await rec.ended(p.id, 10_000)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    expect(rec.text(p.id)).toBe('early\nlate\n')
  })

  it('removes the spool files of runs beyond retention with their logs', async () => {
    rec = new Recorder({ dataDir })
    const p = await rec.start({ command: 'echo run', shell: true })
    await rec.ended(p.id)
    for (let i = 0; i < 21; i++) {
      await rec.supervisor.restart(p.id)
      await rec.until(p.id, (s) => s.runCount === i + 2 && s.state === 'exited')
    }
    await rec.supervisor.shutdown()
    const names = readdirSync(path.join(dataDir, 'runs', p.id))
    const logs = names.filter((n) => n.endsWith('.log'))
    expect(logs.length).toBe(20)
    for (const log of logs) {
      const base = log.replace(/\.log$/, '')
      expect(names).toContain(`${base}.stdout`)
      expect(names).toContain(`${base}.stderr`)
    }
    expect(names.length).toBe(20 * 3 + 1)
  })
})

describe.skipIf(!spoolAvailable)('a spool file that waits for inotify', () => {
  let dir: string
  const tails: SpoolTail[] = []
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'corral-spool-'))
  })
  afterEach(() => {
    for (const tail of tails.splice(0)) tail.discard()
    rmSync(dir, { recursive: true, force: true })
  })

  it('still shows a quiet child’s output when the kernel dropped its inotify event', async () => {
    const follow = async (name: string) => {
      const tail = await SpoolTail.create(path.join(dir, name))
      tails.push(tail)
      let text = ''
      tail.on('data', (piece: Buffer) => (text += piece.toString()))
      SpoolTail.start([tail])
      return { tail, text: () => text }
    }
    const quiet = await follow('quiet.stdout')
    const floods = [await follow('a.stdout'), await follow('b.stdout')]
    // Every tail read what there was (nothing) and now waits for inotify.
    await sleep(50)
    // The kernel queues a bounded number of inotify events per instance (Node has one per
    // thread) and drops the rest: two floods alternating their writes (so that no two events
    // in a row merge) while the event loop is blocked fill the queue, and the quiet child's
    // line written after them is never announced.
    let limit = 16_384
    try {
      limit = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'))
    } catch {
      // The default, where /proc does not say.
    }
    // (Where the queue is far longer than the default, this no longer fills it.)
    const writes = Math.min(Math.ceil((limit * 1.2) / 2), 60_000)
    execFileSync(
      'sh',
      [
        '-c',
        `i=0; while [ $i -lt ${writes} ]; do printf x >&3; printf x >&4; i=$((i+1)); done 3>>a.stdout 4>>b.stdout; printf 'echo\\n' >>quiet.stdout`,
      ],
      { cwd: dir },
    )
    const deadline = Date.now() + 5000
    while (quiet.text() !== 'echo\n' && Date.now() < deadline) await sleep(20)
    expect(quiet.text()).toBe('echo\n')
    for (const flood of floods) expect(flood.text().length).toBe(writes)
  })
})
