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
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { closeSync } from 'node:fs'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import {
  parseLaunchRequest,
  type LaunchError,
  type LaunchRequest,
  type SpawnerMessage,
} from './core/spawner-protocol'
import { childGroupNice, niceAutogroup } from './core/child-weight'
import { ERRNO_NAMES, findPerl } from './core/perl'
import { openForChild } from './core/spool'

process.title = 'corral-spawner'

/**
 * On Linux, children are started in this program's session, each leading a process group of
 * its own, rather than each in a session of its own. With the kernel's autogroup scheduling
 * (on by default on desktop Linux) every session is a scheduling group weighing as much as a
 * whole application: 50 busy children, each its own session, left Corral's own process about
 * 1/51 of the CPU and its event loop waiting (B5 in `npm run bench`), and outweighed every
 * other application too. In one session they share one group's weight, as the jobs of one
 * terminal do; that group runs at a lower nice than an application's (`core/child-weight.ts`),
 * so that Corral itself gets the CPU when its children flood. Node starts a child in a group
 * of its own only with a new session, so the child is started through a few lines of Perl
 * that take a group of their own and exec the program (with the program's environment; Perl
 * itself runs with none, so no PERL5OPT or locale of the user's reaches it). Without Perl, or
 * with `CORRAL_SHARED_SESSION=0`, each child leads its own session as elsewhere.
 */
const PERL =
  process.platform === 'linux' && process.env.CORRAL_SHARED_SESSION !== '0' ? findPerl() : null
/**
 * The trampoline: sets the program's environment, takes a process group of its own and execs
 * the program. Whether that worked it says on fd 3, which closes at a successful exec: nothing
 * before the end means the program runs, else the errno of what failed (as a failed spawn says).
 */
const TRAMPOLINE = [
  'my $n = shift @ARGV;',
  '%ENV = ();',
  'for (1 .. $n) { my ($k, $v) = split /=/, shift(@ARGV), 2; $ENV{$k} = $v }',
  "open(my $st, '>&=', 3) or exit 126;",
  'fcntl($st, 2, 1);', // F_SETFD, FD_CLOEXEC
  'setpgrp(0, 0) and exec { $ARGV[0] } @ARGV;',
  'print $st 0 + $!;',
  'exit 127;',
].join(' ')

/**
 * What the trampoline says on fd 3 (see {@link TRAMPOLINE}): null once the program runs, else
 * why it could not start, as a failed spawn would say it.
 */
function execOutcome(status: Readable, file: string): Promise<LaunchError | null> {
  return new Promise((resolve) => {
    let said = ''
    status.setEncoding('utf8')
    status.on('data', (d: string) => (said += d))
    status.on('error', () => {})
    status.once('close', () => {
      if (said === '') return resolve(null)
      const code = ERRNO_NAMES.get(Number(said)) ?? 'ESPAWN'
      resolve({ code, message: `spawn ${file} ${code}` })
    })
  })
}

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
    const io: StdioOptions = fds ? ['pipe', fds[0], fds[1]] : ['pipe', 'pipe', 'pipe']
    // Own process group, so Corral's signals reach the whole tree; in this program's session
    // through Perl, else in a session of its own.
    child = PERL
      ? spawn(PERL, ['-e', TRAMPOLINE, '--', ...trampolineArgs(req)], {
          cwd: req.cwd,
          env: {},
          stdio: [...io, 'pipe'],
        })
      : spawn(req.file, req.args, { cwd: req.cwd, env: req.env, stdio: io, detached: true })
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
  // Through the trampoline, the child is Corral's once the program runs (in its own group).
  const outcome = PERL ? execOutcome(child.stdio[3] as Readable, req.file) : Promise.resolve(null)
  const detached = child as unknown as { stdin: null; stdout: null; stderr: null; stdio: null[] }
  detached.stdin = detached.stdout = detached.stderr = null
  detached.stdio = [null, null, null]
  // Messages are delivered in order, so the exit always comes after the sockets.
  child.once('exit', (code, signal) => {
    void outcome.then((err) => {
      if (!err) send({ t: 'exit', id: req.id, code, signal }).catch(() => {})
    })
  })
  void outcome.then((err) => {
    if (err) {
      for (const socket of stdio) socket?.destroy()
      fail(req.id, err)
      return
    }
    return Promise.all(
      stdio.map((socket, fd) => send({ t: 'stdio', id: req.id, pid, fd: fd as 0 | 1 | 2 }, socket)),
    ).catch((err) => {
      // Corral cannot have the child's input and output: it must not run unwatched.
      killGroup(pid)
      fail(req.id, err)
    })
  })
}

/** The trampoline's arguments: the count of environment entries, the entries, the command. */
function trampolineArgs(req: LaunchRequest): string[] {
  const env = Object.entries(req.env)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`)
  return [String(env.length), ...env, req.file, ...req.args]
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
// Children started through the trampoline share this program's session: their weight as a
// group (see core/child-weight.ts).
if (PERL) void niceAutogroup('self', childGroupNice())
void send({ t: 'ready' }).catch(() => process.exit(0))
