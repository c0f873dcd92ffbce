import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import fc from 'fast-check'
import { readLog, UNSEEN_END_LINE } from '../src/main/core/run-store'
import { argSchemas, isApiMethod } from '../src/main/core/schemas'
import { API_METHODS, type OutputChunk, type RunInfo } from '../src/shared/contract'
import { decodeOutputFrame, type WireServerMessage } from '../src/shared/wire'
import { liveGroupMembers, sleep } from './helpers'

const HEADLESS = path.join(__dirname, '../out/main/headless.js')

interface Served {
  proc: ChildProcessWithoutNullStreams
  url: URL
  output: () => string
}

const hosts: Served[] = []

/** Start the built headless host on a free port and wait for its URL line. */
export async function serve(...args: string[]): Promise<Served> {
  if (!args.includes('--data-dir'))
    args.push('--data-dir', mkdtempSync(path.join(os.tmpdir(), 'corral-data-')))
  const proc = spawn(process.execPath, [HEADLESS, '--port', '0', ...args], {
    env: { ...process.env, CORRAL_TOKEN: '' },
  })
  let out = ''
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  const deadline = Date.now() + 10_000
  while (!/serving at (\S+)/.test(out)) {
    if (Date.now() > deadline || proc.exitCode !== null)
      throw new Error(`host did not start: ${out}`)
    await sleep(20)
  }
  const served = { proc, url: new URL(/serving at (\S+)/.exec(out)![1]), output: () => out }
  hosts.push(served)
  return served
}

function connect(
  url: URL,
  headers: Record<string, string> = {},
  token = url.searchParams.get('token')!,
): WebSocket {
  return new WebSocket(`ws://${url.host}/ws?token=${encodeURIComponent(token)}`, {
    headers: { Origin: `http://${url.host}`, ...headers },
  })
}

/** Resolve with the HTTP status of a refused upgrade, or 101 when it opened. */
function upgradeStatus(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    ws.on('open', () => {
      ws.close()
      resolve(101)
    })
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('error', () => resolve(-1))
  })
}

/** A tiny client: call(method, args) -> result, plus every event received. */
async function client(url: URL) {
  const ws = connect(url)
  await new Promise((r, j) => {
    ws.once('open', r)
    ws.once('error', j)
  })
  const events: { name: string; payload: unknown }[] = []
  const waiting = new Map<number, (m: WireServerMessage) => void>()
  ws.on('message', (d: Buffer, isBinary: boolean) => {
    if (isBinary) {
      events.push({ name: 'output', payload: decodeOutputFrame(new Uint8Array(d)) })
      return
    }
    const msg = JSON.parse(d.toString()) as WireServerMessage
    if (msg.t === 'event') events.push({ name: msg.name, payload: msg.payload })
    else waiting.get(msg.id)?.(msg)
  })
  let n = 1
  const raw = (text: string, id: number) =>
    new Promise<WireServerMessage>((resolve) => {
      waiting.set(id, resolve)
      ws.send(text)
    })
  const call = (method: string, args: unknown[]) => {
    const id = n++
    return raw(JSON.stringify({ t: 'call', id, method, args }), id)
  }
  return { ws, call, raw, events }
}

beforeAll(() => {
  if (!existsSync(HEADLESS))
    throw new Error('out/main/headless.js is missing: run `npm run build` first')
})

afterEach(() => {
  for (const h of hosts.splice(0)) h.proc.kill('SIGKILL')
})

describe('headless host', () => {
  it('prints one URL line on loopback with a random token, and serves the UI only with it', async () => {
    const { url, output } = await serve()
    expect(url.hostname).toBe('127.0.0.1')
    expect(url.searchParams.get('token')).toMatch(/^[\w-]{24,}$/)
    expect(output()).toMatch(/^Corral is serving at http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+\n$/)
    const ok = await fetch(url)
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(ok.headers.get('access-control-allow-origin')).toBeNull()
    expect(await ok.text()).toContain('<div id="root">')
    const bare = new URL(url)
    bare.search = ''
    expect((await fetch(bare)).status).toBe(401)
    bare.search = '?token=wrong'
    expect((await fetch(bare)).status).toBe(401)
  })

  it('uses --token or CORRAL_TOKEN when given', async () => {
    const { url } = await serve('--token', 'my-secret')
    expect(url.searchParams.get('token')).toBe('my-secret')
  })

  it('refuses WebSockets without the token, from a foreign Origin, or with a foreign Host', async () => {
    const { url } = await serve()
    expect(await upgradeStatus(connect(url, {}, 'wrong'))).toBe(401)
    expect(await upgradeStatus(connect(url, {}, ''))).toBe(401)
    expect(await upgradeStatus(connect(url, { Origin: 'http://evil.example' }))).toBe(403)
    expect(await upgradeStatus(connect(url, { Host: `evil.example:${url.port}` }))).toBe(421)
    expect(await upgradeStatus(connect(url))).toBe(101)
  })

  it('carries the contract: start, live output events, write, errors as values', async () => {
    const { url } = await serve()
    const c = await client(url)
    const started = await c.call('start', [{ command: 'cat', name: 'echoer' }])
    expect(started).toMatchObject({
      t: 'result',
      ok: true,
      value: { name: 'echoer', state: 'running' },
    })
    const id = (started as { value: { id: string } }).value.id
    expect(await c.call('write', [id, 'ping\n'])).toMatchObject({ ok: true })
    const deadline = Date.now() + 5000
    const text = () =>
      c.events
        .filter((e) => e.name === 'output')
        .flatMap((e) => (e.payload as { chunks: { data: string; stream: string }[] }).chunks)
        .filter((ch) => ch.stream === 'stdout')
        .map((ch) => ch.data)
        .join('')
    while (!text().includes('ping') && Date.now() < deadline) await sleep(10)
    expect(text()).toBe('ping\n')
    expect(await c.call('kill', [id])).toMatchObject({ ok: true, value: { state: 'stopped' } })
    expect(await c.call('write', [id, 'late\n'])).toMatchObject({
      ok: false,
      error: { code: 'NOT_RUNNING' },
    })
    expect(await c.call('bogus', [])).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_METHOD' },
    })
    expect(await c.raw('{not json', -1)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_PAYLOAD' },
    })
    expect(await c.call('list', [])).toMatchObject({ ok: true })
    c.ws.close()
  })

  it('stops every child on SIGTERM, with its output flushed to the run log, and exits 0', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-data-'))
    const served = await serve('--data-dir', dataDir)
    const c = await client(served.url)
    const r = await c.call('start', [
      { command: 'echo before-shutdown; sleep 300 & sleep 301; wait', shell: true },
    ])
    const { pid, id } = (r as { value: { pid: number; id: string } }).value
    const deadline = Date.now() + 5000
    while (liveGroupMembers(pid).length < 3 && Date.now() < deadline) await sleep(20)
    expect(liveGroupMembers(pid).length).toBeGreaterThanOrEqual(2)
    const exited = new Promise<number | null>((resolve) =>
      served.proc.once('exit', (code) => resolve(code)),
    )
    served.proc.kill('SIGTERM')
    expect(await exited).toBe(0)
    // Killed before the host exited; one that has let go of its output can take a moment
    // more to be gone on a busy machine (sleep 300 would not go by itself).
    await expect.poll(() => liveGroupMembers(pid), { timeout: 2000 }).toEqual([])
    const runs = JSON.parse(readFileSync(path.join(dataDir, 'runs', id, 'runs.json'), 'utf8'))
    expect(runs[0]).toMatchObject({
      endReason: 'host-exit',
      exit: { kind: 'signal', signal: 'SIGTERM' },
    })
    const log = await readLog(path.join(dataDir, 'runs', id, `${runs[0].runId}.log`))
    const text = (stream: string): string =>
      Buffer.concat(log.records.filter((r) => r.stream === stream).map((r) => r.data)).toString()
    expect(text('stdout')).toBe('before-shutdown\n')
    // Corral's own lines are in the log too, the last one saying how the run ended.
    expect(text('system')).toMatch(/^▶ started .*\n■ killed by SIGTERM after \d+ ms\n$/)
  })

  it('a stop that takes long says where its time went', async () => {
    const served = await serve()
    const c = await client(served.url)
    const r = await c.call('start', [
      { command: "trap '' TERM; echo ready; sleep 300", shell: true, stopGraceMs: 2500 },
    ])
    expect(r).toMatchObject({ ok: true })
    // Its TERM ignored (once it said so), the child is killed when its 2.5 s grace is over.
    const ready = () =>
      c.events.some(
        (e) =>
          e.name === 'output' &&
          (e.payload as { chunks: { data: string }[] }).chunks.some((ch) =>
            ch.data.includes('ready'),
          ),
      )
    const deadline = Date.now() + 5000
    while (!ready() && Date.now() < deadline) await sleep(20)
    expect(ready()).toBe(true)
    const exited = new Promise<number | null>((resolve) =>
      served.proc.once('exit', (code) => resolve(code)),
    )
    served.proc.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(served.output()).toMatch(
      /Corral: stopping took \d+ ms \(processes (\d+) ms, groups \d+ ms, logs \d+ ms, definitions \d+ ms\)/,
    )
    const processes = Number(/processes (\d+) ms/.exec(served.output())![1])
    expect(processes).toBeGreaterThanOrEqual(2400)
  })

  it('with its output closed (the reader of a pipe gone), SIGTERM still stops every child and exits 0', async () => {
    const served = await serve()
    const c = await client(served.url)
    const r = await c.call('start', [{ command: 'sleep 303' }])
    const { pid } = (r as { value: { pid: number } }).value
    served.proc.stdout.destroy()
    served.proc.stderr.destroy()
    const exited = new Promise<number | null>((resolve) =>
      served.proc.once('exit', (code) => resolve(code)),
    )
    served.proc.kill('SIGTERM')
    expect(await exited).toBe(0)
    // Killed before the host exited; one that has let go of its output can take a moment
    // more to be gone on a busy machine (sleep 300 would not go by itself).
    await expect.poll(() => liveGroupMembers(pid), { timeout: 2000 }).toEqual([])
  })

  it('200 start/stop cycles leave no open files, no children and no memory behind', async () => {
    const served = await serve()
    const hostPid = served.proc.pid!
    const c = await client(served.url)
    const fds = () => readdirSync(`/proc/${hostPid}/fd`).length
    /** Names (command lines) of the processes whose parent is `parent`. */
    const childrenOf = (parent: number) =>
      readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .flatMap((e) => {
          try {
            const stat = readFileSync(`/proc/${e}/stat`, 'utf8')
            if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== parent) return []
            return [{ pid: Number(e), name: readFileSync(`/proc/${e}/cmdline`, 'utf8') }]
          } catch {
            return []
          }
        })
    const children = () =>
      childrenOf(hostPid)
        .map((c) => c.name.split('\0')[0].trim())
        .sort()
    const rssMB = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'))![1]) / 1024
    const def = (await c.call('define', [{ command: 'sleep 300', name: 'cycler' }])) as {
      value: { id: string }
    }
    const id = def.value.id
    // Warm up, then measure.
    for (let i = 0; i < 10; i++) {
      await c.call('restart', [id])
      await c.call('stop', [id])
    }
    // The spawner, warmed up for what the forker does not start, may still be starting (it
    // takes its name once it runs).
    const helpers = ['corral-forker', 'corral-spawner', 'corral-watchdog']
    await expect.poll(children, { timeout: 10_000 }).toEqual(helpers)
    const before = { fds: fds(), children: children(), rss: rssMB() }
    for (let i = 0; i < 200; i++) {
      expect(await c.call('restart', [id])).toMatchObject({ ok: true, value: { state: 'running' } })
      expect(await c.call('stop', [id])).toMatchObject({ ok: true, value: { state: 'stopped' } })
    }
    await sleep(200)
    const after = { fds: fds(), children: children(), rss: rssMB() }
    expect(after.fds).toBeLessThanOrEqual(before.fds)
    // The watchdog, the forker and the spawner are the only children left, and the forker
    // and the spawner have none.
    expect(after.children).toEqual(helpers)
    for (const name of ['corral-forker', 'corral-spawner']) {
      const starter = childrenOf(hostPid).find((c) => c.name.startsWith(name))!
      expect(childrenOf(starter.pid)).toEqual([])
    }
    expect(after.rss - before.rss).toBeLessThan(40)
    c.ws.close()
  })
})

describe('no orphans', () => {
  /** Every pid in the tree of `root` (children by ppid), from /proc, non-zombie. */
  function descendants(rootPids: number[]): number[] {
    const table = new Map<number, { ppid: number; state: string }>()
    for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        table.set(Number(entry), { ppid: Number(rest[1]), state: rest[0] })
      } catch {
        // Gone while reading.
      }
    }
    return [...table.entries()]
      .filter(([pid, p]) => p.state !== 'Z' && rootPids.includes(pid))
      .map(([pid]) => pid)
  }

  async function startTree(url: URL): Promise<number[]> {
    const c = await client(url)
    const a = await c.call('start', [{ command: 'sleep 300 & sleep 301', shell: true }])
    // A Node child whose grandchildren stay in its group (no setsid).
    const b = await c.call('start', [
      {
        command: `${process.execPath} -e "const {spawn}=require('child_process');for(let i=0;i<3;i++)spawn('sleep',['302'],{stdio:'ignore'});setInterval(()=>{},1000)"`,
      },
    ])
    const pgids = [a, b].map((r) => (r as { value: { pid: number } }).value.pid)
    // Wait for the whole tree (2 sleeps, node and its 3 sleeps) to exist.
    const deadline = Date.now() + 10_000
    while (pgids.flatMap((g) => liveGroupMembers(g)).length < 6 && Date.now() < deadline) {
      await sleep(20)
    }
    c.ws.close()
    return pgids
  }

  /** Kill the host's watchdog, then the host: as if the whole session had been killed at once. */
  async function killWholeSession(host: Served): Promise<void> {
    const watchdogsOf = (): string[] =>
      readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .filter((pid) => {
          try {
            return (
              readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('corral-watchdog') &&
              Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]) ===
                host.proc.pid
            )
          } catch {
            return false
          }
        })
    // The watchdog starts with the host and takes its name once it runs, which on a busy
    // machine can be after the first processes started (they start fast).
    await expect.poll(() => watchdogsOf().length, { timeout: 10_000 }).toBe(1)
    for (const pid of watchdogsOf()) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
    host.proc.kill('SIGKILL')
  }

  it('kill -9 of the host: every group it started is gone within 2 s', async () => {
    const served = await serve()
    const pgids = await startTree(served.url)
    const members = pgids.flatMap((g) => liveGroupMembers(g))
    expect(members.length).toBeGreaterThanOrEqual(6)
    served.proc.kill('SIGKILL')
    const t0 = Date.now()
    while (pgids.some((g) => liveGroupMembers(g).length > 0) && Date.now() - t0 < 2000)
      await sleep(20)
    expect(pgids.flatMap((g) => liveGroupMembers(g))).toEqual([])
    expect(descendants(members)).toEqual([])
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('groups that survived an earlier life are reported on the next start and can be ended', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-data-'))
    const first = await serve('--data-dir', dataDir)
    const pgids = await startTree(first.url)
    // The record of the groups is written off the loop, and a write that follows another at
    // once waits 100 ms after it (GROUPS_WRITE_SPACING_MS; here the warm-up's own writes come
    // just before): the session is killed once both groups are on disk, as they are within
    // that spacing of their start.
    const groups = path.join(dataDir, 'process-groups.json')
    const recorded = (): number[] => {
      try {
        return (JSON.parse(readFileSync(groups, 'utf8')) as { pgid: number }[]).map((g) => g.pgid)
      } catch {
        return []
      }
    }
    await expect
      .poll(() => pgids.every((g) => recorded().includes(g)), { timeout: 5_000 })
      .toBe(true)
    await killWholeSession(first)
    await sleep(200)
    try {
      expect(pgids.every((g) => liveGroupMembers(g).length > 0)).toBe(true)
      const second = await serve('--data-dir', dataDir)
      const c = await client(second.url)
      const orphans = (await c.call('orphans', [])) as {
        ok: true
        value: { pgid: number; pids: number[] }[]
      }
      expect(orphans.value.map((o) => o.pgid).sort()).toEqual([...pgids].sort())
      const left = await c.call('endOrphans', [])
      expect(left).toMatchObject({ ok: true, value: [] })
      expect(pgids.flatMap((g) => liveGroupMembers(g))).toEqual([])
    } finally {
      for (const g of pgids) {
        try {
          process.kill(-g, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
    }
  })
  it('a run whose host was killed reads back, in the next life, what its child wrote after', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-data-'))
    const first = await serve('--data-dir', dataDir)
    const c = await client(first.url)
    // A saved process (ad-hoc ones are not kept between lives), started.
    const defined = await c.call('define', [
      { command: 'echo before; sleep 1; seq 1 3 | sed s/^/after-/', shell: true, name: 'survivor' },
    ])
    const started = await c.call('restart', [(defined as { value: { id: string } }).value.id])
    const { id, pid } = (started as { value: { id: string; pid: number } }).value
    try {
      const seen = () =>
        c.events.some(
          (e) =>
            e.name === 'output' &&
            (e.payload as { id: string; chunks: OutputChunk[] }).chunks.some((ch) =>
              ch.data.includes('before'),
            ),
        )
      const deadline = Date.now() + 10_000
      while (!seen() && Date.now() < deadline) await sleep(20)
      expect(seen()).toBe(true)
      await killWholeSession(first)
      // The child goes on without Corral, writing into its spool files, and exits.
      while (liveGroupMembers(pid).length > 0 && Date.now() < deadline) await sleep(20)
      expect(liveGroupMembers(pid)).toEqual([])

      const second = await serve('--data-dir', dataDir)
      const c2 = await client(second.url)
      const runs = (await c2.call('runs', [id])) as { value: RunInfo[] }
      expect(runs.value[0].endReason).toBe('host-exit')
      const out = (await c2.call('runOutput', [id, runs.value[0].runId])) as {
        value: { chunks: OutputChunk[] }
      }
      const text = out.value.chunks.map((ch) => ch.data).join('')
      expect(text).toContain('before\nafter-1\nafter-2\nafter-3\n')
      expect(out.value.chunks.at(-1)).toMatchObject({ stream: 'system', data: UNSEEN_END_LINE })
      // The run's size counts all of it (the index on disk had it as of the run's start).
      const after = (await c2.call('runs', [id])) as { value: RunInfo[] }
      expect(after.value[0].bytes).toBe('before\nafter-1\nafter-2\nafter-3\n'.length)
    } finally {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  })
})

describe('slow clients', () => {
  it('a client that stops reading is skipped ahead, then caught up from the buffer without duplicates', async () => {
    const { url } = await serve()
    const slow = await client(url)
    const fast = await client(url)
    // The slow client stops reading from its socket: the host's queue for it fills up.
    ;(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const started = await fast.call('start', [
      { command: `head -c 60000000 /dev/zero | tr '\\0' 'x'`, shell: true },
    ])
    const id = (started as { value: { id: string } }).value.id
    const deadline = Date.now() + 30_000
    const ended = () =>
      fast.events.some(
        (e) =>
          e.name === 'status' && (e.payload as { id: string; state: string }).state === 'exited',
      )
    while (!ended() && Date.now() < deadline) await sleep(50)
    expect(ended()).toBe(true)
    // The host still answers at once.
    const t0 = Date.now()
    expect(await fast.call('list', [])).toMatchObject({ ok: true })
    expect(Date.now() - t0).toBeLessThan(1000)

    ;(slow.ws as unknown as { _socket: { resume(): void } })._socket.resume()
    const slowExited = () =>
      slow.events.some(
        (e) => e.name === 'status' && (e.payload as { state: string }).state === 'exited',
      )
    while (!slowExited() && Date.now() < deadline) await sleep(50)
    await sleep(300)
    const chunks = slow.events
      .filter((e) => e.name === 'output' && (e.payload as { id: string }).id === id)
      .flatMap(
        (e) => (e.payload as { chunks: { seq: number; data: string; stream: string }[] }).chunks,
      )
    const seqs = chunks.map((c) => c.seq)
    // Strictly increasing: nothing twice, nothing out of order.
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1])).toBe(true)
    // It was skipped ahead (it did not receive all 60 MB) and still got the end.
    const received = chunks.reduce((n, c) => n + c.data.length, 0)
    expect(received).toBeLessThan(60_000_000)
    expect(chunks.at(-1)!.data).toMatch(/exited with code 0/)
  })
})

describe('answers carrying output', () => {
  it('leave one per turn: a small call made after many of them is answered first', async () => {
    const { url } = await serve()
    const c = await client(url)
    const started = (await c.call('start', [{ command: 'seq 1 300000', name: 'big' }])) as {
      value: { id: string }
    }
    const id = started.value.id
    while (
      !c.events.some(
        (e) =>
          e.name === 'status' && (e.payload as { id: string; state: string }).state === 'exited',
      )
    )
      await sleep(20)
    const order: number[] = []
    c.ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (isBinary) return
      const msg = JSON.parse(d.toString()) as WireServerMessage
      if (msg.t === 'result') order.push(msg.id)
    })
    // Twenty snapshots of about 2 MB each, then a list, all sent at once.
    for (let i = 0; i < 20; i++) {
      c.ws.send(JSON.stringify({ t: 'call', id: 1000 + i, method: 'output', args: [id, -1] }))
    }
    c.ws.send(JSON.stringify({ t: 'call', id: 2000, method: 'list', args: [] }))
    while (order.length < 21) await sleep(20)
    expect(order.indexOf(2000)).toBeLessThan(20)
    // The snapshots themselves still come in the order they were asked for.
    expect(order.filter((n) => n !== 2000)).toEqual(Array.from({ length: 20 }, (_, i) => 1000 + i))
    c.ws.close()
  })
})

describe('resilience of the WebSocket transport', () => {
  it('10,000 random malformed frames each get an error reply; the host lives on, state unchanged', async () => {
    const { url } = await serve()
    const ws = connect(url)
    await new Promise((r) => ws.once('open', r))
    const replies: WireServerMessage[] = []
    let wake: (() => void) | null = null
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (isBinary) return
      const msg = JSON.parse(d.toString()) as WireServerMessage
      if (msg.t === 'result') replies.push(msg)
      wake?.()
    })
    const next = async (count: number): Promise<void> => {
      while (replies.length < count) await new Promise<void>((r) => (wake = r))
    }
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc
        .record({
          t: fc.oneof(fc.constant('call'), fc.string()),
          id: fc.oneof(fc.integer({ min: 1 }), fc.double(), fc.string()),
          method: fc.oneof(fc.constantFrom(...API_METHODS), fc.string()),
          args: fc.anything(),
        })
        .map((v) => JSON.stringify(v)),
      fc.uint8Array({ maxLength: 64 }),
    )
    let sent = 0
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        if (typeof f === 'string') {
          // A frame that happens to be a valid call is not malformed.
          try {
            const m = JSON.parse(f) as {
              t?: unknown
              id?: unknown
              method?: unknown
              args?: unknown
            }
            if (
              m?.t === 'call' &&
              typeof m.id === 'number' &&
              Number.isSafeInteger(m.id) &&
              m.id >= 0
            ) {
              if (isApiMethod(m.method) && argSchemas[m.method].safeParse(m.args ?? []).success)
                return
            }
          } catch {
            // Not JSON: malformed, as intended.
          }
        }
        ws.send(f)
        sent++
        await next(sent)
        expect(replies[sent - 1]).toMatchObject({ t: 'result', ok: false })
      }),
      { numRuns: 10_000, seed: 7 },
    )
    expect(sent).toBeGreaterThan(9_000)
    const c = await client(url)
    expect(await c.call('list', [])).toMatchObject({ ok: true, value: [] })
    c.ws.close()
    ws.close()
  })
})

describe('flow control with acknowledgements', () => {
  it('keeps unacknowledged output within the window, and catches up with the newest when the run ends', async () => {
    const { url } = await serve()
    const ws = connect(url)
    await new Promise((r) => ws.once('open', r))
    let received = 0
    let last: OutputChunk[] = []
    const statuses: string[] = []
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (isBinary) {
        received += d.length
        last = decodeOutputFrame(new Uint8Array(d.buffer, d.byteOffset, d.length)).chunks
      } else {
        const msg = JSON.parse(d.toString()) as WireServerMessage
        if (msg.t === 'event' && msg.name === 'status')
          statuses.push((msg.payload as { state: string }).state)
      }
    })
    // Announce acknowledgements, then acknowledge nothing while 30 MB flood out.
    ws.send(JSON.stringify({ t: 'ack', bytes: 0 }))
    ws.send(
      JSON.stringify({
        t: 'call',
        id: 1,
        method: 'start',
        args: [{ command: `head -c 30000000 /dev/zero | tr '\\0' 'z'`, shell: true }],
      }),
    )
    const deadline = Date.now() + 20_000
    while (!statuses.includes('exited') && Date.now() < deadline) await sleep(20)
    expect(statuses).toContain('exited')
    await sleep(200)
    // The window (256 KiB), one chunk past it (at most 256 KiB), what a quiet start may pass
    // and, once the run ended, its newest output with the exit line (256 KiB and a chunk at
    // most): far below the 30 MB written.
    expect(received).toBeLessThan(1.5 * 1024 * 1024)
    // That last catch-up came unacknowledged: the flood's last bytes, then the exit line.
    expect(last.map((c) => c.stream)).toEqual(['stdout', 'system'])
    expect(last[0].data.endsWith('zzzz')).toBe(true)
    expect(last[1].data).toMatch(/exited with code 0/)
    ws.close()
  })

  it('gives the window to the process the viewer shows and holds back a flood it does not show', async () => {
    const { url } = await serve()
    const ws = connect(url)
    await new Promise((r) => ws.once('open', r))
    const received = new Map<string, number>()
    const results = new Map<number, WireServerMessage>()
    const exited = new Set<string>()
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (isBinary) {
        const batch = decodeOutputFrame(new Uint8Array(d.buffer, d.byteOffset, d.length))
        const chars = batch.chunks.reduce((n, c) => n + c.data.length, 0)
        received.set(batch.id, (received.get(batch.id) ?? 0) + chars)
        // A viewer that keeps up: everything is acknowledged as it arrives.
        ws.send(JSON.stringify({ t: 'ack', bytes: d.length }))
        return
      }
      const msg = JSON.parse(d.toString()) as WireServerMessage
      if (msg.t === 'result') results.set(msg.id, msg)
      else if (msg.name === 'status') {
        const info = msg.payload as { id: string; state: string }
        if (info.state === 'exited') exited.add(info.id)
      }
    })
    const result = async (id: number): Promise<WireServerMessage> => {
      while (!results.has(id)) await sleep(10)
      return results.get(id)!
    }
    // A focus that names no processes properly is refused.
    ws.send(JSON.stringify({ t: 'focus', ids: 'shown' }))
    expect(await result(-1)).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
    ws.send(JSON.stringify({ t: 'ack', bytes: 0 }))
    const flood = (name: string) => ({
      command: `head -c 20000000 /dev/zero | tr '\\0' '${name[0]}'`,
      shell: true,
      name,
    })
    ws.send(JSON.stringify({ t: 'call', id: 1, method: 'define', args: [flood('shown')] }))
    ws.send(JSON.stringify({ t: 'call', id: 2, method: 'define', args: [flood('background')] }))
    const shown = ((await result(1)) as { value: { id: string } }).value.id
    const background = ((await result(2)) as { value: { id: string } }).value.id
    ws.send(JSON.stringify({ t: 'focus', ids: [shown] }))
    ws.send(JSON.stringify({ t: 'call', id: 3, method: 'restart', args: [shown] }))
    ws.send(JSON.stringify({ t: 'call', id: 4, method: 'restart', args: [background] }))
    const deadline = Date.now() + 30_000
    while (!(exited.has(shown) && exited.has(background)) && Date.now() < deadline) await sleep(20)
    expect([...exited]).toEqual(expect.arrayContaining([shown, background]))
    await sleep(300)
    const got = (id: string): number => received.get(id) ?? 0
    // Both ran alike; the one shown got far more of its output through.
    expect(got(shown)).toBeGreaterThan(5 * got(background))
    expect(got(background)).toBeGreaterThan(0)
    ws.close()
  })
})
