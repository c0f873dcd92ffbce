import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { LaunchPlan } from '../../src/main/core/launch'
import { SpawnerClient } from '../../src/main/core/spawner-client'
import {
  expectChildrenOutlive,
  groupNice,
  liveGroupMembers,
  parentOf,
  Recorder,
  SPAWNER,
} from '../helpers'

const plan = (file: string, args: string[] = [], cwd = os.tmpdir()): LaunchPlan => ({
  file,
  args,
  cwd,
  env: { ...process.env } as Record<string, string>,
  program: file,
})

let rec: Recorder | undefined
let client: SpawnerClient | undefined
afterEach(async () => {
  await rec?.supervisor.shutdown()
  rec = undefined
  client?.close()
  client = undefined
})

describe.runIf(process.platform !== 'win32')('the spawner', () => {
  it('starts children in its own process, not in Corral', async () => {
    rec = new Recorder()
    const p = await rec.start({ command: 'sleep 30' })
    const parent = parentOf(p.pid!)
    expect(parent.ppid).not.toBe(process.pid)
    expect(parent.cmdline).toContain('corral-spawner')
    // Corral still signals the child's group itself.
    await rec.supervisor.stop(p.id)
    expect((await rec.ended(p.id)).exit).toEqual({
      kind: 'signal',
      signal: 'SIGTERM',
      afterGrace: false,
    })
  })

  it('loses nothing a child writes the moment it starts, however quickly it exits', async () => {
    rec = new Recorder()
    // The first bytes race the hand-over of the sockets from the spawner to Corral.
    const starts = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        rec!.start({ command: `echo out-${i}; echo err-${i} >&2; exit ${i % 3}`, shell: true }),
      ),
    )
    for (const [i, p] of starts.entries()) {
      const end = await rec.ended(p.id)
      expect(end.exit).toEqual({ kind: 'code', code: i % 3 })
      expect(rec.text(p.id, 'stdout')).toBe(`out-${i}\n`)
      expect(rec.text(p.id, 'stderr')).toBe(`err-${i}\n`)
      expect(end.stdinOpen).toBe(false)
    }
  })

  it('notices a child closing its input, and refuses writes with a clear message', async () => {
    rec = new Recorder()
    const p = await rec.start({ command: 'exec 0<&-; echo closed; sleep 30', shell: true })
    await rec.waitForText(p.id, 'closed\n')
    await rec.until(p.id, (s) => s.state === 'running' && !s.stdinOpen)
    await expect(rec.supervisor.write(p.id, 'anyone?\n')).rejects.toMatchObject({
      code: 'STDIN_CLOSED',
      message: expect.stringContaining('standard input is closed'),
    })
    await rec.supervisor.kill(p.id)
  })

  /** Session, process group and autogroup of `pid`, from /proc. */
  const placement = (pid: number): { sid: number; pgid: number; autogroup: string } => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    const autogroup = readFileSync(`/proc/${pid}/autogroup`, 'utf8').split(' ')[0]
    return { pgid: Number(stat[2]), sid: Number(stat[3]), autogroup }
  }
  const hasAutogroup = (() => {
    try {
      readFileSync('/proc/self/autogroup')
      return existsSync('/usr/bin/perl') || existsSync('/bin/perl')
    } catch {
      return false
    }
  })()

  it.runIf(hasAutogroup)(
    "on Linux, children share the spawner's session (one scheduling group), each in a process group of its own, with their exact environment and arguments",
    async () => {
      client = new SpawnerClient(SPAWNER)
      const args = ['a b', '', 'x=y', 'line\nbreak', 'ünïcode', '-e', '--']
      const env = { KEEP: 'a=b=c', EMPTY: '', MULTI: 'one\ntwo', PATH: process.env.PATH ?? '' }
      const script =
        'printf "%s|" "$@"; printf "%s|%s|%s|%s" "$KEEP" "$EMPTY" "$MULTI" "${LANG-unset}"; sleep 30'
      let out = ''
      const started = []
      for (let i = 0; i < 2; i++) {
        const child = await client.launch({
          ...plan('/bin/sh', ['-c', script, 'sh', ...args]),
          env,
        })
        // Listened to at once, as Corral does: output read meanwhile would be dropped.
        if (i === 0) child.stdout.on('data', (d: Buffer) => (out += d.toString()))
        started.push(child)
      }
      await expect.poll(() => out, { timeout: 5000 }).toContain('|unset')
      expect(out).toBe(`${args.join('|')}|a=b=c||one\ntwo|unset`)
      const [a, b] = started.map((c) => placement(c.pid))
      // Its own group, for Stop to reach its whole tree.
      expect(a.pgid).toBe(started[0].pid)
      expect(b.pgid).toBe(started[1].pid)
      // One session and scheduling group for both, not one each (and not Corral's).
      expect(a.sid).toBe(b.sid)
      expect(a.sid).not.toBe(started[0].pid)
      expect(a.autogroup).toBe(b.autogroup)
      expect(a.autogroup).not.toBe(placement(process.pid).autogroup)
      // That group weighs less than an application's (see core/child-weight.ts).
      const first = started[0].pid
      await expect.poll(() => groupNice(first), { timeout: 5000 }).toBe(5)
      for (const c of started) process.kill(-c.pid, 'SIGKILL')
    },
  )

  it.runIf(hasAutogroup)(
    'with CORRAL_SHARED_SESSION=0, each child leads a session of its own',
    async () => {
      process.env.CORRAL_SHARED_SESSION = '0'
      try {
        client = new SpawnerClient(SPAWNER)
        const child = await client.launch(plan('/bin/sleep', ['30']))
        const where = placement(child.pid)
        expect(where).toMatchObject({ pgid: child.pid, sid: child.pid })
        process.kill(-child.pid, 'SIGKILL')
      } finally {
        delete process.env.CORRAL_SHARED_SESSION
      }
    },
  )

  it('reports why a program cannot start: missing, not executable, missing directory', async () => {
    client = new SpawnerClient(SPAWNER)
    expect(client.active).toBe(true)
    await expect(client.launch(plan('/nonexistent/program'))).rejects.toMatchObject({
      code: 'ENOENT',
    })
    const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-spawner-'))
    const script = path.join(dir, 'not-executable.sh')
    writeFileSync(script, '#!/bin/sh\necho hi\n')
    chmodSync(script, 0o644)
    await expect(client.launch(plan(script))).rejects.toMatchObject({ code: 'EACCES' })
    await expect(
      client.launch(plan('/bin/true', [], path.join(dir, 'gone'))),
    ).rejects.toMatchObject({ code: 'ENOENT' })
    // And it still starts what can start.
    const child = await client.launch(plan('/bin/echo', ['still here']))
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const exit = await new Promise((resolve) =>
      child.onClose((code, signal) => resolve({ code, signal })),
    )
    expect(exit).toEqual({ code: 0, signal: null })
    expect(out).toBe('still here\n')
  })

  it('when the spawner dies, its children run on, their end is still noticed, and starts go on', async () => {
    rec = new Recorder()
    await expectChildrenOutlive(rec, 'corral-spawner')
  })

  it('without the spawner program, children start in Corral itself', async () => {
    rec = new Recorder({ spawnerScript: '/nonexistent/spawner.js' })
    const p = await rec.start({ command: 'sh -c "echo local; sleep 30"' })
    await rec.waitForText(p.id, 'local\n')
    expect(parentOf(p.pid!).ppid).toBe(process.pid)
    await rec.supervisor.kill(p.id)
  })
})

describe.each([
  ['through the spawner', SPAWNER],
  ['in Corral itself', undefined],
])('starting %s', (_name, spawnerScript) => {
  it('delivers output in order, takes input, ends on end of input, reports exit codes', async () => {
    rec = new Recorder({ spawnerScript })
    const cat = await rec.start({ command: 'cat' })
    for (let i = 0; i < 20; i++) await rec.supervisor.write(cat.id, `line ${i}\n`)
    rec.supervisor.closeStdin(cat.id)
    expect((await rec.ended(cat.id)).exit).toEqual({ kind: 'code', code: 0 })
    expect(rec.text(cat.id)).toBe(Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(''))
    const failing = await rec.start({ command: 'exit 7', shell: true })
    expect((await rec.ended(failing.id)).exit).toEqual({ kind: 'code', code: 7 })
  })

  it('reaches the whole process group on stop and refuses input afterwards', async () => {
    rec = new Recorder({ spawnerScript })
    const p = await rec.start({ command: 'sleep 100 & sleep 100; wait', shell: true })
    const info = await rec.supervisor.stop(p.id)
    expect(info.state).toBe('stopped')
    await expect(rec.supervisor.write(p.id, 'x')).rejects.toMatchObject({ code: 'NOT_RUNNING' })
    // Members may linger as zombies until reaped, and one signalled with the leader may take a
    // moment to go on a busy machine; none stays alive.
    await expect.poll(() => liveGroupMembers(p.pid!), { timeout: 2000 }).toEqual([])
  })
})
