/**
 * Corral's spawner: a tiny plain-Node program that starts Corral's processes for it.
 *
 * Starting a process blocks the caller's event loop until the child has exec'd, which on a
 * busy machine takes tens of milliseconds, and Corral's loop is what moves every process's
 * output and input. So Corral asks this program, over a Node IPC channel, to start each
 * child (in its own process group, with stdio sockets); the spawner passes the three sockets
 * back as message handles, so Corral reads and writes them directly, and reports the exit
 * status when the child ends. Corral signals the process groups itself. When the channel
 * closes (Corral is gone), the spawner exits; the children it started are not affected.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync } from 'node:fs'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import {
  parseLaunchRequest,
  type LaunchError,
  type LaunchRequest,
  type SpawnerMessage,
} from './core/spawner-protocol'
import { openForChild } from './core/spool'

process.title = 'corral-spawner'

function send(msg: SpawnerMessage, handle?: Socket | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send || !process.connected) {
      reject(new Error('Corral is gone'))
      return
    }
    process.send(msg, handle ?? undefined, {}, (err) => (err ? reject(err) : resolve()))
  })
}

function fail(id: number, err: unknown): void {
  const e = err as NodeJS.ErrnoException
  const error: LaunchError = { code: e?.code, message: e?.message ?? String(err) }
  send({ t: 'failed', id, error }).catch(() => {})
}

/**
 * Stop this program from reading a child's output socket: data read here before the socket
 * has moved to Corral would be lost. Node starts reading a child's stdout as soon as it
 * creates the socket, and the loop has not polled yet, so stopping now means nothing was read.
 */
function stopReading(stream: Readable | null): void {
  if (!stream) return
  const handle = (stream as unknown as { _handle?: { reading?: boolean; readStop?: () => number } })
    ?._handle
  if (typeof handle?.readStop !== 'function') {
    throw Object.assign(new Error('this Node cannot hand over output sockets'), {
      code: 'ESPAWNER',
    })
  }
  handle.reading = false
  handle.readStop()
}

function launch(req: LaunchRequest): void {
  let child: ChildProcess
  let fds: [number, number] | null = null
  try {
    // Spooled output: the child appends to the files Corral follows (see core/spool.ts).
    if (req.spool) fds = openForChild(req.spool)
    child = spawn(req.file, req.args, {
      cwd: req.cwd,
      env: req.env,
      stdio: fds ? ['pipe', fds[0], fds[1]] : 'pipe',
      // Own process group (and session), so Corral's signals reach the whole tree.
      detached: true,
    })
  } catch (err) {
    // Invalid arguments (e.g. a NUL byte in argv) throw at once.
    fail(req.id, err)
    return
  } finally {
    // The child has its own copies (or none, if it could not start).
    for (const fd of fds ?? []) closeSync(fd)
  }
  const pid = child.pid
  if (pid === undefined) {
    // The program could not be started (ENOENT, EACCES, a missing cwd): reported as 'error'.
    child.once('error', (err) => fail(req.id, err))
    return
  }
  // Later errors come only from kill(), which this program never calls.
  child.on('error', () => {})
  try {
    stopReading(child.stdout)
    stopReading(child.stderr)
  } catch (err) {
    killGroup(pid)
    fail(req.id, err)
    return
  }
  // The sockets leave with the messages below; until then, the child object must not touch
  // them (at exit it destroys stdin and resumes the outputs, which would lose a quick
  // child's input and output).
  const stdio = (fds ? [child.stdin] : [child.stdin, child.stdout, child.stderr]) as Socket[]
  const detached = child as unknown as { stdin: null; stdout: null; stderr: null; stdio: null[] }
  detached.stdin = detached.stdout = detached.stderr = null
  detached.stdio = [null, null, null]
  // Messages are delivered in order, so the exit always comes after the sockets.
  child.once('exit', (code, signal) => {
    send({ t: 'exit', id: req.id, code, signal }).catch(() => {})
  })
  Promise.all(
    stdio.map((socket, fd) => send({ t: 'stdio', id: req.id, pid, fd: fd as 0 | 1 | 2 }, socket)),
  ).catch((err) => {
    // Corral cannot have the child's input and output: it must not run unwatched.
    killGroup(pid)
    fail(req.id, err)
  })
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

process.on('message', (msg: unknown) => {
  const req = parseLaunchRequest(msg)
  if (req) launch(req)
})
process.on('disconnect', () => process.exit(0))
void send({ t: 'ready' }).catch(() => process.exit(0))
