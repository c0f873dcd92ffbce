import { chmodSync, existsSync, mkdtempSync, readFileSync, watch, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ForkerClient } from '../../src/main/core/forker'
import type { LaunchPlan } from '../../src/main/core/launch'
import type { LaunchedChild } from '../../src/main/core/launcher'
import { SpawnerClient } from '../../src/main/core/spawner-client'
import { openSpool, type Spool } from '../../src/main/core/spool'
import { expectChildrenOutlive, groupNice, parentOf, Recorder, SPAWNER } from '../helpers'

/** Session, process group and autogroup of `pid`, from /proc. */
function placement(pid: number): { sid: number; pgid: number; autogroup: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  const autogroup = readFileSync(`/proc/${pid}/autogroup`, 'utf8').split(' ')[0]
  return { pgid: Number(stat[2]), sid: Number(stat[3]), autogroup }
}

const plan = (file: string, args: string[] = [], cwd = os.tmpdir()): LaunchPlan => ({
  file,
  args,
  cwd,
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  program: file,
})

const hasForker =
  process.platform === 'linux' &&
  (existsSync('/usr/bin/perl') || existsSync('/bin/perl')) &&
  existsSync('/proc/self/autogroup')

let client: ForkerClient | undefined
let rec: Recorder | undefined
afterEach(async () => {
  client?.close()
  client = undefined
  await rec?.supervisor.shutdown()
  rec = undefined
})

/** A spool in a new directory, as a run's. */
async function spool(): Promise<Spool> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-forker-'))
  return openSpool({ stdout: path.join(dir, 'run.stdout'), stderr: path.join(dir, 'run.stderr') })
}

/** A launched child's output and exit, once it has ended. */
async function outcome(child: LaunchedChild): Promise<{ out: string; err: string; exit: unknown }> {
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exit = await new Promise((resolve) =>
    child.onClose((code, signal) => resolve({ code, signal })),
  )
  return { out, err, exit }
}

describe.runIf(hasForker)('the forker', () => {
  it('starts children in a shared session, each in a group of its own, with their exact environment and arguments', async () => {
    client = new ForkerClient(new SpawnerClient(SPAWNER))
    const args = ['a b', '', 'x=y', 'line\nbreak', 'ünïcode', '-e', '--']
    const env = { KEEP: 'a=b=c', EMPTY: '', MULTI: 'one\ntwo', PATH: process.env.PATH ?? '' }
    const script =
      'printf "%s|" "$@"; printf "%s|%s|%s|%s" "$KEEP" "$EMPTY" "$MULTI" "${LANG-unset}"; pwd; sleep 30'
    const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-forker-cwd-'))
    const started = []
    let out = ''
    for (let i = 0; i < 2; i++) {
      const child = await client.launch(
        { ...plan('/bin/sh', ['-c', script, 'sh', ...args], dir), env },
        await spool(),
      )
      // Listened to at once, as Corral does: output read meanwhile would be dropped.
      if (i === 0) child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      started.push(child)
    }
    await expect.poll(() => out, { timeout: 5000 }).toContain(dir)
    expect(out).toBe(`${args.join('|')}|a=b=c||one\ntwo|unset${dir}\n`)
    const [a, b] = started.map((c) => placement(c.pid))
    expect(parentOf(started[0].pid).cmdline).toContain('corral-forker')
    expect(a.pgid).toBe(started[0].pid)
    expect(b.pgid).toBe(started[1].pid)
    expect(a.sid).toBe(b.sid)
    expect(a.sid).not.toBe(started[0].pid)
    expect(a.autogroup).toBe(b.autogroup)
    expect(a.autogroup).not.toBe(placement(process.pid).autogroup)
    for (const c of started) process.kill(-c.pid, 'SIGKILL')
  })

  it("gives the children's session a lower CPU weight as a group: autogroup nice 5, or CORRAL_CHILD_NICE", async () => {
    for (const [given, nice] of [
      [undefined, 5],
      ['12', 12],
    ] as const) {
      if (given === undefined) delete process.env.CORRAL_CHILD_NICE
      else process.env.CORRAL_CHILD_NICE = given
      try {
        client = new ForkerClient(new SpawnerClient(SPAWNER))
        const child = await client.launch(plan('/bin/sleep', ['30']), await spool())
        // Set once the forker runs, retried while the kernel says it is too soon after another.
        await expect.poll(() => groupNice(child.pid), { timeout: 5000 }).toBe(nice)
        expect(placement(child.pid).autogroup).not.toBe(placement(process.pid).autogroup)
        process.kill(-child.pid, 'SIGKILL')
        client.close()
      } finally {
        delete process.env.CORRAL_CHILD_NICE
      }
    }
  })

  it('takes input on a socket, reports exit codes and signals, loses no output of a quick child', async () => {
    client = new ForkerClient(new SpawnerClient(SPAWNER))
    const cat = await client.launch(plan('/bin/cat'), await spool())
    const catDone = outcome(cat)
    cat.stdin.write('typed\n')
    cat.stdin.end()
    expect(await catDone).toEqual({ out: 'typed\n', err: '', exit: { code: 0, signal: null } })
    const quick = await Promise.all(
      Array.from({ length: 40 }, async (_, i) =>
        outcome(
          await client!.launch(
            plan('/bin/sh', ['-c', `echo out-${i}; echo err-${i} >&2; exit ${i % 3}`]),
            await spool(),
          ),
        ),
      ),
    )
    for (const [i, q] of quick.entries()) {
      expect(q).toEqual({
        out: `out-${i}\n`,
        err: `err-${i}\n`,
        exit: { code: i % 3, signal: null },
      })
    }
    const killed = await client.launch(plan('/bin/sh', ['-c', 'kill -TERM $$']), await spool())
    expect((await outcome(killed)).exit).toEqual({ code: null, signal: 'SIGTERM' })
  })

  it('its relay puts what the child wrote to stdout and stderr in the files in the order it wrote it', async () => {
    client = new ForkerClient(new SpawnerClient(SPAWNER))
    // Many at once, so that a relay often wakes to find both pipes ready: it must take them in
    // the order they became ready. Which file changed first is what Corral reads first.
    const firstChanged = async (script: string): Promise<string> => {
      const files = await spool()
      const order: string[] = []
      const watchers = (['stdout', 'stderr'] as const).map((stream) =>
        watch(files[stream].file, () => {
          if (!order.includes(stream)) order.push(stream)
        }),
      )
      try {
        const child = await client!.launch(plan('/bin/sh', ['-c', script]), files)
        await outcome(child)
        // The last change events may come after the end is reported.
        await expect.poll(() => order.length, { timeout: 5000 }).toBe(2)
      } finally {
        for (const w of watchers) w.close()
        files.stdout.discard()
        files.stderr.discard()
      }
      return order.join(' then ')
    }
    const runs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? firstChanged(`printf 'one\\n'; printf 'two\\n' >&2`)
          : firstChanged(`printf 'two\\n' >&2; printf 'one\\n'`),
      ),
    )
    runs.forEach((order, i) =>
      expect(order, `run ${i}`).toBe(i % 2 === 0 ? 'stdout then stderr' : 'stderr then stdout'),
    )
  })

  it('a quick child’s stdout and stderr show in the order it wrote them, either way round', async () => {
    rec = new Recorder({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'corral-forker-')) })
    // Written before Corral reads the run, often before it has heard that the child started,
    // and ended before the files are read: what orders the two is the order they changed in.
    const scripts = [`printf 'one\\n'; printf 'two\\n' >&2`, `printf 'two\\n' >&2; printf 'one\\n'`]
    for (let round = 0; round < 3; round++) {
      const runs = await Promise.all(
        Array.from({ length: 16 }, (_, i) => rec!.start({ command: scripts[i % 2], shell: true })),
      )
      for (const p of runs) await rec.ended(p.id)
      runs.forEach((p, i) =>
        expect(rec!.text(p.id), `round ${round}, run ${i}`).toBe(
          i % 2 === 0 ? 'one\ntwo\n' : 'two\none\n',
        ),
      )
    }
  })

  it('notices a child closing its input, and refuses writes with a clear message', async () => {
    rec = new Recorder({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'corral-forker-')) })
    const p = await rec.start({ command: 'exec 0<&-; echo closed; sleep 30', shell: true })
    expect(parentOf(p.pid!).cmdline).toContain('corral-forker')
    await rec.waitForText(p.id, 'closed\n')
    await rec.until(p.id, (s) => s.state === 'running' && !s.stdinOpen)
    await expect(rec.supervisor.write(p.id, 'anyone?\n')).rejects.toMatchObject({
      code: 'STDIN_CLOSED',
    })
    await rec.supervisor.kill(p.id)
  })

  it('reports why a program cannot start, as a failed spawn would', async () => {
    client = new ForkerClient(new SpawnerClient(SPAWNER))
    await expect(client.launch(plan('no-such-program-here'), await spool())).rejects.toMatchObject({
      code: 'ENOENT',
      message: 'spawn no-such-program-here ENOENT',
    })
    const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-forker-'))
    const script = path.join(dir, 'not-executable.sh')
    writeFileSync(script, '#!/bin/sh\necho hi\n')
    chmodSync(script, 0o644)
    await expect(client.launch(plan(script), await spool())).rejects.toMatchObject({
      code: 'EACCES',
    })
    await expect(
      client.launch(plan('/bin/true', [], path.join(dir, 'gone')), await spool()),
    ).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(
      client.launch(plan('/bin/echo', ['nul\0byte']), await spool()),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    // And it still starts what can start.
    const child = await client.launch(plan('/bin/echo', ['still here']), await spool())
    expect(await outcome(child)).toEqual({
      out: 'still here\n',
      err: '',
      exit: { code: 0, signal: null },
    })
  })

  it('takes a connection as input only with a launch token', async () => {
    client = new ForkerClient(new SpawnerClient(SPAWNER))
    const child = await client.launch(plan('/bin/sleep', ['30']), await spool())
    const name = (client as unknown as { socketName: string }).socketName
    // In the abstract namespace (nothing on disk), with a random name.
    expect(name).toMatch(/^corral-\d+-[0-9a-f]{16}$/)
    // A stranger with a token of no launch is let go at once.
    const intruder = net.connect(`\0${name}`)
    intruder.on('error', () => {})
    intruder.write('0123456789abcdef0123456789abcdef\n')
    await new Promise((resolve) => intruder.once('close', resolve))
    process.kill(-child.pid, 'SIGKILL')
  })

  it('when the forker dies, its children run on, their end is still noticed, and starts go on', async () => {
    rec = new Recorder({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'corral-forker-')) })
    await expectChildrenOutlive(rec, 'corral-forker')
  })

  it('when the forker cannot run, the spawner starts everything, the launches under way too', async () => {
    client = new ForkerClient(new SpawnerClient(SPAWNER))
    // A "Perl" that ends at once, before it says it is ready.
    ;(client as unknown as { perl: string }).perl = '/bin/false'
    const [a, b] = await Promise.all([
      client.launch(plan('/bin/sleep', ['30']), await spool()),
      client.launch(plan('/bin/sleep', ['30']), await spool()),
    ])
    for (const c of [a, b]) expect(parentOf(c.pid).cmdline).toContain('corral-spawner')
    expect(client.active).toBe(false)
    for (const c of [a, b]) process.kill(-c.pid, 'SIGKILL')
  })

  it('with CORRAL_FORKER=0, the spawner starts everything', async () => {
    process.env.CORRAL_FORKER = '0'
    try {
      client = new ForkerClient(new SpawnerClient(SPAWNER))
    } finally {
      delete process.env.CORRAL_FORKER
    }
    const child = await client.launch(plan('/bin/sleep', ['30']), await spool())
    expect(parentOf(child.pid).cmdline).toContain('corral-spawner')
    process.kill(-child.pid, 'SIGKILL')
  })
})
