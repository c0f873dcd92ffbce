// A baseline for `bench.mjs`: the least a Node program can do to supervise output, on the
// same machine in the same run. It starts `count` copies of a shell command, reads their
// stdout and, with `--log DIR`, copies each read into a ring and appends it to a log file
// per process (one writev in flight per file, like Corral's run logs). It prints one JSON
// line: MB/s over all processes and the event-loop delay it saw. What Corral adds on top of
// this (numbering, batching, the viewer's transport, flow control) is what its ratio to
// this baseline measures. With `--idle` it reads nothing: the children write to /dev/null and
// only the event-loop delay of a Node process with nothing to do is measured, the floor that
// the machine's scheduling sets. With `--worker` all the reading and logging runs in a worker
// thread and the event-loop delay is the main thread's: what a host whose output path left
// its main thread would see (children are spawned from the worker here, which Corral cannot
// do: it would take the pipes from its spawner). With `--budget BYTES` it pauses every pipe
// once a turn of the event loop has read that much and resumes them on the next turn, as
// Corral's read budget does. With `--idle-files DIR` it reads nothing either, and the
// children write to files in DIR, all started by one shell in a session of its own: as
// Corral's children write their spool files, started by the forker in its session. Add
// `--duty SHARE` and the main thread, rather than idle, keeps busy for that share of every
// 10 ms (0.3: 3 ms of work, then a 7 ms timer), as a host with output to handle would; add
// `--group-nice N` and that session runs at autogroup nice N, as Corral's children's does
// (see src/main/core/child-weight.ts).
//
//   node bench/bare-reader.mjs --command 'cat f' [--count 50] [--log DIR | --idle] [--worker]
//     [--budget BYTES] [--idle-files DIR [--duty SHARE] [--group-nice N]]
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker } from 'node:worker_threads'

const { values } = parseArgs({
  options: {
    command: { type: 'string' },
    count: { type: 'string', default: '1' },
    log: { type: 'string' },
    idle: { type: 'boolean', default: false },
    'idle-files': { type: 'string' },
    duty: { type: 'string', default: '0' },
    'group-nice': { type: 'string', default: '0' },
    worker: { type: 'boolean', default: false },
    budget: { type: 'string', default: '0' },
  },
})
const count = Number(values.count)
const RING_BYTES = 8 * 1024 * 1024
const HIGH_WATER = 4 * 1024 * 1024
const LOW_WATER = 1024 * 1024

const BUDGET = Number(values.budget)
const streams = []
let used = 0
let spent = false
/** Count a read; over the turn's budget, pause every pipe until the next turn. */
function spend(bytes) {
  used += bytes
  if (!BUDGET || spent || used <= BUDGET) return
  spent = true
  for (const s of streams) s.pause()
  setImmediate(() => {
    used = 0
    spent = false
    for (const s of streams) if (!s.logBehind) s.resume()
  })
}

/** One process's output: a ring copy and a log file, reading paused while the log is behind. */
function reader(stream, index) {
  const ring = values.log ? Buffer.allocUnsafeSlow(RING_BYTES) : null
  let at = 0
  const fd = values.log ? fs.openSync(path.join(values.log, `p${index}.log`), 'a') : null
  let queue = []
  let backlog = 0
  let writing = false
  let paused = false
  const pump = () => {
    if (writing || queue.length === 0) return
    const buffers = queue
    queue = []
    writing = true
    fs.writev(fd, buffers, (err, written) => {
      writing = false
      if (err) throw err
      backlog -= written
      if (paused && backlog <= LOW_WATER) {
        paused = false
        stream.logBehind = false
        // While the turn's budget is spent, the budget's next turn resumes it.
        if (!spent) stream.resume()
      }
      pump()
    })
  }
  let bytes = 0
  streams.push(stream)
  stream.on('data', (buf) => {
    bytes += buf.length
    spend(buf.length)
    if (!ring) return
    for (let done = 0; done < buf.length;) {
      const n = Math.min(buf.length - done, RING_BYTES - at)
      buf.copy(ring, at, done, done + n)
      at = (at + n) % RING_BYTES
      done += n
    }
    queue.push(buf)
    backlog += buf.length
    pump()
    if (backlog > HIGH_WATER && !paused) {
      paused = true
      stream.logBehind = true
      stream.pause()
    }
  })
  return new Promise((resolve) =>
    stream.on('end', () => {
      const close = () => (writing || queue.length ? setTimeout(close, 5) : resolve(bytes))
      close()
    }),
  ).then((n) => {
    if (fd !== null) fs.closeSync(fd)
    return n
  })
}

/** Start the children and read them; resolves with the bytes read from each. */
function readAll() {
  const files = values['idle-files']
  if (files) {
    const quoted = `'${files.replaceAll("'", "'\\''")}'`
    const nice = Number(values['group-nice'])
    // The shell leads the session: its autogroup's nice is the whole session's. Retried as
    // Corral does: unprivileged, the kernel takes one such change per 100 ms, machine-wide.
    const lower =
      nice > 0
        ? `ok=; for t in 1 2 3 4 5; do if echo ${nice} > /proc/self/autogroup 2>/dev/null; then ok=1; break; fi; sleep 0.11; done; [ -n "$ok" ] || exit 3; `
        : ''
    const script = `${lower}i=0; while [ $i -lt ${count} ]; do (${values.command}) > ${quoted}/out-$i & i=$((i+1)); done; wait`
    const shell = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true })
    let done = false
    const exited = new Promise((resolve, reject) =>
      shell.on('exit', (code) => {
        done = true
        if (code === 3) reject(new Error(`could not set the session's autogroup nice to ${nice}`))
        else resolve([0])
      }),
    )
    const duty = Number(values.duty)
    if (duty <= 0) return exited
    return (async () => {
      while (!done) {
        const from = performance.now()
        while (performance.now() - from < duty * 10);
        await new Promise((r) => setTimeout(r, (1 - duty) * 10))
      }
      return exited
    })()
  }
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      if (values.idle) {
        const child = spawn('/bin/sh', ['-c', `${values.command} > /dev/null`], { stdio: 'ignore' })
        return new Promise((resolve) => child.on('exit', () => resolve(0)))
      }
      const child = spawn('/bin/sh', ['-c', values.command], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      return reader(child.stdout, i)
    }),
  )
}

if (!isMainThread) {
  parentPort.postMessage(await readAll())
} else {
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const t0 = performance.now()
  const totals = values.worker
    ? await new Promise((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { argv: process.argv.slice(2) })
        worker.once('message', resolve)
        worker.once('error', reject)
      })
    : await readAll()
  const seconds = (performance.now() - t0) / 1000
  delay.disable()
  const bytes = totals.reduce((a, b) => a + b, 0)
  const ms = (ns) => Math.round(ns / 1e4) / 100
  console.log(
    JSON.stringify({
      mbPerSecond: bytes / 1024 / 1024 / seconds,
      p50: ms(delay.percentile(50)),
      p99: ms(delay.percentile(99)),
      max: ms(delay.max),
    }),
  )
  process.exit()
}
