import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DiskRoom } from '../../src/main/core/disk-room'
import { spoolAvailable } from '../../src/main/core/spool'
import { Recorder, streamText } from '../helpers'

// A spooled child's output goes straight into files (see spool.ts), so on a full disk it is
// lost; runs start spooled only while the disk has room, and say so when it runs short.

/** Corral's own lines in the output of `id`. */
const corralLines = (rec: Recorder, id: string): string =>
  streamText(rec.chunks.get(id) ?? [], 'system')

describe('DiskRoom', () => {
  it("reads the free space statfs gives for the directory's disk", async () => {
    const dir = os.tmpdir()
    const room = new DiskRoom(dir)
    const st = statfsSync(dir)
    const free = await room.free()
    // Other writers on the machine move it a little between the two readings.
    expect(Math.abs(free! - st.bavail * st.bsize)).toBeLessThan(64 * 1024 * 1024)
    expect(room.stateOf(free!)).toBe(free! >= 256 * 1024 * 1024 ? 'ok' : 'low')
    expect(room.stateOf(0)).toBe('full')
  })

  it('gives null for a directory that is not there', async () => {
    expect(await new DiskRoom('/no/such/corral/dir').free()).toBeNull()
  })
})

describe.skipIf(!spoolAvailable)('spooling and the room on the disk', () => {
  let dataDir: string
  let rec: Recorder
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-room-'))
  })
  afterEach(async () => {
    await rec?.supervisor.shutdown()
    rmSync(dataDir, { recursive: true, force: true })
  })

  /**
   * What a child printed, what its run's spool file holds (null: it has none), and Corral's
   * own lines.
   */
  const spooledOf = async (): Promise<{ spooled: string | null; system: string }> => {
    const p = await rec.start({ command: 'echo where-does-it-go', shell: true })
    const end = await rec.ended(p.id)
    expect(end.exit).toEqual({ kind: 'code', code: 0 })
    expect(rec.text(p.id)).toBe('where-does-it-go\n')
    const dir = path.join(dataDir, 'runs', p.id)
    const file = readdirSync(dir).find((f) => f.endsWith('.stdout'))
    const spooled = file ? readFileSync(path.join(dir, file), 'utf8') : null
    return { spooled, system: corralLines(rec, p.id) }
  }

  it('spools while the disk has room', async () => {
    rec = new Recorder({ dataDir })
    const { spooled, system } = await spooledOf()
    expect(spooled).toBe('where-does-it-go\n')
    expect(system).not.toContain('free on the disk')
  })

  it('short of room, the output goes through pipes, and the output says why', async () => {
    // More than any disk has: the disk under the data directory is short of it.
    rec = new Recorder({ dataDir, spoolMinFreeBytes: Number.MAX_SAFE_INTEGER })
    const { spooled, system } = await spooledOf()
    // Through Corral: no spool file.
    expect(spooled).toBeNull()
    expect(system).toMatch(
      new RegExp(
        `⚠ only [\\d.]+ [KMGT]?B free on the disk holding run logs \\(${dataDir}\\): this run's output goes through Corral`,
      ),
    )
  })
})

/** Whether this test may mount a small file system of its own (as root, where allowed). */
function canMount(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false
  const probe = mkdtempSync(path.join(os.tmpdir(), 'corral-mount-probe-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' })
    execFileSync('umount', [probe], { stdio: 'ignore' })
    return true
  } catch {
    return false
  } finally {
    rmSync(probe, { recursive: true, force: true })
  }
}

// A disk that really fills up: an 8 MiB tmpfs, mounted for the test (needs root and the right
// to mount; skipped otherwise).
describe.skipIf(!spoolAvailable || !canMount())('a disk that fills up (8 MiB tmpfs)', () => {
  let mountPoint: string
  let rec: Recorder
  beforeEach(() => {
    mountPoint = mkdtempSync(path.join(os.tmpdir(), 'corral-smalldisk-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint])
  })
  afterEach(async () => {
    await rec?.supervisor.shutdown()
    execFileSync('umount', ['-l', mountPoint])
    rmSync(mountPoint, { recursive: true, force: true })
  })

  it('a spooled run hears the disk run short, then fill; the next run goes through pipes and keeps running', async () => {
    const MiB = 1024 * 1024
    rec = new Recorder({ dataDir: path.join(mountPoint, 'data'), spoolMinFreeBytes: 6 * MiB })
    // 1 MiB every 0.4 s into its spool file: short of 6 MiB free after about 3, full after 8.
    const filler = await rec.start({
      command:
        'for i in $(seq 1 12); do head -c 1048576 /dev/zero || echo "write $i failed"; sleep 0.4; done',
      shell: true,
      name: 'filler',
    })
    const first = await rec.ended(filler.id, 30_000)
    const said = corralLines(rec, filler.id)
    const low = said.indexOf('left on the disk holding this run')
    const full = said.indexOf(') is full: this process')
    expect(low).toBeGreaterThan(-1)
    expect(full).toBeGreaterThan(low)
    expect(said).toContain(`(${path.join(mountPoint, 'data')})`)
    // The child ran to its end: what it wrote once the disk was full is lost, not its run.
    expect(first.exit).toEqual({ kind: 'code', code: 0 })
    expect(statfsSync(mountPoint).bavail).toBeLessThan(2)

    // On the full disk, a child writing 4 MiB runs to its end: its output goes through Corral.
    const next = await rec.start({
      command: 'head -c 4194304 /dev/zero | tr "\\0" "x" | fold -w 64; echo survived',
      shell: true,
      name: 'next',
    })
    const second = await rec.ended(next.id, 30_000)
    expect(second.exit).toEqual({ kind: 'code', code: 0 })
    // Every byte of it (`fold` ends its last line without a newline).
    const line = 'x'.repeat(64)
    expect(rec.text(next.id)).toBe(`${line}\n`.repeat(65_535) + `${line}survived\n`)
    const nextSaid = corralLines(rec, next.id)
    expect(nextSaid).toMatch(/⚠ only \d+ B free on the disk holding run logs/)
  }, 60_000)
})
